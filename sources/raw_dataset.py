"""The raw dataset as the destination holds it, read and repaired through the pipeline's
own SQL client, in SQL that every dlt SQL destination speaks (DuckDB, DuckLake,
PostgreSQL...): the samples a sync is about to re-read, the live records of a snapshot,
and the duplicates a resumed load can leave.

Every function takes the `sql_client` of the pipeline being run (inside a resource:
`dlt.current.pipeline().sql_client()`); `%s` is the parameter placeholder on all of them.
"""

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import dlt
import duckdb
import pyarrow as pa
from dlt.destinations.sql_client import SqlClientBase

from sources import raw_schema as rs

Client = SqlClientBase[Any]


def open_current_client() -> Client | None:
    """An open SQL client of the pipeline being run (close it with `close_connection`), or
    None: no destination yet, or one without SQL (then nothing is held that the source
    could leave out)."""
    pipeline = dlt.current.pipeline()
    if pipeline is None or pipeline.destination is None:
        return None
    try:
        client = pipeline.sql_client()
    except Exception:  # a destination without SQL (filesystem, vector stores...)
        return None
    client.open_connection()
    return client


def present_tables(client: Client) -> set[str]:
    """The tables of the client's dataset that exist in the destination."""
    query = "SELECT table_name FROM information_schema.tables WHERE table_schema = %s"
    with client.execute_query(query, client.dataset_name) as cursor:
        return {row[0] for row in cursor.fetchall()}


ARROW_CHUNK_ROWS = 100_000


def query_arrow(client: Client, query: str, *params: Any) -> pa.Table | None:
    """The result as one Arrow table, None when it has no rows.

    On DuckDB (the file, DuckLake) the relation streams Arrow natively: a DB-API result
    would copy every row once more, and dlt's whole-result `cursor.arrow()` calls a
    method DuckDB 2.0 no longer has. Elsewhere, dlt's cursor builds Arrow in chunks.
    """
    native = client.native_connection
    if isinstance(native, duckdb.DuckDBPyConnection):
        relation = native.sql(query.replace("%s", "?"), params=list(params))
        chunks = list(relation.to_arrow_reader(ARROW_CHUNK_ROWS))
        tables = [pa.Table.from_batches([c]) for c in chunks if c.num_rows]
    else:
        with client.execute_query(query, *params) as cursor:
            tables = [t for t in cursor.iter_arrow(chunk_size=ARROW_CHUNK_ROWS) if t.num_rows]
    return pa.concat_tables(tables, promote_options="permissive") if tables else None


def held_samples(
    client: Client,
    table: rs.RawTable,
    series_columns: Sequence[str],
    connection_name: str,
    since: datetime,
    until: datetime,
    assets: Sequence[str] | None = None,
) -> pa.Table | None:
    """`series_columns` and `sampled_at` of the connection's rows of `table` with
    `since <= sampled_at < until` (of `assets` only, when given); None: there are none."""
    columns = ", ".join(client.escape_column_name(c) for c in [*series_columns, "sampled_at"])
    query = (
        f"SELECT {columns} FROM {client.make_qualified_table_name(table.name)} "
        "WHERE connection_name = %s AND sampled_at >= %s AND sampled_at < %s"
    )
    params: list[Any] = [connection_name, since, until]
    if assets is not None:
        query += f" AND asset_id IN ({', '.join(['%s'] * len(assets))})"
        params += list(assets)
    return query_arrow(client, query, *params)


def read_rows(
    client: Client,
    table: rs.RawTable,
    where: str = "",
    params: Sequence[Any] = (),
    order_by: Sequence[str] = (),
) -> pa.Table:
    """Rows of `table` (optionally `WHERE where`, ordered), in the raw contract's columns
    and types; empty when the table holds none.

    Sorted in Arrow, not by SQL: DuckDB 1.5.5 returns a parameterised query's ORDER BY
    out of order when `preserve_insertion_order` is off, as the file's loads set it.
    """
    columns = ", ".join(client.escape_column_name(f.name) for f in table.schema)
    query = f"SELECT {columns} FROM {client.make_qualified_table_name(table.name)}"
    if where:
        query += f" WHERE {where}"
    rows = query_arrow(client, query, *params)
    if rows is None:
        return table.schema.empty_table()
    typed = pa.table([rows.column(f.name).cast(f.type) for f in table.schema], schema=table.schema)
    return typed.sort_by([(c, "ascending") for c in order_by]) if order_by else typed


def held_live_records(
    client: Client, table: rs.RawTable, connection_name: str, company_id: str
) -> pa.Table:
    """The connection's rows of `table` for `company_id` not marked missing."""
    live = "connection_name = %s AND company_id = %s AND missing_since IS NULL"
    return read_rows(client, table, live, [connection_name, company_id])


def drop_duplicate_samples(
    client: Client, tables: Sequence[rs.RawTable], connection_name: str
) -> dict[str, int]:
    """Keep one copy of each telemetry row the connection holds twice; rows dropped.

    A duplicate comes from a load file loaded twice (a kill between its commit and the
    package's bookkeeping): both copies are identical, `_dlt_load_id` included, so no
    column tells them apart. The repair keeps the distinct rows of the duplicated keys,
    deletes every row of those keys and puts the distinct rows back, in one transaction.
    """
    present = present_tables(client)
    dropped: dict[str, int] = {}
    for table in tables:
        if table.name not in present:
            continue
        name = client.make_qualified_table_name(table.name)
        keys = ", ".join(client.escape_column_name(k) for k in table.primary_key)
        duplicated = (
            f"SELECT {keys} FROM {name} WHERE connection_name = %s "
            f"GROUP BY {keys} HAVING count(*) > 1"
        )
        with client.execute_query(f"SELECT count(*) FROM ({duplicated}) d", connection_name) as c:
            if c.fetchall()[0][0] == 0:
                continue
        with client.execute_query(f"SELECT count(*) FROM {name}") as cursor:
            before = cursor.fetchall()[0][0]
        kept = f"{table.name}__kept"
        with client.begin_transaction():
            client.execute_sql(f"DROP TABLE IF EXISTS {kept}")
            client.execute_sql(
                f"CREATE TEMPORARY TABLE {kept} AS SELECT DISTINCT * FROM {name} "
                f"WHERE ({keys}) IN ({duplicated})",
                connection_name,
            )
            client.execute_sql(f"DELETE FROM {name} WHERE ({keys}) IN (SELECT {keys} FROM {kept})")
            client.execute_sql(f"INSERT INTO {name} SELECT * FROM {kept}")
            client.execute_sql(f"DROP TABLE {kept}")
        with client.execute_query(f"SELECT count(*) FROM {name}") as cursor:
            dropped[table.name] = before - cursor.fetchall()[0][0]
    return dropped


def rows_held(
    client: Client,
    table: str,
    connections: Sequence[str],
    windows: Mapping[str, Sequence[tuple[datetime, datetime]]] | None = None,
) -> int:
    """Rows of raw `table` loaded by `connections`; with `windows`, only the samples in
    each connection's [start, end) windows (telemetry). 0 before the table exists."""
    if table not in present_tables(client):
        return 0
    query = f"SELECT count(*) FROM {client.make_qualified_table_name(table)} "
    query += "WHERE connection_name = %s"
    total = 0
    for name in connections:
        scopes: Sequence[tuple[datetime, datetime] | None] = (
            [None] if windows is None else windows.get(name, [])
        )
        for scope in scopes:
            sql, params = query, [name]
            if scope is not None:
                sql += " AND sampled_at >= %s AND sampled_at < %s"
                params += list(scope)
            with client.execute_query(sql, *params) as cursor:
                total += cursor.fetchall()[0][0]
    return total
