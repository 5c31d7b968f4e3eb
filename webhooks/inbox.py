"""The webhook inbox: verified events stored once per `webhook-id`, then handed on.

The receiver stores each event here before it answers 2xx; whoever processes events
(the Dagster sensor) reads them later, from another process, without blocking it:

    with Inbox(DEFAULT_INBOX_PATH) as inbox:
        events = inbox.pending(limit=100)           # oldest first, not yet processed
        ...                                         # act on event.event_type / event.payload
        inbox.mark_processed([e.webhook_id for e in events])

Delivery to the processor is at least once: an event stays pending until it is marked,
so a processor that crashes sees it again. An event the processor cannot use should be
marked with `error=` rather than left pending forever. Processed events are pruned
`DEDUPE_RETENTION_SECONDS` (72 h) after receipt; pending ones are never pruned. As long
as a row exists, a redelivery with its `webhook-id` is recognised as a duplicate.

SQL (`sqlite3 warehouse/webhooks_inbox.sqlite`): table `inbox_events`, timestamps as ISO
8601 UTC text, `body` the exact JSON text that was signed.
"""

import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from webhooks.settings import DEDUPE_RETENTION_SECONDS
from webhooks.sqlite_store import connect, from_iso, to_iso, transaction

SCHEMA = """
CREATE TABLE IF NOT EXISTS inbox_events (
    seq INTEGER PRIMARY KEY,
    webhook_id TEXT NOT NULL UNIQUE,
    webhook_timestamp INTEGER NOT NULL,
    event_type TEXT,
    body TEXT NOT NULL,
    received_at TEXT NOT NULL,
    processed_at TEXT,
    error TEXT
);
CREATE INDEX IF NOT EXISTS inbox_events_pending
    ON inbox_events (seq) WHERE processed_at IS NULL;
CREATE INDEX IF NOT EXISTS inbox_events_received ON inbox_events (received_at);
"""
# SQLite allows 32766 bound values per statement; 5 per row.
_ROWS_PER_STATEMENT = 1000
_COLUMNS = "webhook_id, webhook_timestamp, event_type, body, received_at, processed_at, error"


@dataclass(frozen=True)
class InboxEvent:
    """One verified webhook event as received."""

    webhook_id: str
    webhook_timestamp: int
    event_type: str | None
    body: str
    received_at: datetime
    processed_at: datetime | None = None
    error: str | None = None

    @property
    def payload(self) -> Any:
        """The parsed JSON body (`{"type", "timestamp", "data"}` for Standard Webhooks)."""
        return json.loads(self.body)


def _insert_values(event: InboxEvent) -> tuple:
    return (
        event.webhook_id,
        event.webhook_timestamp,
        event.event_type,
        event.body,
        to_iso(event.received_at),
    )


def _event_from_row(row: tuple) -> InboxEvent:
    webhook_id, webhook_timestamp, event_type, body, received_at, processed_at, error = row
    return InboxEvent(
        webhook_id=webhook_id,
        webhook_timestamp=webhook_timestamp,
        event_type=event_type,
        body=body,
        received_at=from_iso(received_at),
        processed_at=None if processed_at is None else from_iso(processed_at),
        error=error,
    )


class Inbox:
    """The inbox file. One `Inbox` per thread; any number of processes may open the file."""

    def __init__(self, path: Path | str, *, busy_timeout_s: float = 5.0) -> None:
        self.path = Path(path)
        self._conn = connect(self.path, busy_timeout_s=busy_timeout_s, schema=SCHEMA)

    def __enter__(self) -> "Inbox":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._conn.close()

    def store(self, events: Sequence[InboxEvent]) -> list[bool]:
        """Store `events` in one durable commit; per event, True if new, False if a duplicate.

        Raises `sqlite3.Error` when the commit fails, in which case nothing was stored.
        Few statements per batch on purpose: each one hands the GIL to the event loop
        and back, which costs far more than the SQL when the receiver is busy.
        """
        ids = [event.webhook_id for event in events]
        with transaction(self._conn) as conn:
            seen = set()
            for start in range(0, len(events), _ROWS_PER_STATEMENT):
                chunk = events[start : start + _ROWS_PER_STATEMENT]
                seen |= self._existing(conn, ids[start : start + _ROWS_PER_STATEMENT])
                conn.execute(
                    f"INSERT INTO inbox_events ({_COLUMNS}) VALUES "
                    + ", ".join(["(?, ?, ?, ?, ?, NULL, NULL)"] * len(chunk))
                    + " ON CONFLICT (webhook_id) DO NOTHING",
                    [value for event in chunk for value in _insert_values(event)],
                )
        is_new = []
        for webhook_id in ids:
            is_new.append(webhook_id not in seen)
            seen.add(webhook_id)
        return is_new

    @staticmethod
    def _existing(conn: sqlite3.Connection, ids: list[str]) -> set[str]:
        placeholders = ", ".join("?" * len(ids))
        rows = conn.execute(
            f"SELECT webhook_id FROM inbox_events WHERE webhook_id IN ({placeholders})", ids
        )
        return {row[0] for row in rows}

    def pending(self, limit: int = 100) -> list[InboxEvent]:
        """Up to `limit` events not yet marked processed, oldest first."""
        rows = self._conn.execute(
            f"SELECT {_COLUMNS} FROM inbox_events WHERE processed_at IS NULL ORDER BY seq LIMIT ?",
            (limit,),
        ).fetchall()
        return [_event_from_row(row) for row in rows]

    def mark_processed(
        self, webhook_ids: Iterable[str], *, error: str | None = None, now: datetime | None = None
    ) -> int:
        """Mark events processed (with `error` if they could not be used); how many changed."""
        stamp = to_iso(now or datetime.now(UTC))
        with transaction(self._conn) as conn:
            return sum(
                conn.execute(
                    "UPDATE inbox_events SET processed_at = ?, error = ?"
                    " WHERE webhook_id = ? AND processed_at IS NULL",
                    (stamp, error, webhook_id),
                ).rowcount
                for webhook_id in webhook_ids
            )

    def recent(self, limit: int = 20, *, pending_only: bool = False) -> list[InboxEvent]:
        """The `limit` most recently received events, newest first."""
        where = "WHERE processed_at IS NULL" if pending_only else ""
        rows = self._conn.execute(
            f"SELECT {_COLUMNS} FROM inbox_events {where} ORDER BY seq DESC LIMIT ?", (limit,)
        ).fetchall()
        return [_event_from_row(row) for row in rows]

    def get(self, webhook_id: str) -> InboxEvent | None:
        row = self._conn.execute(
            f"SELECT {_COLUMNS} FROM inbox_events WHERE webhook_id = ?", (webhook_id,)
        ).fetchone()
        return None if row is None else _event_from_row(row)

    def prune(
        self, now: datetime | None = None, retention_s: float = DEDUPE_RETENTION_SECONDS
    ) -> int:
        """Delete processed events received more than `retention_s` ago; how many went."""
        cutoff = to_iso((now or datetime.now(UTC)) - timedelta(seconds=retention_s))
        with transaction(self._conn) as conn:
            return conn.execute(
                "DELETE FROM inbox_events WHERE processed_at IS NOT NULL AND received_at < ?",
                (cutoff,),
            ).rowcount
