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
from transforms.warehouse.row_sets import DaysFrom


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
    `recomputed`: the daily mart rows recomputed (None: all of them) and how many."""

    as_of: datetime | None
    recomputed: DaysFrom | None = None
    recomputed_rows: int | None = None


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
    built = MartsBuilt(as_of)
    if as_of is None:
        for name in (ASSET_HEALTH_DAILY, SENSOR_HEALTH_DAILY):
            create_table(conn, name)
    else:
        built = _daily_marts(conn, aggregates, as_of, previous, rewritten)
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
    return built


def _daily_marts(
    conn: duckdb.DuckDBPyConnection,
    aggregates: dict[str, pl.DataFrame],
    as_of: datetime,
    previous: tuple[mart_scope.MartInputs, datetime] | None,
    rewritten: pl.DataFrame | None,
) -> MartsBuilt:
    """Write asset_health_daily and sensor_health_daily: the rows in scope, or all."""
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
        return MartsBuilt(as_of)
    recomputed, count = DaysFrom(scope.select("asset_id", "from_day")), 0
    for name, frame in frames.items():
        # The frame holds the grid's earlier days too (gaps and baselines reach back).
        with registered(conn, _frame=frame, **recomputed.frames()):
            rows = validate(name, fetch(conn, f"FROM _frame f WHERE {recomputed.where('f')}"))
            conn.execute(f"DELETE FROM {name} WHERE {recomputed.where()}")
        insert(conn, name, rows)
        count += rows.height
    return MartsBuilt(as_of, recomputed, count)
