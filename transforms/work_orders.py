"""The JSON columns of raw work orders: category ids and elapsed intervals.

Parsed with polars' vectorised JSON decoder. A malformed value makes the decoder fail
for the whole column; only then are the values checked one by one (work orders are few)
to find the culprits, which the `invalid_json` rule quarantines.
"""

import json

import polars as pl

CATEGORY_IDS = pl.List(pl.String)
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


def _well_formed(text: str | None, item_type: type) -> bool:
    if text is None:
        return True
    try:
        value = json.loads(text)
    except ValueError:
        return False
    return value is None or (
        isinstance(value, list) and all(isinstance(v, item_type) for v in value)
    )


def _decode_or_flag(
    frame: pl.DataFrame, column: str, dtype: pl.DataType, item_type: type
) -> pl.DataFrame:
    ok = f"{column}_ok"
    try:
        return frame.with_columns(
            pl.col(column).str.json_decode(dtype).alias(f"{column}_parsed"), pl.lit(True).alias(ok)
        )
    except pl.exceptions.PolarsError:
        flags = frame[column].map_elements(
            lambda t: _well_formed(t, item_type), return_dtype=pl.Boolean
        )
        flagged = frame.with_columns(flags.alias(ok))
        valid = pl.when(pl.col(ok)).then(pl.col(column))
        return flagged.with_columns(valid.str.json_decode(dtype).alias(f"{column}_parsed"))


def parse_json_columns(raw: pl.DataFrame) -> pl.DataFrame:
    """Raw work orders plus `category_id` (the first one), parsed `intervals` and `json_ok`."""
    frame = _decode_or_flag(raw, "category_ids", CATEGORY_IDS, str)
    frame = _decode_or_flag(frame, "elapsed_intervals", INTERVALS, dict)
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
