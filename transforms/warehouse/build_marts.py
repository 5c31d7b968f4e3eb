"""The marts step, from the daily aggregates and small tables.

The daily marts (components x days) grow with history: a run recomputes the rows that
can have changed (`mart_scope`) and keeps the rest, which equals a full rebuild. The
monthly KPIs (assets x months) are rebuilt whole every run, from the daily mart's rows.
"""

from dataclasses import dataclass
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
    BRIDGE_ASSET_ANCESTOR,
    FCT_EVENT,
    FCT_WORK_ORDER,
    MAINTENANCE_KPIS_MONTHLY,
    SENSOR_HEALTH_DAILY,
    quarantine_table,
)
from transforms.warehouse import mart_scope
from transforms.warehouse.duckdb_io import (
    create_table,
    day_number,
    fetch,
    insert,
    read_table,
    registered,
    write_table,
)


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


@dataclass(frozen=True)
class MartsBuilt:
    """`as_of`: the marts' "now" (None: no telemetry yet, the daily marts are empty);
    `recomputed_rows`: daily mart rows recomputed (None: all of them)."""

    as_of: datetime | None
    recomputed_rows: int | None


def build_marts(
    conn: duckdb.DuckDBPyConnection,
    latest_load_at: datetime | None,
    plan_started_at: datetime,
    previous: tuple[mart_scope.MartInputs, datetime] | None = None,
    rewritten: pl.DataFrame | None = None,
) -> MartsBuilt:
    """Bring the three marts up to date. The daily marts recompute the rows `mart_scope`
    finds can change, given what the last run built them on (`previous`) and the
    telemetry partitions this run rewrote (`rewritten`; None: all); without `previous`,
    every row. The monthly KPIs are rebuilt whole; their "now" is `as_of`, else the
    latest load's time, else the run's start."""
    aggregates = {
        "vibration": read_table(conn, AGG_VIBRATION_DAILY),
        "energy": read_table(conn, AGG_ENERGY_DAILY),
    }
    as_of = marts_daily.data_as_of(aggregates, latest_load_at)
    recomputed = None
    if as_of is None:
        for name in (ASSET_HEALTH_DAILY, SENSOR_HEALTH_DAILY):
            create_table(conn, name)
    else:
        recomputed = _daily_marts(conn, aggregates, as_of, previous, rewritten)
    vibration = read_table(conn, ASSET_HEALTH_DAILY).select(
        "asset_id", "day", "samples", "span_hours", "powered_hours"
    )
    kpis = marts_kpis.maintenance_kpis_monthly(
        vibration,
        read_table(conn, BRIDGE_ASSET_ANCESTOR),
        read_table(conn, FCT_WORK_ORDER),
        read_table(conn, FCT_EVENT),
        now=as_of or latest_load_at or plan_started_at,
    )
    write_table(conn, MAINTENANCE_KPIS_MONTHLY, validate(MAINTENANCE_KPIS_MONTHLY, kpis))
    return MartsBuilt(as_of, recomputed)


def _daily_marts(
    conn: duckdb.DuckDBPyConnection,
    aggregates: dict[str, pl.DataFrame],
    as_of: datetime,
    previous: tuple[mart_scope.MartInputs, datetime] | None,
    rewritten: pl.DataFrame | None,
) -> int | None:
    """Write asset_health_daily and sensor_health_daily: the rows in scope, or all of
    them; returns how many were recomputed (None: all)."""
    current = mart_scope.inputs(conn, aggregates)
    scope = mart_scope.scope(previous, current, aggregates, rewritten)
    starts = None if scope is None else scope.select("asset_id", "grid_start")
    grid = marts_daily.component_days(current.components, aggregates, as_of, starts)
    vibration = marts_daily.vibration_days(grid, aggregates["vibration"])
    energy = marts_daily.energy_days(grid, aggregates["energy"])
    insights = marts_daily.open_insights(grid, current.insights)
    frames = {
        ASSET_HEALTH_DAILY: marts_daily.asset_health_daily(vibration, insights, current.iso_config),
        SENSOR_HEALTH_DAILY: marts_daily.sensor_health_daily(
            vibration, energy, out_of_range_counts(conn)
        ),
    }
    if scope is None:
        for name, frame in frames.items():
            write_table(conn, name, validate(name, frame))
        return None
    recomputed = 0
    from_days = scope.select("asset_id", "from_day")
    for name, frame in frames.items():
        rows = validate(name, _from_day_on(frame, from_days))
        with registered(conn, _scope=from_days):
            conn.execute(
                f"DELETE FROM {name} t USING _scope s WHERE t.asset_id = s.asset_id "
                "AND (s.from_day IS NULL OR t.day >= s.from_day)"
            )
        insert(conn, name, rows)
        recomputed += rows.height
    return recomputed


def _from_day_on(frame: pl.DataFrame, from_days: pl.DataFrame) -> pl.DataFrame:
    """The rows of `frame` on or after their component's from_day (null: all)."""
    keep = pl.col("from_day").is_null() | (pl.col("day") >= pl.col("from_day"))
    joined = frame.join(from_days, on="asset_id", how="left", maintain_order="left")
    return joined.filter(keep).drop("from_day")
