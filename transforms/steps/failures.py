"""Failures and their down time, from reliability events, rolled up the asset tree.

A failure (EN 13306:2017, "failure": loss of the ability of an item to perform a
required function) is what Tractian logs as a functionalFailure, totalFailure or
unplannedStop event. From the failure the item is in a fault state, down, until it is
restored. Its down time runs from the event's start to its end. An event without an end
lasts until the asset is restored: the completion of the first corrective work order
finished at or after the event's start on the same asset, on an asset above it (a
repair of the machine) or below it (a repair of one of its parts); with none by `now`,
the failure is still open and its down time runs to `now`. An end after `now` is not
known yet: the failure is open. A failure starting after `now` is left out.

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


def _related(bridge: pl.DataFrame) -> pl.DataFrame:
    """(asset_id, repaired_asset_id): an asset and every asset above or below it."""
    pairs = bridge.select("asset_id", "ancestor_asset_id")
    return pl.concat(
        [
            pairs.select("asset_id", pl.col("ancestor_asset_id").alias("repaired_asset_id")),
            pairs.select(
                pl.col("ancestor_asset_id").alias("asset_id"),
                pl.col("asset_id").alias("repaired_asset_id"),
            ),
        ]
    ).unique()


def _restorations(work_orders: pl.DataFrame, now: datetime) -> pl.DataFrame:
    return work_orders.filter(
        (pl.col("kind") == "corrective")
        & ~pl.col("is_deleted")
        & (pl.col("completed_at") <= now)
        & pl.col("asset_id").is_not_null()
    ).select(pl.col("asset_id").alias("repaired_asset_id"), pl.col("completed_at"))


def failure_events(events: pl.DataFrame, now: datetime) -> pl.DataFrame:
    """The clean events that are failures of a known asset started by `now`."""
    return events.filter(
        pl.col("is_failure") & pl.col("asset_id").is_not_null() & (pl.col("start_date") <= now)
    )


def event_intervals(
    events: pl.DataFrame, work_orders: pl.DataFrame, bridge: pl.DataFrame, now: datetime
) -> pl.DataFrame:
    """asset_id, start, end, restored: one row per failure event (`failure_events`).
    `end` is the event's end, else its restoration, else `now` (then `restored` is
    false); never before `start`, never after `now`."""
    failures = failure_events(events, now).select(
        "event_id", "asset_id", pl.col("start_date").alias("start"), "end_date"
    )
    if failures.is_empty():
        return EMPTY
    restored_at = (
        failures.join(_related(bridge), on="asset_id")
        .join(_restorations(work_orders, now), on="repaired_asset_id")
        .filter(pl.col("completed_at") >= pl.col("start"))
        .group_by("event_id")
        .agg(pl.col("completed_at").min().alias("restored_at"))
    )
    ended = pl.when(pl.col("end_date") <= now).then(pl.col("end_date"))
    end = pl.coalesce(ended, "restored_at")
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


def daily_downtime(failures: pl.DataFrame) -> pl.DataFrame:
    """asset_id, day, downtime_hours: the failures' hours in each UTC day."""
    lasting = failures.filter(pl.col("end") > pl.col("start"))
    last_instant = pl.col("end") - pl.duration(microseconds=1)
    days = lasting.with_columns(
        pl.date_ranges(pl.col("start").dt.date(), last_instant.dt.date()).alias("day")
    ).explode("day")
    day_start = pl.col("day").cast(_UTC)
    piece = pl.min_horizontal("end", day_start + pl.duration(days=1)) - pl.max_horizontal(
        "start", day_start
    )
    return days.group_by("asset_id", "day").agg(
        (piece.dt.total_microseconds().sum() / 3.6e9).alias("downtime_hours")
    )
