"""The recorded health of each connection, shared by every sensor and schedule.

One small SQLite file (WAL; next to the webhook inbox) holds, per connection, the last
status seen (`online`, `offline`, `reauthorization_required`, `invalid_token`), when it
changed, and the API's `connectionId` (webhook events name that id, not our name).

Three sensors can see the same change (the health probe, a failed run, a webhook
event); `record` compares and updates in one `BEGIN IMMEDIATE` transaction and runs the
caller's `on_change` inside it, so exactly one of them alerts per transition. Schedules
read `needing_attention()` and leave those connections alone until they recover.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from webhooks.sqlite_store import connect, from_iso, to_iso, transaction

ONLINE, OFFLINE = "online", "offline"
REAUTHORIZATION_REQUIRED, INVALID_TOKEN = "reauthorization_required", "invalid_token"
MISCONFIGURED = "misconfigured"  # its configuration cannot work (no token, no companies)
STATUSES = frozenset({ONLINE, OFFLINE, REAUTHORIZATION_REQUIRED, INVALID_TOKEN, MISCONFIGURED})
# A person must act before these connections can sync again.
NEEDS_ATTENTION = frozenset({REAUTHORIZATION_REQUIRED, INVALID_TOKEN, MISCONFIGURED})

SCHEMA = """
CREATE TABLE IF NOT EXISTS connection_status (
    connection TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '',
    changed_at TEXT NOT NULL,
    checked_at TEXT NOT NULL,
    api_connection_id TEXT
);
"""


@dataclass(frozen=True)
class ConnectionState:
    connection: str
    status: str
    detail: str
    changed_at: datetime
    checked_at: datetime
    api_connection_id: str | None = None

    @property
    def needs_attention(self) -> bool:
        return self.status in NEEDS_ATTENTION


# Called inside the transaction with (previous state or None, new state); raising rolls
# the change back, so the transition is seen again on the next tick.
OnChange = Callable[[ConnectionState | None, ConnectionState], None]


def _state(row: tuple) -> ConnectionState:
    connection, status, detail, changed_at, checked_at, api_id = row
    return ConnectionState(
        connection, status, detail, from_iso(changed_at), from_iso(checked_at), api_id
    )


class ConnectionStatusStore:
    """The status file; open one per sensor tick (several processes may share it)."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._conn = connect(self.path, busy_timeout_s=10.0, schema=SCHEMA)

    def __enter__(self) -> "ConnectionStatusStore":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._conn.close()

    def all(self) -> dict[str, ConnectionState]:
        rows = self._conn.execute("SELECT * FROM connection_status ORDER BY connection")
        return {state.connection: state for state in map(_state, rows.fetchall())}

    def get(self, connection: str) -> ConnectionState | None:
        row = self._conn.execute(
            "SELECT * FROM connection_status WHERE connection = ?", (connection,)
        ).fetchone()
        return None if row is None else _state(row)

    def needing_attention(self) -> set[str]:
        return {name for name, state in self.all().items() if state.needs_attention}

    def name_for(self, api_connection_id: str) -> str | None:
        """Our name of the connection the API calls `api_connection_id`, once seen."""
        row = self._conn.execute(
            "SELECT connection FROM connection_status WHERE api_connection_id = ?",
            (api_connection_id,),
        ).fetchone()
        return None if row is None else row[0]

    def record(
        self,
        connection: str,
        status: str,
        *,
        detail: str = "",
        api_connection_id: str | None = None,
        on_change: OnChange | None = None,
        now: datetime | None = None,
    ) -> bool:
        """Record `status`; True (after `on_change` ran) when it differs from the last one."""
        if status not in STATUSES:
            raise ValueError(f"unknown connection status {status!r}")
        stamp = to_iso(now or datetime.now(UTC))
        with transaction(self._conn) as conn:
            row = conn.execute(
                "SELECT * FROM connection_status WHERE connection = ?", (connection,)
            ).fetchone()
            previous = None if row is None else _state(row)
            changed = previous is None or previous.status != status
            api_id = api_connection_id or (previous.api_connection_id if previous else None)
            changed_at = stamp if changed else to_iso(previous.changed_at)
            conn.execute(
                "INSERT OR REPLACE INTO connection_status VALUES (?, ?, ?, ?, ?, ?)",
                (connection, status, detail, changed_at, stamp, api_id),
            )
            if changed and on_change is not None:
                current = ConnectionState(
                    connection, status, detail, from_iso(changed_at), from_iso(stamp), api_id
                )
                on_change(previous, current)
        return changed
