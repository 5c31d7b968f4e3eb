"""The notification outbox: events waiting to be delivered, and the log of every attempt.

One SQLite file (WAL, fsync on commit). An event is written here before any attempt to
send it, so nothing is lost if the process dies; it stays after delivery (`delivered`)
and after giving up (`failed`). `deliveries` has one row per attempt; the view
`delivery_log` adds the event's type and status. Timestamps are ISO 8601 UTC text.

    SELECT event_type, attempt, status_code, error, latency_ms FROM delivery_log
    WHERE attempted_at >= '2025-01-01' ORDER BY attempted_at;
"""

from dataclasses import dataclass
from pathlib import Path

from webhooks.sqlite_store import connect, from_iso, to_iso, transaction

PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"

SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    event_id TEXT PRIMARY KEY,
    event_type TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT,
    finished_at TEXT,
    last_error TEXT
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (next_attempt_at) WHERE status = 'pending';
CREATE TABLE IF NOT EXISTS deliveries (
    event_id TEXT NOT NULL REFERENCES outbox (event_id),
    attempt INTEGER NOT NULL,
    attempted_at TEXT NOT NULL,
    status_code INTEGER,
    error TEXT,
    latency_ms REAL NOT NULL,
    PRIMARY KEY (event_id, attempt)
);
CREATE VIEW IF NOT EXISTS delivery_log AS
    SELECT d.event_id, o.event_type, d.attempt, d.attempted_at, d.status_code, d.error,
           d.latency_ms, o.status AS event_status
    FROM deliveries AS d JOIN outbox AS o USING (event_id);
"""
_EVENT_COLUMNS = "event_id, event_type, body, created_at, status, attempts, next_attempt_at"


@dataclass(frozen=True)
class OutboxEvent:
    """An event to deliver; times are Unix seconds."""

    event_id: str
    event_type: str
    body: str
    created_at: float
    status: str
    attempts: int
    next_attempt_at: float | None


@dataclass(frozen=True)
class DeliveryAttempt:
    """One try at delivering an event: `status_code` None when no response came back."""

    event_id: str
    attempt: int
    attempted_at: float
    status_code: int | None
    error: str | None
    latency_ms: float

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def _optional_time(text: str | None) -> float | None:
    return None if text is None else from_iso(text).timestamp()


def _event_from_row(row: tuple) -> OutboxEvent:
    event_id, event_type, body, created_at, status, attempts, next_attempt_at = row
    return OutboxEvent(
        event_id=event_id,
        event_type=event_type,
        body=body,
        created_at=from_iso(created_at).timestamp(),
        status=status,
        attempts=attempts,
        next_attempt_at=_optional_time(next_attempt_at),
    )


class Outbox:
    """The outbox file. One `Outbox` per thread; several processes may share the file."""

    def __init__(self, path: Path | str, *, busy_timeout_s: float = 5.0) -> None:
        self.path = Path(path)
        self._conn = connect(self.path, busy_timeout_s=busy_timeout_s, schema=SCHEMA)

    def __enter__(self) -> "Outbox":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._conn.close()

    def enqueue(
        self, event_id: str, event_type: str, body: str, now: float, first_attempt_at: float
    ) -> None:
        """Store a new pending event, first due at `first_attempt_at`."""
        with transaction(self._conn) as conn:
            conn.execute(
                f"INSERT INTO outbox ({_EVENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, 0, ?)",
                (event_id, event_type, body, to_iso(now), PENDING, to_iso(first_attempt_at)),
            )

    def claim_due(self, now: float, lease_until: float, limit: int) -> list[OutboxEvent]:
        """Pending events due by `now`, oldest first, moved to `lease_until` so that no
        other deliverer takes them meanwhile (if this one dies, they come due again)."""
        with transaction(self._conn) as conn:
            rows = conn.execute(
                "UPDATE outbox SET next_attempt_at = ? WHERE event_id IN ("
                "  SELECT event_id FROM outbox WHERE status = ? AND next_attempt_at <= ?"
                "  ORDER BY next_attempt_at LIMIT ?)"
                f" RETURNING {_EVENT_COLUMNS}",
                (to_iso(lease_until), PENDING, to_iso(now), limit),
            ).fetchall()
        return sorted((_event_from_row(row) for row in rows), key=lambda e: e.created_at)

    def record_attempt(self, attempt: DeliveryAttempt, next_attempt_at: float | None) -> str:
        """Log `attempt` and move its event on: delivered, due again at `next_attempt_at`,
        or failed when there is no next attempt. Returns the event's new status."""
        if attempt.succeeded:
            status = DELIVERED
        else:
            status = PENDING if next_attempt_at is not None else FAILED
        finished = None if status == PENDING else to_iso(attempt.attempted_at)
        next_at = None if status != PENDING else to_iso(next_attempt_at)
        error = attempt.error or (None if attempt.succeeded else f"HTTP {attempt.status_code}")
        with transaction(self._conn) as conn:
            conn.execute(
                "INSERT INTO deliveries VALUES (?, ?, ?, ?, ?, ?)",
                (
                    attempt.event_id,
                    attempt.attempt,
                    to_iso(attempt.attempted_at),
                    attempt.status_code,
                    attempt.error,
                    attempt.latency_ms,
                ),
            )
            conn.execute(
                "UPDATE outbox SET status = ?, attempts = ?, next_attempt_at = ?,"
                " finished_at = ?, last_error = ? WHERE event_id = ?",
                (status, attempt.attempt, next_at, finished, error, attempt.event_id),
            )
        return status

    def get(self, event_id: str) -> OutboxEvent | None:
        row = self._conn.execute(
            f"SELECT {_EVENT_COLUMNS} FROM outbox WHERE event_id = ?", (event_id,)
        ).fetchone()
        return None if row is None else _event_from_row(row)

    def attempts(self, event_id: str) -> list[DeliveryAttempt]:
        """The logged attempts at delivering `event_id`, first first."""
        rows = self._conn.execute(
            "SELECT event_id, attempt, attempted_at, status_code, error, latency_ms"
            " FROM deliveries WHERE event_id = ? ORDER BY attempt",
            (event_id,),
        ).fetchall()
        return [
            DeliveryAttempt(row[0], row[1], from_iso(row[2]).timestamp(), *row[3:]) for row in rows
        ]

    def counts(self) -> dict[str, int]:
        """Events per status."""
        rows = self._conn.execute("SELECT status, count(*) FROM outbox GROUP BY status")
        return {PENDING: 0, DELIVERED: 0, FAILED: 0} | dict(rows.fetchall())
