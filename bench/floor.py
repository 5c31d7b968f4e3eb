"""Contender (b), the floor: the connector's telemetry requests, written as simply as
possible, without dlt.

The same client, windows and concurrency as the connector; each body goes from `orjson`
to an Arrow table, batches of about 100k rows go to DuckDB in one statement each: an
INSERT into a table this connection has no rows in yet, a MERGE on the key otherwise.
Committed window ends live in a small state table, and what probes found (on the
published API, whose assets carry no sensor type) in another: a later sync probes no
more than the connector does. No retries beyond the client's, no partial-failure
bookkeeping: it shows what moving the bytes costs, nothing more.
"""

from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pyarrow as pa

from bench.columns import Stream, fetch_all, flatten, fleet, window
from sources import raw_schema as rs
from sources import settings
from sources.client import TractianClient, iso8601
from sources.telemetry_streams import Window

# DuckDB's row group: inserting whole row groups costs about half as much as 100k-row
# batches, which leave a partial row group for the next insert to reopen (measured).
BATCH_ROWS = 122_880
STATE = f"{rs.DATASET}.floor_state"
MEMORY = f"{rs.DATASET}.floor_sensor_types"  # the probe memory, as the connector keeps it


def to_arrow(stream: Stream, body: dict[str, Any]) -> pa.Table:
    values = dict(flatten(body)) | stream.fixed
    n = len(values["sampled_at"])
    arrays = [_array(values.get(f.name), f.type, n) for f in stream.table.schema]
    return pa.Table.from_arrays(arrays, schema=stream.table.schema)


def _array(value: Any, type_: pa.DataType, n: int) -> pa.Array:
    if value is None:
        return pa.nulls(n, type_)
    if isinstance(value, str):
        return pa.repeat(value, n)
    if pa.types.is_timestamp(type_):
        return pa.array(value, pa.string()).cast(type_)
    return pa.array(value, type_)


def _fetched(
    client: TractianClient, tasks: list[tuple[Stream, Window]], concurrency: int
) -> Iterator[tuple[Stream, pa.Table]]:
    def fetch(task: tuple[Stream, Window]) -> tuple[Stream, pa.Table | None]:
        stream, (start, end) = task
        body = client.get(stream.path, {"start": iso8601(start), "end": iso8601(end)})
        return stream, None if body is None else to_arrow(stream, body)

    for stream, table in fetch_all(fetch, tasks, concurrency):
        if table is not None:
            yield stream, table


def _batches(fetched: Iterable[tuple[Stream, pa.Table]]) -> Iterator[tuple[str, pa.Table]]:
    """Consecutive tables of one raw table, cut into BATCH_ROWS-row batches."""
    name, parts, rows = "", [], 0
    for stream, table in fetched:
        if parts and stream.table.name != name:
            yield name, pa.concat_tables(parts)
            parts, rows = [], 0
        name = stream.table.name
        parts.append(table)
        rows += table.num_rows
        if rows >= BATCH_ROWS:
            whole = pa.concat_tables(parts)
            yield name, whole.slice(0, BATCH_ROWS)
            parts, rows = [whole.slice(BATCH_ROWS)], rows - BATCH_ROWS
    if rows:
        yield name, pa.concat_tables(parts)


def _has_rows(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return name in rs.present_tables(con) and bool(
        con.execute(f"SELECT count(*) FROM {rs.DATASET}.{name}").fetchall()[0][0]
    )


def _write(con: duckdb.DuckDBPyConnection, name: str, batch: pa.Table, merge: bool) -> None:
    con.register("batch", batch)
    target = f"{rs.DATASET}.{name}"
    if merge:
        on = " AND ".join(f"t.{k} = batch.{k}" for k in rs.RAW_TABLES[name].primary_key)
        con.execute(
            f"MERGE INTO {target} t USING batch ON {on} "
            "WHEN MATCHED THEN UPDATE WHEN NOT MATCHED THEN INSERT"
        )
    else:
        con.execute(f"CREATE TABLE IF NOT EXISTS {target} AS SELECT * FROM batch LIMIT 0")
        con.execute(f"INSERT INTO {target} SELECT * FROM batch")
    con.unregister("batch")


def _memory(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """The probe memory (`sensor_types`) the previous syncs left, asset id -> entry."""
    con.execute(f"CREATE TABLE IF NOT EXISTS {MEMORY} (asset_id TEXT PRIMARY KEY, entry TEXT)")
    return {k: orjson.loads(v) for k, v in con.execute(f"SELECT * FROM {MEMORY}").fetchall()}


def _save_memory(con: duckdb.DuckDBPyConnection, memory: dict[str, Any]) -> None:
    entries = pa.table(
        {"asset_id": list(memory), "entry": [orjson.dumps(v).decode() for v in memory.values()]}
    )
    con.register("entries", entries)
    con.execute(f"INSERT OR REPLACE INTO {MEMORY} SELECT * FROM entries")
    con.unregister("entries")


def sync_floor(
    client: TractianClient,
    connection_name: str,
    db_path: Path,
    *,
    start: datetime | None = None,
    company_ids: tuple[str, ...] = (),
    concurrency: int = settings.TELEMETRY_CONCURRENCY,
) -> dict[str, Any]:
    """One sync of the connection's telemetry into `db_path`: the rows written, the
    sync's clock, and what learning the sensor types cost (`probes_sent`)."""
    with duckdb.connect(str(db_path)) as con:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {rs.DATASET}")
        con.execute(f"CREATE TABLE IF NOT EXISTS {STATE} (path TEXT PRIMARY KEY, window_end TEXT)")
        state = dict(con.execute(f"SELECT path, window_end FROM {STATE}").fetchall())
        memory = _memory(con)
        found = fleet(client, connection_name, memory, company_ids)
        now = found.now
        merge = {t.name: _has_rows(con, t.name) for t in {s.table for s in found.streams}}
        sync_window = window(now, start)
        tasks = [(s, w) for s in found.streams for w in sync_window.windows(state.get(s.path))]
        rows = 0
        for name, batch in _batches(_fetched(client, tasks, concurrency)):
            _write(con, name, batch, merge[name])
            rows += batch.num_rows
        paths = [s.path for s in found.streams]
        ends = pa.table({"path": paths, "window_end": [iso8601(now)] * len(paths)})
        con.register("ends", ends)  # one statement: executemany costs ~5 ms a row
        con.execute(f"INSERT OR REPLACE INTO {STATE} SELECT * FROM ends")
        _save_memory(con, memory)
    return {
        "rows": rows,
        "now": iso8601(now),
        "probes_sent": found.probe_requests,
        "probed_assets": found.probed_assets,
    }
