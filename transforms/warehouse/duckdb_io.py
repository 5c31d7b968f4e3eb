"""DuckDB reads and writes shared by the warehouse steps of this layer.

Raw rows are read with their contract columns (a column dlt did not create reads as
null), NaN readings become null, and rows are deduplicated on the business key keeping
the most recently loaded one (ties: the first connection name). Tables are written
from polars frames through Arrow; `partition_filter` selects (asset_id, UTC day)
partitions of the partitioned tables.
"""

import ctypes
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import polars as pl

from transforms.models import table_schema
from transforms.raw import LOAD_ID, RawTable
from transforms.tables import PARTITION_COLUMN, SCHEMAS


class RawTableError(ValueError):
    """A raw table's columns cannot be read with the raw contract's types."""


# The warehouse: a DuckDB file, or an open connection whose current database is the
# warehouse (a DuckLake attached by the caller).
Target = Path | duckdb.DuckDBPyConnection


# DuckDB's own memory (its cache of the file's blocks, joins, sorts) in a transform: it
# spills to disk beyond. Unbounded, it caches up to 80 % of RAM, and a full rebuild that
# reads every block of the raw tables grows with history (bench/ B7).
MEMORY_LIMIT = "128MB"


def connect(db_path: Path, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """A connection to the warehouse file whose session time zone is UTC."""
    if not read_only:
        db_path.parent.mkdir(parents=True, exist_ok=True)
    config = {"memory_limit": MEMORY_LIMIT}
    return _session(duckdb.connect(str(db_path), read_only=read_only, config=config))


def _glibc_malloc_trim() -> Callable[[int], int] | None:
    try:
        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not Linux with glibc
        return None


_MALLOC_TRIM = _glibc_malloc_trim()


def release_freed_memory() -> None:
    """Give the heap memory freed since (a batch's buffers, DuckDB's and Arrow's) back to
    the system. glibc keeps it otherwise, and a full rebuild's peak RSS grew with its
    number of batches, so with the history: 831 -> 1,035 MB from 1/4 to 4 times B1's
    span, 800 -> 883 MB with this after every batch (bench/ B7). A no-op without glibc."""
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)


def _session(conn: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    conn.execute("SET TimeZone = 'UTC'")  # days are UTC days
    conn.execute("SET preserve_insertion_order = false")
    conn.execute("SET enable_progress_bar = false")
    return conn


@contextmanager
def opened(target: Target, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection on `target`: the file opened (and closed after), or the caller's
    connection set up the same way (and left open)."""
    if isinstance(target, duckdb.DuckDBPyConnection):
        yield _session(target)
        return
    conn = connect(target, read_only=read_only)
    try:
        yield conn
    finally:
        conn.close()


@contextmanager
def second_connection(conn: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """Another connection to `conn`'s database, set up the same way (its current
    database too: a DuckLake), for another thread: a connection must not serve two
    threads at once. It sees what `conn` has committed, nothing of its open transaction.
    """
    database = conn.sql("SELECT current_database()").fetchall()[0][0]
    other = _session(conn.cursor())
    try:
        other.execute(f'USE "{database}"')
        yield other
    finally:
        other.close()


def ensure_schemas(conn: duckdb.DuckDBPyConnection) -> None:
    for schema in SCHEMAS:
        conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")


def _columns(conn: duckdb.DuckDBPyConnection, qualified: str) -> list[str] | None:
    """The columns of table `qualified` (in the current database); None when there is
    none.

    A catalog lookup: querying duckdb_columns() took 3 to 5 ms, and a run asks about
    forty times. A missing table raises before anything runs, so it does not abort an
    open transaction."""
    try:
        return conn.table(qualified).columns
    except duckdb.CatalogException:
        return None


def table_exists(conn: duckdb.DuckDBPyConnection, qualified: str) -> bool:
    return _columns(conn, qualified) is not None


def raw_columns(conn: duckdb.DuckDBPyConnection, table: RawTable) -> set[str] | None:
    """The columns the raw table has in the warehouse; None when it does not exist."""
    columns = _columns(conn, table.qualified)
    return set(columns) if columns is not None else None


@contextmanager
def registered(conn: duckdb.DuckDBPyConnection, **frames: pl.DataFrame) -> Iterator[None]:
    """Frames visible to SQL under the given names for the duration of the block."""
    names: list[str] = []
    try:
        for name, frame in frames.items():
            conn.register(name, frame.to_arrow())  # Arrow scans faster than a polars frame
            names.append(name)
        yield
    finally:
        for name in names:
            conn.unregister(name)


def select_raw_sql(table: RawTable, existing: set[str]) -> str:
    """SELECT of the contract columns plus the load id; absent ones as typed nulls."""
    items = [
        f'r."{c}"' if c in existing else f'CAST(NULL AS {type_}) AS "{c}"'
        for c, type_ in table.columns.items()
    ]
    items.append(f"r.{LOAD_ID}" if LOAD_ID in existing else f"CAST(NULL AS VARCHAR) AS {LOAD_ID}")
    return f"SELECT {', '.join(items)} FROM {table.qualified} r"


def read_raw(
    conn: duckdb.DuckDBPyConnection, table: RawTable, where: str = "", **frames: pl.DataFrame
) -> pl.DataFrame:
    """Deduplicated raw rows of `table` matching `where` (SQL over alias r and `frames`)."""
    existing = raw_columns(conn, table)
    if existing is None:
        return pl.DataFrame(schema=table.polars_schema)
    sql = select_raw_sql(table, existing) + (f" WHERE {where}" if where else "")
    with registered(conn, **frames):
        frame = fetch(conn, sql)
    try:
        frame = frame.cast(table.polars_schema)
    except pl.exceptions.PolarsError as exc:
        first_line = str(exc).strip().splitlines()[0]
        message = f"{table.qualified} does not match the raw contract: {first_line}"
        raise RawTableError(message) from None
    return dedupe_latest(_nan_as_null(frame), table.business_key)


def _nan_as_null(frame: pl.DataFrame) -> pl.DataFrame:
    """NaN readings as null; only the columns holding a NaN are rewritten (no copy of a
    batch without any)."""
    floats = frame.select(pl.col(pl.Float64).is_nan().any())
    with_nan = [column.name for column in floats.iter_columns() if column.item()]
    return frame.with_columns(pl.col(with_nan).fill_nan(None)) if with_nan else frame


def dedupe_latest(frame: pl.DataFrame, key: tuple[str, ...]) -> pl.DataFrame:
    """One row per business key: the latest `_dlt_load_id`, then the first connection.

    Two connections may load the same key; one connection's appended telemetry may hold
    a key twice (a load resumed after a kill, before its repair). Uniqueness is checked,
    never assumed: a frame already unique on `key` is returned as it is, without sorting.
    """
    if frame.height == 0 or frame.select(list(key)).n_unique() == frame.height:
        return frame
    return frame.sort(
        [LOAD_ID, "connection_name"], descending=[True, False], nulls_last=True
    ).unique(subset=list(key), keep="first", maintain_order=True)


def create_table(conn: duckdb.DuckDBPyConnection, name: str, as_name: str | None = None) -> None:
    """(Re)create table `name` (or `as_name`) empty, with `name`'s model's columns."""
    write_table(conn, as_name or name, pl.DataFrame(schema=table_schema(name)))


def write_table(conn: duckdb.DuckDBPyConnection, name: str, frame: pl.DataFrame) -> None:
    """Replace table `name` by `frame` (already conformed to the table's schema)."""
    with registered(conn, _frame=frame):
        conn.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM _frame")


def insert(conn: duckdb.DuckDBPyConnection, name: str, frame: pl.DataFrame) -> None:
    if frame.is_empty():
        return
    with registered(conn, _frame=frame):
        conn.execute(f"INSERT INTO {name} BY NAME SELECT * FROM _frame")


US_PER_DAY = 86_400_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def day_number(column: str) -> str:
    """SQL for the UTC day of `column` as days since 1970-01-01.

    Integer arithmetic on the epoch: casting a TIMESTAMPTZ to DATE goes through the time
    zone library and is ten times slower over millions of rows.
    """
    if column == "day":
        return f"({column} - DATE '1970-01-01')"
    return f"CAST(fdiv(epoch_us({column}), {US_PER_DAY}) AS BIGINT)"


def partition_filter(column: str, parts: pl.DataFrame, alias: str = "") -> str:
    """SQL true for rows in `parts` (registered as `_parts`, see `parts_frames`).

    The constant time range in front lets DuckDB skip row groups and avoid reading the
    other columns of rows outside it, before the (asset_id, day) membership test.
    """
    prefix = f"{alias}." if alias else ""
    target = f"{prefix}{column}"
    first, last = parts["day"].min(), parts["day"].max()
    if first is None:
        return "FALSE"
    if column == "day":
        bounds = f"{target} BETWEEN DATE '{first}' AND DATE '{last}'"
    else:
        start, end = f"'{first} 00:00:00+00'", f"'{last + timedelta(days=1)} 00:00:00+00'"
        bounds = f"{target} >= TIMESTAMPTZ {start} AND {target} < TIMESTAMPTZ {end}"
    membership = (
        f"({prefix}asset_id, {day_number(target)}) IN (SELECT asset_id, day_number FROM _parts)"
    )
    return f"{bounds} AND {membership}"


def parts_frames(parts: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """The frames to register for `partition_filter`: `_parts` (asset_id, day, day_number)."""
    return {"_parts": parts.with_columns(pl.col("day").cast(pl.Int64).alias("day_number"))}


def delete_partitions(conn: duckdb.DuckDBPyConnection, name: str, parts: pl.DataFrame) -> None:
    """Delete the rows of partitioned table `name` that fall in `parts` (asset_id, day)."""
    with registered(conn, **parts_frames(parts)):
        conn.execute(f"DELETE FROM {name} WHERE {partition_filter(PARTITION_COLUMN[name], parts)}")


def asset_batches(
    conn: duckdb.DuckDBPyConnection,
    relation: str,
    where: str,
    batch_rows: int,
    **frames: pl.DataFrame,
) -> Iterator[pl.DataFrame]:
    """Frames of asset ids (column asset_id) whose rows in `relation` matching `where`
    add up to about `batch_rows` each; an asset is never split."""
    condition = f"WHERE {where}" if where else ""
    sql = f"SELECT asset_id, count(*) AS n FROM {relation} {condition} GROUP BY asset_id"
    with registered(conn, **frames):
        counts = fetch(conn, sql).sort("asset_id", nulls_last=True)
    for batch in _runs(counts, batch_rows):
        yield batch.select("asset_id")


def _runs(counts: pl.DataFrame, batch_rows: int) -> list[pl.DataFrame]:
    """Consecutive runs of `counts` rows whose `n` add up to about `batch_rows` each."""
    numbered = counts.with_columns(((pl.col("n").cum_sum() - pl.col("n")) // batch_rows).alias("b"))
    return numbered.partition_by("b", maintain_order=True)


def time_slices(
    conn: duckdb.DuckDBPyConnection, relation: str, column: str, batch_rows: int
) -> Iterator[str]:
    """WHERE clauses (over `relation`'s alias r) cutting its rows into batches of about
    `batch_rows`, oldest UTC day of `column` first: runs of whole days, or, for a day
    bigger than that alone, runs of whole assets within the day. An (asset_id, day)
    partition is never split, so a batch's memory grows with neither the history nor
    the fleet.

    Each clause is made of constant ranges (time, then asset), so that DuckDB skips the
    row groups outside them; rows with no time or no asset come in batches of their own.
    """
    sql = (
        f"SELECT {day_number(f'r.{column}')} AS day_number, r.asset_id, count(*) AS n "
        f"FROM {relation} r GROUP BY ALL"
    )
    counts = fetch(conn, sql)
    if counts["day_number"].null_count():
        yield f"r.{column} IS NULL"
    if counts.filter(pl.col("day_number").is_not_null())["asset_id"].null_count():
        yield f"r.{column} IS NOT NULL AND r.asset_id IS NULL"
    counts = counts.drop_nulls(["day_number", "asset_id"])
    days = counts.group_by("day_number").agg(pl.col("n").sum()).sort("day_number")
    pending: list[int] = []  # a run of whole days, oldest first
    pending_rows = 0
    for day, n in days.iter_rows():
        if pending and (n > batch_rows or pending_rows + n > batch_rows):
            yield _time_range(column, pending[0], pending[-1])
            pending, pending_rows = [], 0
        if n <= batch_rows:
            pending.append(day)
            pending_rows += n
            continue
        assets = counts.filter(pl.col("day_number") == day).sort("asset_id")
        for run in _runs(assets, batch_rows):
            first, last = (sql_string(run["asset_id"][i]) for i in (0, -1))
            yield f"{_time_range(column, day, day)} AND r.asset_id BETWEEN {first} AND {last}"
    if pending:
        yield _time_range(column, pending[0], pending[-1])


def _time_range(column: str, first_day: int, last_day: int) -> str:
    start = _EPOCH + timedelta(days=first_day)
    end = _EPOCH + timedelta(days=last_day + 1)
    return (
        f"r.{column} >= TIMESTAMPTZ '{start.isoformat()}' "
        f"AND r.{column} < TIMESTAMPTZ '{end.isoformat()}'"
    )


def sql_string(text: str) -> str:
    """`text` as a SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


FETCH_BATCH_ROWS = 122_880


def fetch(conn: duckdb.DuckDBPyConnection, sql: str) -> pl.DataFrame:
    """The result of `sql` as a polars frame (through Arrow: faster than `.pl()`), with
    aware timestamps in UTC whatever the session's time zone."""
    # Streamed in batches: DuckDB does not hold the whole result besides the Arrow copy.
    batches = conn.sql(sql).to_arrow_reader(FETCH_BATCH_ROWS).read_all()
    frame = pl.from_arrow(batches, rechunk=False)
    aware = [n for n, t in frame.schema.items() if isinstance(t, pl.Datetime) and t.time_zone]
    return frame.with_columns(pl.col(aware).dt.convert_time_zone("UTC")) if aware else frame


def read_table(conn: duckdb.DuckDBPyConnection, name: str, where: str = "") -> pl.DataFrame:
    return fetch(conn, f"SELECT * FROM {name}" + (f" WHERE {where}" if where else ""))
