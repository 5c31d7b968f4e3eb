"""marts.maintenance_kpis_monthly: failures, MTBF, MTTR and availability per asset and month.

Definitions (month: the UTC calendar month, `month` is its first day):
- A failure is a corrective work order (kind `corrective`, not deleted, not canceled),
  counted in the month it was created. In Tractian's model each failure (an insight or
  a functionalFailure / totalFailure / unplannedStop event) is followed by exactly one
  corrective work order, while one failure is often logged as several events (a total
  failure is a totalFailure and an unplannedStop for the same stop); counting events
  would count it twice. `failure_events` reports those events (by start month) anyway.
- operating_hours: the asset's powered hours (see marts_daily), summed over the month.
  An asset without a vibration sensor of its own takes, each day, the largest powered
  hours among the components below it (it runs when any of them runs). Null when no
  component measures it in that month.
- MTBF = operating_hours / failures; null without failures (or without operating hours).
- repairs: the month's failures whose work order is done and has repair hours (the
  closed, not on-hold elapsed intervals); open work orders are not counted.
  MTTR = sum of their repair hours / repairs; null without repairs.
- availability = MTBF / (MTBF + MTTR); 1.0 in a month with operating hours (> 0) and no
  failure (nothing failed, so nothing was down); null when a failure has no finished
  repair yet, when MTBF + MTTR is 0, or when the asset did not operate (or is not
  measured) that month.
- preventive_share = preventive work orders / work orders (not deleted, not canceled),
  by creation month; null without work orders.
Rows: every (asset, month) with vibration days of its own, a work order or a failure event.
"""

import polars as pl

from transforms.models import conform
from transforms.tables import MAINTENANCE_KPIS_MONTHLY

KEYS = ["asset_id", "month"]


def _month(column: str) -> pl.Expr:
    return pl.col(column).dt.date().dt.truncate("1mo").alias("month")


def operating_hours(vibration_days: pl.DataFrame, bridge: pl.DataFrame) -> pl.DataFrame:
    """asset_id, month, operating_hours for every asset at or above a vibration component."""
    return (
        vibration_days.select("asset_id", "day", "powered_hours")
        .join(bridge.select("asset_id", "ancestor_asset_id"), on="asset_id")
        .group_by("ancestor_asset_id", "day")
        .agg(pl.col("powered_hours").max())
        .group_by(pl.col("ancestor_asset_id").alias("asset_id"), _month("day"))
        .agg(pl.col("powered_hours").sum().alias("operating_hours"))
    )


def _work_order_counts(work_orders: pl.DataFrame) -> pl.DataFrame:
    live = work_orders.filter(
        ~pl.col("is_deleted"),
        pl.col("canceled_at").is_null(),
        pl.col("status").fill_null("") != "canceled",
        pl.col("asset_id").is_not_null(),
        pl.col("created_at").is_not_null(),
    )
    corrective = pl.col("kind") == "corrective"
    repaired = corrective & (pl.col("status") == "done") & pl.col("repair_hours").is_not_null()
    return live.group_by(pl.col("asset_id"), _month("created_at")).agg(
        corrective.sum().alias("failures"),
        repaired.sum().alias("repairs"),
        pl.col("repair_hours").filter(repaired).sum().alias("repair_hours"),
        pl.len().alias("work_orders"),
        (pl.col("kind") == "preventive").sum().alias("preventive_work_orders"),
    )


def _failure_events(events: pl.DataFrame) -> pl.DataFrame:
    return (
        events.filter(
            pl.col("is_failure")
            & pl.col("asset_id").is_not_null()
            & pl.col("start_date").is_not_null()
        )
        .group_by("asset_id", _month("start_date"))
        .agg(pl.len().alias("failure_events"))
    )


def maintenance_kpis_monthly(
    vibration_days: pl.DataFrame,
    bridge: pl.DataFrame,
    work_orders: pl.DataFrame,
    events: pl.DataFrame,
) -> pl.DataFrame:
    """The mart from vibration grid rows (asset_id, day, powered_hours), the asset bridge,
    clean work orders and clean events."""
    counts = _work_order_counts(work_orders)
    failure_events = _failure_events(events)
    own_days = vibration_days.select("asset_id", _month("day")).unique()
    rows = pl.concat([own_days, counts.select(KEYS), failure_events.select(KEYS)]).unique()
    frame = (
        rows.join(operating_hours(vibration_days, bridge), on=KEYS, how="left")
        .join(counts, on=KEYS, how="left")
        .join(failure_events, on=KEYS, how="left")
        .with_columns(
            pl.col(c).fill_null(0)
            for c in (
                "failures",
                "repairs",
                "work_orders",
                "preventive_work_orders",
                "failure_events",
            )
        )
        .with_columns(
            pl.when(pl.col("repairs") > 0).then(pl.col("repair_hours")).alias("repair_hours")
        )
    )
    return conform(MAINTENANCE_KPIS_MONTHLY, _ratios(frame).sort(KEYS))


def _ratios(frame: pl.DataFrame) -> pl.DataFrame:
    failures, repairs = pl.col("failures"), pl.col("repairs")
    mtbf = pl.when(failures > 0).then(pl.col("operating_hours") / failures)
    mttr = pl.when(repairs > 0).then(pl.col("repair_hours") / repairs)
    with_means = frame.with_columns(mtbf.alias("mtbf_hours"), mttr.alias("mttr_hours"))
    total = pl.col("mtbf_hours") + pl.col("mttr_hours")
    availability = (
        pl.when((failures == 0) & (pl.col("operating_hours") > 0))
        .then(pl.lit(1.0))
        .when(total > 0)
        .then(pl.col("mtbf_hours") / total)
    )
    share = pl.when(pl.col("work_orders") > 0).then(
        pl.col("preventive_work_orders") / pl.col("work_orders")
    )
    return with_means.with_columns(
        availability.alias("availability"), share.alias("preventive_share")
    )
