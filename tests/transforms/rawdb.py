"""Build raw tables the way the connector leaves them, without the connector.

`RawWarehouse(path).load(table, rows, load_id=...)` merges rows into
`tractian_raw.<table>` like dlt does (replace on the raw primary key), with the raw
contract's Arrow schema plus `_dlt_load_id` and `_dlt_id`, and records the load as
completed in `tractian_raw._dlt_loads`. Rows are dicts with any
subset of the contract columns (the rest are null; `connection_name` defaults to
"main").
"""

import uuid
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from sources.raw_schema import RAW_TABLES

DEFAULT_CONNECTION = "main"


def ts(text: str) -> datetime:
    """'2024-03-01 10:00' -> aware UTC datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def load_id_at(text: str) -> str:
    """A dlt-like load id (decimal Unix seconds) for the UTC moment `text`."""
    return f"{ts(text).timestamp():.6f}"


def arrow_rows(table: str, rows: list[dict], load_id: str) -> pa.Table:
    schema = RAW_TABLES[table].schema
    unknown = {key for row in rows for key in row} - set(schema.names)
    assert not unknown, f"not columns of {table}: {unknown}"
    columns = {}
    for field in schema:
        default = DEFAULT_CONNECTION if field.name == "connection_name" else None
        columns[field.name] = pa.array([row.get(field.name, default) for row in rows], field.type)
    columns["_dlt_load_id"] = pa.array([load_id] * len(rows), pa.string())
    columns["_dlt_id"] = pa.array([uuid.uuid4().hex[:14] for _ in rows], pa.string())
    return pa.table(columns)


def _record_load(conn: duckdb.DuckDBPyConnection, load_id: str) -> None:
    """Mark `load_id` completed in dlt's `_dlt_loads`, as dlt does at the end of a load."""
    conn.execute(
        "CREATE TABLE IF NOT EXISTS tractian_raw._dlt_loads (load_id VARCHAR, "
        "schema_name VARCHAR, status BIGINT, inserted_at TIMESTAMPTZ, "
        "schema_version_hash VARCHAR)"
    )
    conn.execute(
        "INSERT INTO tractian_raw._dlt_loads SELECT ?, 'tractian', 0, now(), NULL "
        "WHERE ? NOT IN (SELECT load_id FROM tractian_raw._dlt_loads)",
        [load_id, load_id],
    )


class RawWarehouse:
    """A warehouse file with raw tables written by hand."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self, table: str, rows: list[dict], load_id: str) -> None:
        """Merge `rows` on the raw primary key, as dlt's delete-insert does."""
        self._write(table, rows, load_id, replace=True)

    def append(self, table: str, rows: list[dict], load_id: str, *, completed: bool = True) -> None:
        """Append `rows` as the connector appends telemetry: a key already held is not
        replaced, so a slipped duplicate stays (what a resumed load can leave).
        `completed=False`: the package is not marked done (a sync killed mid-load)."""
        self._write(table, rows, load_id, replace=False, completed=completed)

    def _write(
        self, table: str, rows: list[dict], load_id: str, *, replace: bool, completed: bool = True
    ) -> None:
        key = RAW_TABLES[table].primary_key
        batch = arrow_rows(table, rows, load_id)
        conn = duckdb.connect(str(self.path))
        try:
            conn.execute("CREATE SCHEMA IF NOT EXISTS tractian_raw")
            conn.register("batch", batch)
            conn.execute(
                f"CREATE TABLE IF NOT EXISTS tractian_raw.{table} AS SELECT * FROM batch LIMIT 0"
            )
            if replace:
                match = " AND ".join(f't."{k}" = b."{k}"' for k in key)
                conn.execute(
                    f"DELETE FROM tractian_raw.{table} t WHERE EXISTS "
                    f"(SELECT 1 FROM batch b WHERE {match})"
                )
            conn.execute(f"INSERT INTO tractian_raw.{table} SELECT * FROM batch")
            if completed:
                _record_load(conn, load_id)
        finally:
            conn.close()

    def sql(self, query: str) -> list[tuple]:
        conn = duckdb.connect(str(self.path), read_only=True)
        try:
            return conn.sql(query).fetchall()
        finally:
            conn.close()
