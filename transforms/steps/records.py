"""Maintenance records: insights, reliability events, work orders.

Pure functions from deduplicated raw frames to (clean, quarantined) frames. Rules:
- insights: `unknown_asset`; `timestamp_before_2000` / `timestamp_in_future` on created_at;
- events: `unknown_asset`, `unknown_location`; impossible start_date (a failure's may not
  be in the future, a planned stop's may); `end_before_start`;
- work orders: `unknown_asset`, `unknown_location`; `invalid_json` (category ids or
  elapsed intervals that are not the JSON the contract describes); impossible
  created_at; `end_before_start` (an elapsed interval ending before it starts, or with a
  negative duration).

Derived columns:
- insight `is_open`: status is not `checked`; `closed_at`: updated_at of a checked one.
- event `is_failure`: type functionalFailure, totalFailure or unplannedStop.
- work order `kind` and `kind_source`: those of its first category (see
  transforms.category_map); without a known category, the map's `(no category)` kind,
  else `unknown`; `include_in_indicators`: its category's flag
  (false keeps it out of the maintenance KPIs; null counts as true). `repair_hours`:
  the hours of its closed elapsed intervals that are not `onHold` (durationInSeconds,
  else endedAt - startedAt), null when it has none; `on_hold_hours` likewise for
  `onHold` ones; `completed_at`, when its status is `done`: the end of its last
  interval, else (a work order closed without logged time) its `updated_at`.
"""

from datetime import datetime

import polars as pl

from transforms.models import conform
from transforms.models.clean import FAILURE_EVENT_TYPES
from transforms.raw import EVENTS, INSIGHTS, LOAD_ID, WORK_ORDERS, RawTable
from transforms.steps.rules import (
    END_BEFORE_START,
    INVALID_JSON,
    UNKNOWN_ASSET,
    UNKNOWN_LOCATION,
    Rule,
    impossible_time,
    split,
    unknown_reference,
)
from transforms.steps.work_orders import intervals_summary, parse_json_columns
from transforms.tables import FCT_EVENT, FCT_INSIGHT, FCT_WORK_ORDER

Split = tuple[pl.DataFrame, pl.DataFrame]


def _quarantine(frame: pl.DataFrame, table: RawTable) -> pl.DataFrame:
    return frame.select(*table.columns, LOAD_ID, "rule", "rules", "quarantined_at")


def build_insights(raw: pl.DataFrame, known_assets: pl.Series, quarantined_at: datetime) -> Split:
    rules = [
        unknown_reference(UNKNOWN_ASSET, "asset_id", known_assets),
        *impossible_time("created_at"),
    ]
    clean, quarantined = split(raw, rules, quarantined_at)
    checked = pl.col("status") == "checked"
    fact = clean.rename({"id": "insight_id"}).with_columns(
        (~checked).fill_null(True).alias("is_open"),
        pl.when(checked).then(pl.col("updated_at")).alias("closed_at"),
    )
    return conform(FCT_INSIGHT, fact), _quarantine(quarantined, INSIGHTS)


def build_events(
    raw: pl.DataFrame, known_assets: pl.Series, known_locations: pl.Series, quarantined_at: datetime
) -> Split:
    failure_types = list(FAILURE_EVENT_TYPES)
    rules = [
        unknown_reference(UNKNOWN_ASSET, "asset_id", known_assets),
        unknown_reference(UNKNOWN_LOCATION, "location_id", known_locations),
        # A planned stop may be logged ahead of time; a failure cannot.
        *impossible_time("start_date", future_allowed=~pl.col("type").is_in(failure_types)),
        Rule(END_BEFORE_START, pl.col("end_date") < pl.col("start_date")),
    ]
    clean, quarantined = split(raw, rules, quarantined_at)
    hours = (pl.col("end_date") - pl.col("start_date")).dt.total_seconds() / 3600
    fact = clean.rename({"id": "event_id"}).with_columns(
        pl.col("type").is_in(list(FAILURE_EVENT_TYPES)).fill_null(False).alias("is_failure"),
        hours.cast(pl.Float64).alias("duration_hours"),
    )
    return conform(FCT_EVENT, fact), _quarantine(quarantined, EVENTS)


def build_work_orders(
    raw: pl.DataFrame,
    lookups: tuple[pl.DataFrame, pl.DataFrame],
    known: tuple[pl.Series, pl.Series],
    quarantined_at: datetime,
    uncategorized_kind: str | None = None,
) -> Split:
    """(fct_work_order, quarantined) given (dim categories, dim priorities), the (asset
    ids, location ids) of the clean dimensions and the kind the category map gives a
    work order without a known category (None: `unknown`)."""
    categories, priorities = lookups
    known_assets, known_locations = known
    parsed = parse_json_columns(raw)
    summary = intervals_summary(parsed)
    rules = [
        unknown_reference(UNKNOWN_ASSET, "asset_id", known_assets),
        unknown_reference(UNKNOWN_LOCATION, "location_id", known_locations),
        Rule(INVALID_JSON, ~pl.col("json_ok")),
        *impossible_time("created_at"),
        Rule(END_BEFORE_START, pl.col("has_negative_interval")),
    ]
    clean, quarantined = split(parsed.join(summary, on="id", how="left"), rules, quarantined_at)
    fact = (
        clean.rename({"id": "work_order_id"})
        .join(
            categories.select(
                "category_id",
                pl.col("name").alias("category_name"),
                "kind",
                "kind_source",
                "include_in_indicators",
            ),
            on="category_id",
            how="left",
        )
        .join(
            priorities.select("priority_id", pl.col("name").alias("priority_name")),
            on="priority_id",
            how="left",
        )
        .with_columns(
            pl.col("kind").fill_null(uncategorized_kind or "unknown"),
            pl.col("kind_source").fill_null(pl.lit("map" if uncategorized_kind else None)),
            pl.col("is_deleted").fill_null(False),
            pl.when(pl.col("status") == "done")
            .then(pl.coalesce("last_ended_at", "updated_at"))
            .alias("completed_at"),
        )
    )
    return conform(FCT_WORK_ORDER, fact), _quarantine(quarantined, WORK_ORDERS)
