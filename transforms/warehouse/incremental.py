"""What a run has to rebuild: the loads it has not seen, the keys they brought
(`row_sets.ChangedKeys`) and the partitions those keys fall in.

The loads are the packages dlt completed (`tractian_raw._dlt_loads`). Processed load ids
are kept in `clean._transform_loads` (a set, not a watermark: a pending load package of
one connection can land after a newer load of another). The partitions to rebuild for a
telemetry table are the (asset_id, UTC day) pairs of its raw rows carrying a new
`_dlt_load_id` (late samples and re-read or edited ones alike),
widened by `widen_for_assets` to every partition of an asset whose standing changed
(it joined or left clean.dim_asset, or its ISO zone limits changed). The dimensions and
records are rebuilt when a new load holds rows of their raw tables or the configuration
changed. A full run, or a first run, or a run after the transforms' table layout
changed, rebuilds everything.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime

import duckdb
import polars as pl

from transforms.raw import LOAD_ID, RAW_SCHEMA, RAW_TABLES, TELEMETRY_TABLES, RawTable
from transforms.tables import LOADS, RUNS
from transforms.warehouse.duckdb_io import (
    RawTableError,
    day_number,
    fetch,
    raw_columns,
    registered,
    table_exists,
)
from transforms.warehouse.row_sets import ChangedKeys, changed_keys

DLT_LOADS = f"{RAW_SCHEMA}._dlt_loads"  # dlt's record of the load packages it completed

# Bump when a table's layout, a rule or a builder changes: the next run then rebuilds
# everything (an incremental run rebuilds the dimensions and records only after a
# catalog load or a configuration change).
# 2: energy quantities and units as the published API serves them; demand and cost;
# dim_asset's sensor type from detections too (`sensor_type_source`).
# 3: reliability marts by the standards; side values nulled on kept vibration rows.
# 4: marts.asset_health_daily.span_hours (the monthly KPIs read it back).
# 5: incremental runs matched energy keys by the raw quantity names: a re-loaded sample's
# facts were written twice, and new power rows missed the read copy (a full run and a
# whole read copy repair both).
TRANSFORM_VERSION = 5


@dataclass
class Plan:
    """One run's work. `partitions[raw telemetry table]` is None when rebuilt whole."""

    run_id: int
    started_at: datetime
    full: bool
    loads: list[str]
    new_loads: list[str]
    config_digest: str
    previous_run_id: int | None
    previous_as_of: datetime | None = None  # the marts' "now" the previous run left
    config_changed: bool = False
    # Dimensions and records (tables.WHOLE_TABLES) rebuilt; else left as they are.
    rebuild_whole_tables: bool = True
    partitions: dict[str, pl.DataFrame | None] = field(default_factory=dict)
    keys: dict[str, ChangedKeys] = field(default_factory=dict)  # not on a full run

    @property
    def latest_load_at(self) -> datetime | None:
        """The time the latest load started."""
        times = [t for t in (_load_time(load) for load in self.loads) if t is not None]
        return max(times, default=None)

    @property
    def nothing_to_do(self) -> bool:
        return not self.full and not self.new_loads and not self.config_changed

    def rebuilt_partitions(self) -> int | None:
        """Partitions rebuilt over all telemetry tables; None on a full run."""
        if self.full:
            return None
        return sum(p.height for p in self.partitions.values() if p is not None)


def _load_time(load_id: str) -> datetime | None:
    try:
        return datetime.fromtimestamp(float(load_id), tz=UTC)
    except (TypeError, ValueError):
        return None


def last_run(conn: duckdb.DuckDBPyConnection) -> dict | None:
    if not table_exists(conn, RUNS):
        return None
    frame = fetch(conn, f"SELECT * FROM {RUNS} ORDER BY run_id DESC LIMIT 1")
    return frame.row(0, named=True) if frame.height else None


def _present_tables(conn: duckdb.DuckDBPyConnection) -> list[tuple[RawTable, set[str]]]:
    present = []
    for table in RAW_TABLES.values():
        columns = raw_columns(conn, table)
        if columns is not None:
            present.append((table, columns))
    return present


def raw_load_ids(conn: duckdb.DuckDBPyConnection) -> tuple[list[str], bool]:
    """(the completed loads, whether every raw table has a load id column).

    The loads come from dlt's own record of completed load packages
    (`tractian_raw._dlt_loads`), not from the raw tables' load id columns: that list
    does not grow with the telemetry, and a package a killed sync left half loaded is
    not taken as done before its rest has landed (the next sync completes it, and the
    next run transforms all of it).
    """
    present = _present_tables(conn)
    if not present:
        return [], True
    if not table_exists(conn, DLT_LOADS):
        raise RawTableError(
            f"{DLT_LOADS} is missing: the raw tables were not loaded by dlt (run `sync`)"
        )
    rows = conn.sql(f"SELECT DISTINCT load_id FROM {DLT_LOADS} WHERE status = 0 ORDER BY 1")
    return [r[0] for r in rows.fetchall()], all(LOAD_ID in columns for _, columns in present)


def plan_run(
    conn: duckdb.DuckDBPyConnection, *, full: bool, config_digest: str, outputs_current: bool
) -> Plan:
    """Decide what this run rebuilds (see the module docstring)."""
    last = last_run(conn)
    loads, all_have_ids = raw_load_ids(conn)
    full = (
        full
        or last is None
        or last["transform_version"] != TRANSFORM_VERSION
        or not all_have_ids
        or not outputs_current
    )
    processed = (
        set() if full else {r[0] for r in conn.sql(f"SELECT load_id FROM {LOADS}").fetchall()}
    )
    plan = Plan(
        run_id=(last["run_id"] + 1) if last else 1,
        started_at=datetime.now(UTC),
        full=full,
        loads=loads,
        new_loads=[load for load in loads if load not in processed],
        config_digest=config_digest,
        previous_run_id=last["run_id"] if last else None,
        previous_as_of=last["as_of"] if last else None,
    )
    plan.config_changed = not full and last["iso_config_digest"] != config_digest
    plan.rebuild_whole_tables = full or plan.config_changed or _catalog_loaded(conn, plan.new_loads)
    for table in TELEMETRY_TABLES:
        if full:
            plan.partitions[table.name] = None
            continue
        keys = changed_keys(conn, table, plan.new_loads)
        plan.keys[table.name] = keys
        plan.partitions[table.name] = _partitions_of_keys(conn, keys)
    return plan


def _catalog_loaded(conn: duckdb.DuckDBPyConnection, load_ids: list[str]) -> bool:
    """Whether a raw table that is not telemetry holds rows of `load_ids`: how the
    syncs change the whole tables' inputs (their only deletes are of duplicated
    samples). The 15-minute telemetry syncs bring none; the hourly catalog sync does. A
    package a killed sync left half loaded counts once completed, as for telemetry; raw
    tables edited by hand need `--full`."""
    if not load_ids:
        return False
    loads = pl.DataFrame({"load_id": load_ids}, schema={"load_id": pl.String})
    with registered(conn, _loads=loads):
        for table in RAW_TABLES.values():
            if table.telemetry or raw_columns(conn, table) is None:
                continue
            found = conn.sql(
                f"SELECT 1 FROM {table.qualified} "
                f"WHERE {LOAD_ID} IN (SELECT load_id FROM _loads) LIMIT 1"
            ).fetchall()
            if found:
                return True
    return False


_NO_PARTITIONS = pl.DataFrame(schema={"asset_id": pl.String, "day": pl.Date})


def _distinct_partitions(
    conn: duckdb.DuckDBPyConnection, relation: str, where: str, **frames: pl.DataFrame
) -> pl.DataFrame:
    sql = (
        f"SELECT DISTINCT asset_id, {day_number('sampled_at')} AS day_number "
        f"FROM {relation} WHERE {where}"
    )
    with registered(conn, **frames):
        found = fetch(conn, sql)
    days = found.select("asset_id", pl.col("day_number").cast(pl.Int32).cast(pl.Date).alias("day"))
    return pl.concat([_NO_PARTITIONS, days])


def _partitions_of_keys(conn: duckdb.DuckDBPyConnection, keys: ChangedKeys) -> pl.DataFrame:
    """(asset_id, day) partitions holding `keys`."""
    if keys.bounds is None:
        return _NO_PARTITIONS
    return _distinct_partitions(conn, keys.table, "TRUE")


def widen_for_assets(
    conn: duckdb.DuckDBPyConnection, plan: Plan, table: RawTable, asset_ids: pl.Series
) -> None:
    """Add every partition of `asset_ids` in `table` to the plan (no-op on a full run)."""
    current = plan.partitions[table.name]
    if current is None or asset_ids.is_empty():
        return
    if raw_columns(conn, table) is None:
        return
    assets = pl.DataFrame({"asset_id": asset_ids}, schema={"asset_id": pl.String})
    extra = _distinct_partitions(
        conn, table.qualified, "asset_id IN (SELECT asset_id FROM _assets)", _assets=assets
    )
    plan.partitions[table.name] = pl.concat([current, extra]).unique().sort("asset_id", "day")


def record_run(
    conn: duckdb.DuckDBPyConnection, plan: Plan, finished_at: datetime, as_of: datetime | None
) -> None:
    """Append the run to clean._transform_runs and mark its loads processed.
    `iso_config_digest` holds the digest of all the configuration files (the column is
    named from when the ISO file was the only one)."""
    conn.execute(
        f"CREATE TABLE IF NOT EXISTS {RUNS} (run_id BIGINT, started_at TIMESTAMPTZ, "
        "finished_at TIMESTAMPTZ, full_rebuild BOOLEAN, transform_version INTEGER, "
        "iso_config_digest VARCHAR, as_of TIMESTAMPTZ, new_loads INTEGER, "
        "rebuilt_partitions BIGINT)"
    )
    conn.execute(f"CREATE TABLE IF NOT EXISTS {LOADS} (load_id VARCHAR, run_id BIGINT)")
    conn.execute(
        f"INSERT INTO {RUNS} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            plan.run_id,
            plan.started_at,
            finished_at,
            plan.full,
            TRANSFORM_VERSION,
            plan.config_digest,
            as_of,
            len(plan.new_loads),
            plan.rebuilt_partitions(),
        ],
    )
    if plan.full:
        conn.execute(f"DELETE FROM {LOADS}")
    loads = pl.DataFrame(
        {"load_id": plan.new_loads, "run_id": [plan.run_id] * len(plan.new_loads)},
        schema={"load_id": pl.String, "run_id": pl.Int64},
    )
    with registered(conn, _new_loads=loads):
        conn.execute(f"INSERT INTO {LOADS} SELECT load_id, run_id FROM _new_loads")
