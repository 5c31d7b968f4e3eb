"""Failures and their down time, from reliability events, rolled up the asset tree.

A failure (EN 13306:2017, "failure": loss of the ability of an item to perform a
required function) is what Tractian logs as a functionalFailure, totalFailure or
unplannedStop event. Its down time runs from the event's start to its end. An event
without an end lasts until the asset is restored: the completion of the first
corrective work order on the same asset finished at or after the event's start; with
none yet, the failure is still open and its down time runs to `now`.

One stop is often logged as several events (a totalFailure and an unplannedStop with
the same span; a functionalFailure before them), and a machine is a series system: it
is down while any part below it is down. So an asset's failures are the merged
intervals of the failure events on it and on every asset below it (overlapping or
touching intervals count once), each counted in the month it starts.
"""

from datetime import datetime

import polars as pl

_UTC = pl.Datetime("us", "UTC")
EMPTY = pl.DataFrame(
    schema={"asset_id": pl.String, "start": _UTC, "end": _UTC, "restored": pl.Boolean}
)


def _restorations(work_orders: pl.DataFrame) -> pl.DataFrame:
    return work_orders.filter(
        (pl.col("kind") == "corrective")
        & ~pl.col("is_deleted")
        & pl.col("completed_at").is_not_null()
        & pl.col("asset_id").is_not_null()
    ).select("asset_id", pl.col("completed_at").alias("restored_at"))


def event_intervals(events: pl.DataFrame, work_orders: pl.DataFrame, now: datetime) -> pl.DataFrame:
    """asset_id, start, end, restored: one row per failure event of a known asset.

    `end` is the event's end, else its restoration, else `now` (then `restored` is
    false); never before `start`.
    """
    failures = events.filter(
        pl.col("is_failure") & pl.col("asset_id").is_not_null() & pl.col("start_date").is_not_null()
    ).select("event_id", "asset_id", pl.col("start_date").alias("start"), "end_date")
    if failures.is_empty():
        return EMPTY
    restored_at = (
        failures.join(_restorations(work_orders), on="asset_id", how="inner")
        .filter(pl.col("restored_at") >= pl.col("start"))
        .group_by("event_id")
        .agg(pl.col("restored_at").min())
    )
    end = pl.coalesce("end_date", "restored_at")
    return failures.join(restored_at, on="event_id", how="left").select(
        "asset_id",
        "start",
        pl.max_horizontal(pl.coalesce(end, pl.lit(now, dtype=_UTC)), pl.col("start")).alias("end"),
        end.is_not_null().alias("restored"),
    )


def merged_failures(intervals: pl.DataFrame, bridge: pl.DataFrame) -> pl.DataFrame:
    """asset_id, start, end, restored: each asset's failures, its own and those of the
    assets below it (`bridge`: asset_id, ancestor_asset_id, self included), merged."""
    rolled = intervals.join(bridge.select("asset_id", "ancestor_asset_id"), on="asset_id").select(
        pl.col("ancestor_asset_id").alias("asset_id"), "start", "end", "restored"
    )
    if rolled.is_empty():
        return EMPTY
    ordered = rolled.sort("asset_id", "start", "end")
    reach = pl.col("end").cum_max().shift(1).over("asset_id")
    starts_new = (pl.col("start") > reach).fill_null(True)
    return (
        ordered.with_columns(starts_new.cast(pl.Int64).cum_sum().over("asset_id").alias("_failure"))
        .group_by("asset_id", "_failure")
        .agg(
            pl.col("start").min(),
            pl.col("end").max(),
            # A merged failure is restored when the interval reaching furthest is.
            pl.col("restored").sort_by("end").last(),
        )
        .drop("_failure")
        .sort("asset_id", "start")
    )


def monthly_downtime(failures: pl.DataFrame, now: datetime) -> pl.DataFrame:
    """asset_id, month, downtime_hours: the failures' hours in each UTC month, up to `now`."""
    clipped = failures.with_columns(
        pl.min_horizontal("end", pl.lit(now, dtype=_UTC)).alias("end")
    ).filter(pl.col("end") > pl.col("start"))
    last_instant = pl.col("end") - pl.duration(microseconds=1)
    months = clipped.with_columns(
        pl.date_ranges(
            pl.col("start").dt.date().dt.truncate("1mo"),
            last_instant.dt.date().dt.truncate("1mo"),
            interval="1mo",
        ).alias("month")
    ).explode("month")
    month_start = pl.col("month").cast(_UTC)
    piece = pl.min_horizontal("end", month_start.dt.offset_by("1mo")) - pl.max_horizontal(
        "start", month_start
    )
    return months.group_by("asset_id", "month").agg(
        (piece.dt.total_microseconds().sum() / 3.6e9).alias("downtime_hours")
    )
