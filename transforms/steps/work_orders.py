"""The JSON columns of raw work orders: category ids and elapsed intervals.

Parsed by `json_lists.decode_json_list`; a malformed value is flagged for the
`invalid_json` rule to quarantine.
"""

import polars as pl

from transforms.steps.json_lists import IDS, decode_json_list

INTERVALS = pl.List(
    pl.Struct(
        {
            "startedAt": pl.String,
            "endedAt": pl.String,
            "status": pl.String,
            "durationInSeconds": pl.Float64,
        }
    )
)
ON_HOLD = "onHold"


def parse_json_columns(raw: pl.DataFrame) -> pl.DataFrame:
    """Raw work orders plus `category_id` (the first one), parsed `intervals` and `json_ok`."""
    frame = decode_json_list(raw, "category_ids", IDS, str)
    frame = decode_json_list(frame, "elapsed_intervals", INTERVALS, dict)
    return frame.with_columns(
        pl.col("category_ids_parsed").list.first().alias("category_id"),
        (pl.col("category_ids_ok") & pl.col("elapsed_intervals_ok")).alias("json_ok"),
    ).drop("category_ids_parsed", "category_ids_ok", "elapsed_intervals_ok")


def _timestamp(field: str) -> pl.Expr:
    return pl.col(field).str.to_datetime(time_zone="UTC", time_unit="us", strict=False)


def intervals_summary(parsed: pl.DataFrame) -> pl.DataFrame:
    """Per work order id: repair_hours, on_hold_hours, last_ended_at, has_negative_interval."""
    intervals = (
        parsed.select("id", pl.col("elapsed_intervals_parsed").alias("interval"))
        .explode("interval")
        .unnest("interval")
        .with_columns(_timestamp("startedAt"), _timestamp("endedAt"))
    )
    elapsed = (pl.col("endedAt") - pl.col("startedAt")).dt.total_microseconds() / 3.6e9
    hours = pl.coalesce(pl.col("durationInSeconds") / 3600, elapsed)
    closed = pl.col("endedAt").is_not_null() | pl.col("durationInSeconds").is_not_null()
    on_hold = pl.col("status") == ON_HOLD
    return (
        intervals.group_by("id")
        .agg(
            hours.filter(closed & ~on_hold).sum().alias("repair_hours"),
            (closed & ~on_hold).any().alias("_has_repair"),
            hours.filter(closed & on_hold).sum().alias("on_hold_hours"),
            (closed & on_hold).any().alias("_has_hold"),
            pl.col("endedAt").max().alias("last_ended_at"),
            ((elapsed < 0) | (pl.col("durationInSeconds") < 0))
            .any()
            .alias("has_negative_interval"),
        )
        .select(
            "id",
            pl.when("_has_repair").then("repair_hours").alias("repair_hours"),
            pl.when("_has_hold").then("on_hold_hours").alias("on_hold_hours"),
            "last_ended_at",
            pl.col("has_negative_interval").fill_null(False),
        )
    )
