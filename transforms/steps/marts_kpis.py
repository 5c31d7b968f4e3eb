"""marts.maintenance_kpis_monthly: failures, down time, MTBF, MTTR, availability and
the work-order indicators per asset and UTC month (`month` is its first day).

Failures and down time are those of `steps.failures`: failure events merged per asset
and rolled up the asset tree. Per asset and month:
- failures: merged failures starting in the month; failure_events: the failure events
  logged on the asset itself (by start month), for reference.
- observed_hours / operating_hours: the hours the asset is measured (its component-days
  with samples) / runs (powered). An asset measured by vibration components of its own
  or below it takes, each day, the largest among them (a machine runs while any part of
  it runs). Null when no component is at or below it that month.
- downtime_hours: the failures' hours inside the month (up to "now").
- availability = uptime / (uptime + downtime) over the observed hours: downtime is the
  part of the failures' hours inside each day's observed hours, uptime the rest (SMRP
  2.2; a stop with on-hold or waiting time is down all along). Null when the asset is
  not observed that month.
- restored_failures / restoration_hours / mttr_hours: the month's failures that are
  restored, their hours from failure to restoration, and their mean (SMRP 3.5.2 MTTR:
  from the asset ceasing to operate to its restoration). Null without a restored one.
- mtbf_12m_hours = operating hours / failures over the 12 months ending with this one
  (SMRP 3.5.1). Null without a failure in that window, when mtbf_12m_lower_bound_hours
  holds the window's operating hours instead: the MTBF is at least that.
- Work orders count when live (not deleted, not canceled) and their category is
  included in indicators: corrective_work_orders (by creation month; a repair caught by
  condition monitoring before any failure is corrective work, not a failure), repairs
  (done corrective ones with logged time), active_repair_hours and mttr_active_hours
  (EN 13306 active corrective maintenance time: the hours logged on them, not on hold),
  inherent_availability = MTBF / (MTBF + MTTR active), both over the 12-month window.
- work_orders, preventive_work_orders (by creation month); preventive_hours_share:
  hours logged on done preventive work orders / on all done ones (SMRP 5.1 hours,
  not counts); pm_due: preventive work orders due in the month, by "now"; pm_on_time:
  those of them done by their due date; pm_compliance = pm_on_time / pm_due (SMRP 5.4).
Rows: each asset's months from its first to its last with a measurement, a work order
or a failure (its own or below it), up to the month of "now"; months in between keep
their row.
"""

from datetime import datetime

import polars as pl

from transforms.models import conform
from transforms.steps import failures
from transforms.tables import MAINTENANCE_KPIS_MONTHLY

KEYS = ["asset_id", "month"]
WINDOW_MONTHS = 12
COUNTS = (
    "failures",
    "failure_events",
    "corrective_work_orders",
    "repairs",
    "work_orders",
    "preventive_work_orders",
    "pm_due",
    "pm_on_time",
    "restored_failures",
)


def _month(column: str) -> pl.Expr:
    return pl.col(column).dt.date().dt.truncate("1mo").alias("month")


def measured_days(vibration_days: pl.DataFrame, bridge: pl.DataFrame) -> pl.DataFrame:
    """asset_id, day, observed_hours, operating_hours for every asset at or above a
    vibration component: each day the largest among the components at or below it. A
    component-day is observed when it has samples (a silent sensor measures nothing)."""
    observed = pl.when(pl.col("samples") > 0).then(pl.col("span_hours")).otherwise(0.0)
    return (
        vibration_days.select("asset_id", "day", observed.alias("observed"), "powered_hours")
        .join(bridge.select("asset_id", "ancestor_asset_id"), on="asset_id")
        .group_by(pl.col("ancestor_asset_id").alias("asset_id"), "day")
        .agg(
            pl.col("observed").max().alias("observed_hours"),
            pl.col("powered_hours").max().alias("operating_hours"),
        )
    )


def _measured_months(measured: pl.DataFrame, downtime: pl.DataFrame) -> pl.DataFrame:
    """asset_id, month, observed_hours, operating_hours, downtime_hours and the part of
    the down time inside observed hours (`_observed_downtime`)."""
    observed_down = pl.min_horizontal(
        pl.col("downtime_hours").fill_null(0.0), pl.col("observed_hours").fill_null(0.0)
    )
    return (
        measured.join(downtime, on=["asset_id", "day"], how="full", coalesce=True)
        .group_by("asset_id", _month("day"))
        .agg(
            pl.col("observed_hours").sum(),
            pl.col("operating_hours").sum(),
            pl.col("downtime_hours").sum(),
            observed_down.sum().alias("_observed_downtime"),
            pl.col("observed_hours").is_not_null().any().alias("_measured"),
        )
        .with_columns(
            pl.when("_measured").then(pl.col(c)).alias(c)
            for c in ("observed_hours", "operating_hours")
        )
        .drop("_measured")
    )


def counted_in_indicators(work_orders: pl.DataFrame) -> pl.DataFrame:
    """Clean work orders the indicators count: live (not deleted, not canceled) and in a
    category included in indicators (or none)."""
    return work_orders.filter(
        ~pl.col("is_deleted"),
        pl.col("canceled_at").is_null(),
        pl.col("status").fill_null("") != "canceled",
        pl.col("include_in_indicators").fill_null(True),
    )


def _work_order_counts(live: pl.DataFrame) -> pl.DataFrame:
    corrective = pl.col("kind") == "corrective"
    done = pl.col("status") == "done"
    repaired = corrective & done & pl.col("repair_hours").is_not_null()
    return (
        live.filter(pl.col("created_at").is_not_null())
        .group_by("asset_id", _month("created_at"))
        .agg(
            corrective.sum().alias("corrective_work_orders"),
            repaired.sum().alias("repairs"),
            pl.col("repair_hours").filter(repaired).sum().alias("active_repair_hours"),
            pl.len().alias("work_orders"),
            (pl.col("kind") == "preventive").sum().alias("preventive_work_orders"),
            pl.col("repair_hours")
            .filter(done & (pl.col("kind") == "preventive"))
            .sum()
            .alias("_preventive_hours"),
            pl.col("repair_hours").filter(done).sum().alias("_logged_hours"),
        )
    )


def _pm_compliance(live: pl.DataFrame, now: datetime) -> pl.DataFrame:
    """Preventive work orders due by `now`: one due later is not late yet."""
    due = live.filter((pl.col("kind") == "preventive") & (pl.col("due_date") <= now))
    # By UTC day: a PM due on a day and done later that day is on time.
    on_time = (pl.col("completed_at").dt.date() <= pl.col("due_date").dt.date()).fill_null(False)
    return due.group_by("asset_id", _month("due_date")).agg(
        pl.len().alias("pm_due"), on_time.sum().alias("pm_on_time")
    )


def _failure_counts(merged: pl.DataFrame) -> pl.DataFrame:
    hours = (pl.col("end") - pl.col("start")).dt.total_microseconds() / 3.6e9
    return merged.group_by("asset_id", _month("start")).agg(
        pl.len().alias("failures"),
        pl.col("restored").sum().alias("restored_failures"),
        hours.filter(pl.col("restored")).sum().alias("restoration_hours"),
    )


def _own_failure_events(events: pl.DataFrame, now: datetime) -> pl.DataFrame:
    own = failures.failure_events(events, now)
    return own.group_by("asset_id", _month("start_date")).agg(pl.len().alias("failure_events"))


def _dense_months(parts: list[pl.DataFrame]) -> pl.DataFrame:
    """Every month of each asset from its first to its last month in `parts`."""
    keys = pl.concat([p.select(KEYS) for p in parts])
    return (
        keys.group_by("asset_id")
        .agg(pl.col("month").min().alias("first"), pl.col("month").max().alias("last"))
        .select("asset_id", pl.date_ranges("first", "last", interval="1mo").alias("month"))
        .explode("month")
    )


def maintenance_kpis_monthly(
    vibration_days: pl.DataFrame,
    bridge: pl.DataFrame,
    work_orders: pl.DataFrame,
    events: pl.DataFrame,
    now: datetime,
) -> pl.DataFrame:
    """The mart from vibration grid rows (asset_id, day, span_hours, powered_hours), the
    asset bridge, clean work orders and events, as of `now` (the marts' "now")."""
    live = counted_in_indicators(work_orders).filter(pl.col("asset_id").is_not_null())
    intervals = failures.event_intervals(events, work_orders, bridge, now)
    merged = failures.merged_failures(intervals, bridge)
    parts = [
        _measured_months(measured_days(vibration_days, bridge), failures.daily_downtime(merged)),
        _failure_counts(merged),
        _own_failure_events(events, now),
        _work_order_counts(live),
        _pm_compliance(live, now),
    ]
    frame = _dense_months(parts).filter(pl.col("month") <= now.date().replace(day=1))
    for part in parts:
        frame = frame.join(part, on=KEYS, how="left")
    frame = frame.with_columns(pl.col(c).fill_null(0) for c in COUNTS).with_columns(
        pl.col("downtime_hours").fill_null(0.0),
        pl.when(pl.col("repairs") > 0).then(pl.col("active_repair_hours")),
        pl.when(pl.col("restored_failures") > 0).then(pl.col("restoration_hours")),
    )
    return conform(MAINTENANCE_KPIS_MONTHLY, _ratios(frame).sort(KEYS))


def _window(column: str) -> pl.Expr:
    """The sum of `column` over the 12 months ending with each row (rows are dense)."""
    return (
        pl.col(column).rolling_sum(WINDOW_MONTHS, min_samples=1).over("asset_id", order_by="month")
    )


def _ratios(frame: pl.DataFrame) -> pl.DataFrame:
    observed = pl.col("observed_hours")
    uptime = observed - pl.col("_observed_downtime")
    window = frame.with_columns(
        _window("operating_hours").alias("_operating_12m"),
        _window("failures").alias("_failures_12m"),
        _window("repairs").alias("_repairs_12m"),
        _window("active_repair_hours").alias("_active_12m"),
    )
    failed = pl.col("_failures_12m") > 0
    mtbf = pl.when(failed).then(pl.col("_operating_12m") / pl.col("_failures_12m"))
    mttr_active_12m = pl.when(pl.col("_repairs_12m") > 0).then(
        pl.col("_active_12m") / pl.col("_repairs_12m")
    )
    inherent = pl.col("mtbf_12m_hours") / (pl.col("mtbf_12m_hours") + mttr_active_12m)
    return window.with_columns(
        pl.when(observed > 0).then(uptime / observed).alias("availability"),
        pl.when(pl.col("restored_failures") > 0)
        .then(pl.col("restoration_hours") / pl.col("restored_failures"))
        .alias("mttr_hours"),
        pl.when(pl.col("repairs") > 0)
        .then(pl.col("active_repair_hours") / pl.col("repairs"))
        .alias("mttr_active_hours"),
        mtbf.alias("mtbf_12m_hours"),
        pl.when(~failed).then(pl.col("_operating_12m")).alias("mtbf_12m_lower_bound_hours"),
        pl.when(pl.col("_logged_hours") > 0)
        .then(pl.col("_preventive_hours").fill_null(0.0) / pl.col("_logged_hours"))
        .alias("preventive_hours_share"),
        pl.when(pl.col("pm_due") > 0)
        .then(pl.col("pm_on_time") / pl.col("pm_due"))
        .alias("pm_compliance"),
    ).with_columns(
        pl.when(pl.col("mtbf_12m_hours") + mttr_active_12m > 0)
        .then(inherent)
        .alias("inherent_availability")
    )
