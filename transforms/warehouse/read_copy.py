"""The read copy: a DuckDB file readers can open while syncs write the warehouse.

DuckDB lets one process hold a file read-write and then nobody else may open it, not
even to read. So readers (notebooks, the DuckDB CLI, SQL tools) never open the
warehouse: after every successful transform the schemas clean, marts and quarantine
are published to `<warehouse>_read.duckdb`, replaced atomically with `os.replace`.

- A reader's open connection keeps the file it opened (the old inode) and keeps
  querying it; a new connection sees the new file. The writer never opens the published
  file, so an open reader, even a read-write one, cannot make a transform fail.
- The file is written with storage compatibility v1.0.0, so DuckDB 1.x tools open it.
- To stay cheap, a private base copy (`.<name>.base.duckdb`, never opened by readers)
  is updated in place with just the rows the run rewrote, then copied to a
  temporary file next to the target and renamed over it. If the base is missing or
  is not at the previous run, it is rebuilt from scratch.
- A stale `.wal` of the published name is removed after the swap: it belongs to an
  old copy (someone opened it read-write) and would make the new one fail to open.
Atomic replacement needs POSIX rename semantics (Linux, macOS).
"""

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb

from transforms.tables import RUNS, SCHEMAS, STAGE_SUFFIX
from transforms.warehouse.duckdb_io import registered
from transforms.warehouse.row_sets import RowSet

STORAGE_VERSION = "v1.0.0"
_ALIAS = "read_copy"


@dataclass(frozen=True)
class Changes:
    """What a run changed: the rows it rewrote per table (`NO_ROWS`: none; a table not
    listed: all of it)."""

    run_id: int
    previous_run_id: int | None
    rows: dict[str, RowSet]  # qualified table -> its rewritten rows


def default_read_copy(db_path: Path) -> Path:
    """`warehouse/tractian.duckdb` -> `warehouse/tractian_read.duckdb`."""
    return db_path.with_name(f"{db_path.stem}_read{db_path.suffix or '.duckdb'}")


def _base_path(target: Path) -> Path:
    return target.with_name(f".{target.stem}.base{target.suffix}")


def _tables(conn: duckdb.DuckDBPyConnection, database: str | None = None) -> list[str]:
    """The tables to publish (stage tables of an interrupted full rebuild excluded)."""
    schemas = ", ".join(f"'{s}'" for s in SCHEMAS)
    db = f"'{database}'" if database else "current_database()"
    rows = conn.sql(
        "SELECT schema_name || '.' || table_name FROM duckdb_tables() "
        f"WHERE schema_name IN ({schemas}) AND database_name = {db} "
        f"AND NOT ends_with(table_name, '{STAGE_SUFFIX}')"
    )
    return sorted(r[0] for r in rows.fetchall())


def _base_run_id(conn: duckdb.DuckDBPyConnection, base: Path) -> int | None:
    if not base.exists():
        return None
    try:
        conn.execute(f"ATTACH '{base}' AS {_ALIAS} (READ_ONLY)")
        try:
            rows = conn.sql(f"SELECT max(run_id) FROM {_ALIAS}.{RUNS}").fetchall()
        finally:
            conn.execute(f"DETACH {_ALIAS}")
    except duckdb.Error:
        return None
    return rows[0][0]


def _rebuild_base(conn: duckdb.DuckDBPyConnection, base: Path) -> None:
    fresh = base.with_name(base.name + ".tmp")
    fresh.unlink(missing_ok=True)
    conn.execute(f"ATTACH '{fresh}' AS {_ALIAS} (STORAGE_VERSION '{STORAGE_VERSION}')")
    try:
        for schema in SCHEMAS:
            conn.execute(f"CREATE SCHEMA {_ALIAS}.{schema}")
        for table in _tables(conn):
            conn.execute(f"CREATE TABLE {_ALIAS}.{table} AS SELECT * FROM {table}")
    finally:
        conn.execute(f"DETACH {_ALIAS}")
    os.replace(fresh, base)


def _update_base(conn: duckdb.DuckDBPyConnection, base: Path, changes: Changes) -> None:
    """Bring the base from the previous run to this one, in one transaction."""
    conn.execute(f"ATTACH '{base}' AS {_ALIAS}")
    try:
        conn.execute("BEGIN")
        current, published = _tables(conn), set(_tables(conn, _ALIAS))
        for table in published - set(current):
            conn.execute(f"DROP TABLE {_ALIAS}.{table}")
        for table in current:
            rows = changes.rows.get(table)
            if rows is None or table not in published:
                conn.execute(f"CREATE OR REPLACE TABLE {_ALIAS}.{table} AS SELECT * FROM {table}")
            else:
                _copy_rows(conn, table, rows)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    finally:
        conn.execute(f"DETACH {_ALIAS}")


def _copy_rows(conn: duckdb.DuckDBPyConnection, table: str, rows: RowSet) -> None:
    with registered(conn, **rows.frames()):
        conn.execute(f"DELETE FROM {_ALIAS}.{table} WHERE {rows.where()}")
        conn.execute(f"INSERT INTO {_ALIAS}.{table} SELECT * FROM {table} WHERE {rows.where()}")


def _swap_in(base: Path, target: Path) -> None:
    """Copy `base` to a temporary file beside `target`, flush it, rename it over `target`."""
    fresh = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    shutil.copyfile(base, fresh)
    with open(fresh, "rb+") as handle:
        os.fsync(handle.fileno())
    os.replace(fresh, target)
    Path(f"{target}.wal").unlink(missing_ok=True)
    directory = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def publish_read_copy(
    conn: duckdb.DuckDBPyConnection, target: Path, changes: Changes | None = None
) -> Path:
    """Publish clean, marts and quarantine of `conn`'s warehouse to `target`.

    `changes` lets the base copy be updated incrementally; None rebuilds it.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    base = _base_path(target)
    incremental = changes is not None and changes.previous_run_id is not None
    if incremental and _base_run_id(conn, base) == changes.previous_run_id:
        _update_base(conn, base, changes)
    else:
        _rebuild_base(conn, base)
    _swap_in(base, target)
    return target


def read_copy_run_id(conn: duckdb.DuckDBPyConnection, target: Path) -> int | None:
    """The run the base copy behind `target` reflects (None if absent or unreadable)."""
    if not target.exists():
        return None
    return _base_run_id(conn, _base_path(target))
