"""marts.asset_health_daily and marts.sensor_health_daily.

Both are built on a grid of component-days: each component (a dim_asset row with a
vibration or energy sensor) gets one row per UTC day from the day of its first clean
sample (or, if it never sent one, the first day of any sample of its sensor type) to
the day of `as_of` (below), or to its last sample's day if it is deleted. A day with
no sample keeps its row: that is how a silent sensor shows.

`as_of` is "now" for the marts: the time of the latest clean telemetry sample in the
warehouse, but never later than the latest load. It comes from the data rather than
the wall clock, so a warehouse synced from an API whose clock is simulated (or a copy
opened a month later) is read as of its own data. The current day is cut at `as_of`,
and the first day of the warehouse's data (of a sensor type) starts at its first sample:
`span` is the part of the day the data covers (24 h for every other day).

Formulas (per component-day; times in hours):
- powered_hours: each sample's `powered` flag holds until the next sample; the first
  sample's also covers the time since the start of the span, the last one's the time to
  the end of the span. A day without samples has 0 powered hours.
- expected_samples: vibration components sample every 10 minutes while powered and
  every hour while stopped, so powered_hours * 6 + (span - powered_hours) * 1; energy
  components every 15 minutes, so span * 4.
- completeness: samples / expected_samples, capped at 1; null when nothing is expected.
- largest_gap_hours: the longest time without a sample among: the start of the span to
  the first sample, between consecutive samples, the last sample to the end of the span
  (the whole span when there is no sample). offline_over_5h: largest_gap_hours > 5.
- worst_zone: the ISO zone of the day's maximum velocity (zones only grow with velocity).
- vel_rms_p95_mm_s: the 95th percentile (linear interpolation) of the samples'
  vel_rms_max_mm_s.
- open_insights: insights on the component open at the end of the span (created
  before it, and not checked by then).
- out_of_range_count: the component's quarantined samples of that day whose rule is a
  value rule (temperature, negative reading, power factor, dead phase).
"""

from datetime import datetime

import polars as pl

from transforms.models import conform
from transforms.steps import vibration_zones
from transforms.tables import ASSET_HEALTH_DAILY, SENSOR_HEALTH_DAILY

SAMPLES_PER_HOUR = {"powered": 6.0, "stopped": 1.0, "energy": 4.0}
OFFLINE_HOURS = 5.0
SENSOR_TYPES = ("vibration", "energy")
_DAY = pl.duration(days=1)
_UTC = pl.Datetime("us", "UTC")


def data_as_of(daily: dict[str, pl.DataFrame], latest_load_at: datetime | None) -> datetime | None:
    """The latest sample of the daily aggregates, capped at the latest load's time."""
    latest = [frame["last_sampled_at"].max() for frame in daily.values() if frame.height]
    if not latest or latest_load_at is None:
        return None
    return min(max(latest), latest_load_at)


def _component_ranges(
    components: pl.DataFrame, sensor_type: str, aggregate: pl.DataFrame, as_of: datetime
) -> pl.DataFrame:
    """asset_id, sensor_type, first_day, last_day, data_start for one sensor type."""
    seen = aggregate.group_by("asset_id").agg(
        pl.col("day").min().alias("first_day"), pl.col("day").max().alias("last_day")
    )
    typed = components.filter(pl.col("sensor_type") == sensor_type).join(
        seen, on="asset_id", how="left"
    )
    return typed.with_columns(
        pl.col("first_day").fill_null(pl.lit(aggregate["day"].min(), dtype=pl.Date)),
        pl.when(pl.col("is_deleted"))
        .then(pl.col("last_day"))
        .otherwise(pl.max_horizontal(pl.lit(as_of.date()), pl.col("last_day"))),
        pl.lit(aggregate["first_sampled_at"].min(), dtype=_UTC).alias("data_start"),
    )


def component_days(
    components: pl.DataFrame, daily: dict[str, pl.DataFrame], as_of: datetime
) -> pl.DataFrame:
    """The grid: asset_id, sensor_type, day, span_start, span_end.

    `components`: asset_id, sensor_type, is_deleted; `daily`: sensor type -> its daily
    aggregate. A span runs from midnight (or, on the first day of the warehouse's data
    of that sensor type, from its first sample: nothing is known before) to the next
    midnight (or `as_of`).
    """
    ranges = pl.concat(
        [_component_ranges(components, kind, agg, as_of) for kind, agg in daily.items()]
    )
    grid = (
        ranges.filter(pl.col("first_day").is_not_null() & pl.col("last_day").is_not_null())
        .select(
            "asset_id",
            "sensor_type",
            "data_start",
            pl.date_ranges("first_day", "last_day").alias("day"),
        )
        .explode("day")
    )
    day_start = pl.col("day").cast(_UTC)
    span_start = pl.max_horizontal(day_start, pl.col("data_start"))
    span_end = pl.min_horizontal(day_start + _DAY, pl.lit(as_of).cast(_UTC))
    return grid.select(
        "asset_id", "sensor_type", "day", span_start.alias("span_start"), span_end.alias("span_end")
    )


def _hours(expr: pl.Expr) -> pl.Expr:
    return expr.dt.total_microseconds() / 3.6e9


def _edges(frame: pl.DataFrame) -> pl.DataFrame:
    """Span, head/tail gaps and largest gap (hours) of grid rows joined to an aggregate.

    A sample a little after `as_of` (clock skew) stretches the span to include it.
    """
    end = pl.max_horizontal("span_end", "last_sampled_at")
    has_samples = pl.col("samples") > 0
    span = _hours(end - pl.col("span_start"))
    head = _hours(pl.col("first_sampled_at") - pl.col("span_start"))
    tail = _hours(end - pl.col("last_sampled_at"))
    between = pl.col("largest_gap_between_s").fill_null(0) / 3600
    return frame.with_columns(pl.col("samples").fill_null(0).cast(pl.Int64)).with_columns(
        span.alias("span_hours"),
        pl.when(has_samples).then(head).otherwise(0.0).alias("head_hours"),
        pl.when(has_samples).then(tail).otherwise(0.0).alias("tail_hours"),
        pl.when(has_samples)
        .then(pl.max_horizontal(head, between, tail))
        .otherwise(span)
        .alias("largest_gap_hours"),
    )


def _completeness(samples: pl.Expr, expected: pl.Expr) -> pl.Expr:
    return pl.when(expected > 0).then(pl.min_horizontal(samples / expected, pl.lit(1.0)))


def vibration_days(grid: pl.DataFrame, vibration_daily: pl.DataFrame) -> pl.DataFrame:
    """Grid rows of vibration components with powered hours and expected samples."""
    rows = _edges(
        grid.filter(pl.col("sensor_type") == "vibration").join(
            vibration_daily, on=["asset_id", "day"], how="left"
        )
    )
    powered_s = (
        pl.col("powered_seconds_between")
        + pl.col("head_hours") * 3600 * pl.col("first_powered").cast(pl.Float64)
        + pl.col("tail_hours") * 3600 * pl.col("last_powered").cast(pl.Float64)
    )
    powered = (powered_s / 3600).fill_null(0.0).clip(0.0, 24.0)
    expected = (
        pl.col("powered_hours") * SAMPLES_PER_HOUR["powered"]
        + (pl.col("span_hours") - pl.col("powered_hours")) * SAMPLES_PER_HOUR["stopped"]
    )
    return rows.with_columns(powered.alias("powered_hours")).with_columns(
        expected.alias("expected_samples")
    )


def energy_days(grid: pl.DataFrame, energy_daily: pl.DataFrame) -> pl.DataFrame:
    rows = _edges(
        grid.filter(pl.col("sensor_type") == "energy").join(
            energy_daily, on=["asset_id", "day"], how="left"
        )
    )
    return rows.with_columns(
        (pl.col("span_hours") * SAMPLES_PER_HOUR["energy"]).alias("expected_samples")
    )


def open_insights(grid: pl.DataFrame, insights: pl.DataFrame) -> pl.DataFrame:
    """asset_id, day, open_insights: insights open at each grid row's span end."""
    at_end = pl.col("span_end")
    still_open = pl.col("closed_at").is_null() | (pl.col("closed_at") > at_end)
    return (
        grid.select("asset_id", "day", "span_end")
        .join(insights.select("asset_id", "created_at", "closed_at"), on="asset_id")
        .filter((pl.col("created_at") <= at_end) & still_open)
        .group_by("asset_id", "day")
        .agg(pl.len().cast(pl.Int64).alias("open_insights"))
    )


def asset_health_daily(
    vibration: pl.DataFrame, insights_open: pl.DataFrame, iso_limits: pl.DataFrame
) -> pl.DataFrame:
    """marts.asset_health_daily from `vibration_days` rows."""
    frame = (
        vibration.join(insights_open, on=["asset_id", "day"], how="left")
        .join(iso_limits, on="asset_id", how="left")
        .with_columns(
            _completeness(pl.col("samples"), pl.col("expected_samples")).alias("completeness"),
            vibration_zones.zone(pl.col("vel_rms_max_mm_s")).alias("worst_zone"),
            pl.col("open_insights").fill_null(0),
        )
        .sort("asset_id", "day")
    )
    return conform(ASSET_HEALTH_DAILY, frame)


def sensor_health_daily(
    vibration: pl.DataFrame, energy: pl.DataFrame, out_of_range: pl.DataFrame
) -> pl.DataFrame:
    """marts.sensor_health_daily from `vibration_days` and `energy_days` rows.

    `out_of_range`: asset_id, day, out_of_range_count.
    """
    columns = [
        "asset_id",
        "day",
        "sensor_type",
        "samples",
        "expected_samples",
        "last_sampled_at",
        "largest_gap_hours",
    ]
    frame = (
        pl.concat([vibration.select(columns), energy.select(columns)])
        .join(out_of_range, on=["asset_id", "day"], how="left")
        .with_columns(
            _completeness(pl.col("samples"), pl.col("expected_samples")).alias("completeness"),
            pl.col("last_sampled_at").alias("last_seen_at"),
            (pl.col("largest_gap_hours") > OFFLINE_HOURS).alias("offline_over_5h"),
            pl.col("out_of_range_count").fill_null(0),
        )
        .sort("asset_id", "day")
    )
    return conform(SENSOR_HEALTH_DAILY, frame)
