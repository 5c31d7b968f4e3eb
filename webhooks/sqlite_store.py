"""SQLite files for the webhook inbox and outbox: durable, and never in the warehouse's way.

Each store is its own SQLite file in WAL mode, so readers (the Dagster sensor, `sqlite3`
on the command line) never block the writer and the DuckDB warehouse is never locked.
`synchronous=FULL` makes every commit fsync the WAL: a committed row survives a crash of
the process and of the machine. Timestamps are ISO 8601 UTC text with a fixed width, so
they read well in SQL and compare correctly as strings.
"""

import contextlib
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

_ISO_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def connect(path: Path | str, *, busy_timeout_s: float, schema: str) -> sqlite3.Connection:
    """Open (creating if needed) a WAL-mode SQLite file and apply `schema` (idempotent DDL).

    The connection is in autocommit mode; callers group writes with `transaction()`. It
    may be handed to another thread but must be used by one thread at a time.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(
        path, timeout=busy_timeout_s, isolation_level=None, check_same_thread=False
    )
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.executescript(schema)
    return conn


@contextlib.contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """`BEGIN IMMEDIATE` ... `COMMIT`; `ROLLBACK` if the block or the commit fails."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def to_iso(moment: datetime | float) -> str:
    """`2025-01-02T03:04:05.678901Z` for a datetime or a Unix time."""
    if not isinstance(moment, datetime):
        moment = datetime.fromtimestamp(moment, UTC)
    return moment.astimezone(UTC).strftime(_ISO_FORMAT)


def from_iso(text: str) -> datetime:
    """The aware UTC datetime of a timestamp written by `to_iso`."""
    return datetime.strptime(text, _ISO_FORMAT).replace(tzinfo=UTC)
