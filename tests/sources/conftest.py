"""Helpers for connector tests: a synced warehouse compared with the simulator's truth.

Every sync test runs against both simulator profiles: `public` (only what Tractian's
published API has, as a customer's token meets it) and `integration` (plus the optional
integration-layer endpoints). `PROFILES` parametrizes a fixture over them. The
ground-truth tests also run into each `BACKENDS` warehouse: the embedded DuckDB file, a
real PostgreSQL server (`tests/postgres_server.py`) and a DuckLake whose catalog is on
that server.
"""

from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from sources import raw_dataset
from sources import raw_schema as rs
from sources.client import RetryPolicy, TractianClient
from sources.connections import Connection
from sources.warehouses import Warehouse

# Fast retries: the tests exercise the retry paths, not the production delays.
FAST_RETRY = RetryPolicy(backoff_base_s=0.01, backoff_max_s=0.05, max_attempts=8)
PROFILES = ("integration", "public")
BACKENDS = ("duckdb", "postgres", "ducklake")
# (profile, backend) of the ground-truth sync tests: every profile into the DuckDB file,
# and the other backends behind the published API (the connector's SQL does not depend
# on which API it reads), to keep the suite short.
SYNC_TARGETS = pytest.mark.parametrize(
    ("sim", "warehouse"),
    [
        ("integration", "duckdb"),
        ("public", "duckdb"),
        ("public", "postgres"),
        ("public", "ducklake"),
    ],
    indirect=True,
)
# Connector behaviour whose SQL the SYNC_TARGETS tests already run on every backend (late
# samples go through the same re-read filter as a second sync): both profiles into the
# DuckDB file only.
FILE_TARGETS = pytest.mark.parametrize(
    ("sim", "warehouse"), [("integration", "duckdb"), ("public", "duckdb")], indirect=True
)


@pytest.fixture(params=BACKENDS)
def warehouse(request, tmp_path) -> Warehouse:
    """An empty warehouse of each backend (PostgreSQL and the lake's catalog: a fresh
    database)."""
    if request.param == "duckdb":
        return Warehouse.duckdb_file(tmp_path / "warehouse" / "tractian.duckdb")
    url = request.getfixturevalue("postgres_database")
    if request.param == "ducklake":
        return Warehouse.ducklake(url, str(tmp_path / "lake"), tmp_path / "pipelines")
    return Warehouse.from_url(url, pipelines_dir=tmp_path / "pipelines")


def token_companies(sim, token_name: str) -> list[str]:
    return list(sim.world.tokens[sim.tokens[token_name]].company_ids)


def published_clock(sim) -> dict[str, datetime]:
    """`sync` arguments for the API's clock: the published API has none, so a sync there
    ends at the local clock, which the simulated clock stands in for (tests move it)."""
    if sim.profile != "public":
        return {}  # the integration layer's /connection.checkedAt is the clock
    return {"now": datetime.fromtimestamp(sim.clock.now_ms() / 1000, UTC)}


def connection_for(sim, token_name: str = "all", name: str = "plant") -> Connection:
    """A connection as a user would configure it: against the published API, with the
    companies listed (it cannot list them); against the integration layer, without."""
    companies = tuple(token_companies(sim, token_name)) if sim.profile == "public" else ()
    return Connection(name, sim.base_url, sim.tokens[token_name], companies)


def fast_client(
    connection: Connection, read_timeout_s: float = 5.0, page_limit: int = 10
) -> TractianClient:
    """Fast retries and small pages, so paging and retry paths run on small companies."""
    return TractianClient(
        connection.base_url,
        connection.token,
        retry=FAST_RETRY,
        connect_timeout_s=2.0,
        read_timeout_s=read_timeout_s,
        page_limit=page_limit,
    )


def raw_rows(
    warehouse: Path | Warehouse | raw_dataset.Client, table: str, connection_name: str | None = None
) -> pa.Table:
    """A raw table as loaded, without dlt's columns, sorted by its key; any backend (or
    an open SQL client on it, to read several tables through one connection)."""
    if isinstance(warehouse, Path):
        warehouse = Warehouse.duckdb_file(warehouse)
    if isinstance(warehouse, Warehouse):
        with warehouse.sql_client() as client:
            return raw_rows(client, table, connection_name)
    spec = rs.RAW_TABLES[table]
    where, params = ("connection_name = %s", [connection_name]) if connection_name else ("", [])
    if table not in raw_dataset.present_tables(warehouse):
        return spec.schema.empty_table()
    return raw_dataset.read_rows(warehouse, spec, where, params, order_by=spec.primary_key)


def without_connection(table: pa.Table) -> pa.Table:
    return (
        table.drop_columns(["connection_name"])
        if "connection_name" in table.column_names
        else table
    )


def sorted_by_key(table: pa.Table, name: str) -> pa.Table:
    keys = [k for k in rs.RAW_TABLES[name].primary_key if k != "connection_name"]
    return table.sort_by([(k, "ascending") for k in keys])


def assert_matches_truth(
    db_path: Path | Warehouse,
    truth: dict[str, pa.Table],
    connection_name: str,
    ignore_asset: str | None = None,
) -> None:
    """Every raw table equals the simulator's ground truth: same keys, same values, once.

    `ignore_asset`: telemetry and the sensor type of an asset removed from the API, which
    the warehouse keeps but ground truth (what the API serves now) no longer has.
    """
    if isinstance(db_path, Path):
        db_path = Warehouse.duckdb_file(db_path)
    with db_path.sql_client() as client:
        loaded_tables = {name: raw_rows(client, name, connection_name) for name in truth}
    for name, expected in truth.items():
        loaded = without_connection(loaded_tables[name])
        keeps_removed = rs.RAW_TABLES[name].telemetry or name == rs.ASSET_SENSOR_TYPES.name
        if ignore_asset and keeps_removed:
            loaded = loaded.filter(pc.field("asset_id") != ignore_asset)
        if "missing_since" in loaded.column_names:
            loaded = loaded.drop_columns(["missing_since"])
            expected = expected.drop_columns(["missing_since"])
        keys = [k for k in rs.RAW_TABLES[name].primary_key if k != "connection_name"]
        distinct_keys = loaded.group_by(keys).aggregate([]).num_rows
        assert distinct_keys == loaded.num_rows, f"{name}: duplicate keys"
        loaded, expected = sorted_by_key(loaded, name), sorted_by_key(expected, name)
        assert loaded.num_rows == expected.num_rows, (
            f"{name}: {loaded.num_rows} rows loaded, ground truth has {expected.num_rows}"
        )
        for column in expected.column_names:
            got = loaded.column(column).cast(expected.schema.field(column).type)
            want = expected.column(column)
            if not got.equals(want):
                diffs = [
                    (i, g, w)
                    for i, (g, w) in enumerate(zip(got.to_pylist(), want.to_pylist(), strict=True))
                    if g != w
                ]
                pytest.fail(f"{name}.{column}: {len(diffs)} values differ, first {diffs[:3]}")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)
