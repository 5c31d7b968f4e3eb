"""The marts step: rebuilt whole on every run from the daily aggregates and small tables.

The marts are small (components x days, assets x months) and depend on things that
move every run ("now" cuts the current day; insights open and close; work orders are
edited), so a whole rebuild is both cheap and what keeps an incremental run equal to
a full one.
"""

from datetime import datetime

import duckdb
import polars as pl

from transforms.models import validate
from transforms.raw import TELEMETRY_TABLES
from transforms.steps import marts_daily, marts_kpis
from transforms.steps.rules import VALUE_RULES
from transforms.tables import (
    AGG_ENERGY_DAILY,
    AGG_VIBRATION_DAILY,
    ASSET_HEALTH_DAILY,
    ASSET_ISO_CONFIG,
    BRIDGE_ASSET_ANCESTOR,
    DIM_ASSET,
    FCT_EVENT,
    FCT_INSIGHT,
    FCT_WORK_ORDER,
    MAINTENANCE_KPIS_MONTHLY,
    SENSOR_HEALTH_DAILY,
    quarantine_table,
)
from transforms.warehouse.duckdb_io import create_table, day_number, fetch, read_table, write_table


def out_of_range_counts(conn: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """asset_id, day, out_of_range_count over the telemetry quarantines' value rules."""
    rules = ", ".join(f"'{rule}'" for rule in VALUE_RULES)
    union = " UNION ALL ".join(
        f"SELECT asset_id, sampled_at FROM {quarantine_table(t.name)} WHERE rule IN ({rules})"
        for t in TELEMETRY_TABLES
    )
    sql = (
        f"SELECT asset_id, {day_number('sampled_at')} AS day_number, "
        "count(*)::BIGINT AS out_of_range_count "
        f"FROM ({union}) GROUP BY ALL"
    )
    counts = fetch(conn, sql)
    day = pl.col("day_number").cast(pl.Int32).cast(pl.Date).alias("day")
    return counts.select("asset_id", day, "out_of_range_count")


def _components(conn: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    types = ", ".join(f"'{t}'" for t in marts_daily.SENSOR_TYPES)
    where = f"kind = 'component' AND sensor_type IN ({types})"
    return read_table(conn, DIM_ASSET, where).select("asset_id", "sensor_type", "is_deleted")


def build_marts(
    conn: duckdb.DuckDBPyConnection, latest_load_at: datetime | None, plan_started_at: datetime
) -> datetime | None:
    """Rebuild the three marts; returns their `as_of` (None: no telemetry yet, so the
    daily marts are empty). The monthly KPIs' "now" is `as_of`, else the latest load's
    time, else the run's start."""
    aggregates = {
        "vibration": read_table(conn, AGG_VIBRATION_DAILY),
        "energy": read_table(conn, AGG_ENERGY_DAILY),
    }
    as_of = marts_daily.data_as_of(aggregates, latest_load_at)
    if as_of is None:
        for name in (ASSET_HEALTH_DAILY, SENSOR_HEALTH_DAILY):
            create_table(conn, name)
        vibration = pl.DataFrame(
            schema={
                "asset_id": pl.String,
                "day": pl.Date,
                "samples": pl.Int64,
                "span_hours": pl.Float64,
                "powered_hours": pl.Float64,
            }
        )
    else:
        vibration = _daily_marts(conn, aggregates, as_of)
    kpis = marts_kpis.maintenance_kpis_monthly(
        vibration,
        read_table(conn, BRIDGE_ASSET_ANCESTOR),
        read_table(conn, FCT_WORK_ORDER),
        read_table(conn, FCT_EVENT),
        now=as_of or latest_load_at or plan_started_at,
    )
    write_table(conn, MAINTENANCE_KPIS_MONTHLY, validate(MAINTENANCE_KPIS_MONTHLY, kpis))
    return as_of


def _daily_marts(
    conn: duckdb.DuckDBPyConnection, aggregates: dict[str, pl.DataFrame], as_of: datetime
) -> pl.DataFrame:
    """Write asset_health_daily and sensor_health_daily; return the vibration grid rows."""
    grid = marts_daily.component_days(_components(conn), aggregates, as_of)
    vibration = marts_daily.vibration_days(grid, aggregates["vibration"])
    energy = marts_daily.energy_days(grid, aggregates["energy"])
    insights = marts_daily.open_insights(grid, read_table(conn, FCT_INSIGHT))
    limits = read_table(conn, ASSET_ISO_CONFIG)
    frames = {
        ASSET_HEALTH_DAILY: marts_daily.asset_health_daily(vibration, insights, limits),
        SENSOR_HEALTH_DAILY: marts_daily.sensor_health_daily(
            vibration, energy, out_of_range_counts(conn)
        ),
    }
    for name, frame in frames.items():
        write_table(conn, name, validate(name, frame))
    return vibration
