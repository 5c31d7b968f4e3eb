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
- cadence: each sensor's own, observed: the median over its days of the daily median
  interval between consecutive samples (vibration: after a powered sample and after a
  stopped one, separately; energy: any). A cadence never observed borrows the other one.
- expected_samples: vibration powered_hours / powered cadence + stopped hours / stopped
  cadence; energy span / cadence. Null when the sensor has no observed cadence.
- completeness: samples / expected_samples, not capped (above 1: more samples than its
  own cadence predicts); null when nothing is expected.
- largest_gap_hours: the longest silence overlapping the day, measured whole: from the
  component's previous sample (on any earlier day; none on the day of its first sample,
  and the start of the data for a component that never reported) to its first sample
  of the day, between the day's samples, and from its last one to the
  next sample (on any later day; `as_of` if none). A day without samples lies inside one
  silence. So a 9-hour outage from 20:00 to 05:00 reads 9 h on both days.
  offline_over_5h: largest_gap_hours > 5.
- stuck_value (vibration): at least 6 powered velocity readings that day, all the same
  (`daily.STUCK_MIN_READINGS`): a sensor repeating a value is not measuring. Null for
  energy.
- iso_zone: the ISO zone of the day's vel_rms_p95_mm_s, the 95th percentile (linear
  interpolation) of the powered samples' vel_rms_max_mm_s: one transient does not set
  the day's zone. worst_zone: the zone of the day's single maximum (powered samples).
- is_default_class: the asset has no ISO machine class configured (group 2, rigid).
- baseline_vel_mm_s: the median of the daily p95 over the previous 30 days (at least 7
  of them with a value); change_from_baseline_mm_s = p95 - baseline; baseline_alert:
  |change| > 25 % of the zone B upper limit (ISO 10816-3 criterion II).
- open_insights: insights on the component open at the end of the span (created
  before it, and not checked by then).
- out_of_range_count: the component's quarantined samples of that day whose rule is a
  value rule (negative reading, power factor, dead phase), plus its kept vibration
  samples with a side value nulled (`nulled_fields`).
"""

from datetime import datetime

import polars as pl

from transforms.models import conform
from transforms.steps import vibration_zones
from transforms.tables import ASSET_HEALTH_DAILY, SENSOR_HEALTH_DAILY

OFFLINE_HOURS = 5.0
BASELINE_DAYS, BASELINE_MIN_DAYS = 30, 7
BASELINE_CHANGE = 0.25  # of the zone B upper limit
SENSOR_TYPES = ("vibration", "energy")
_DAY = pl.duration(days=1)
_UTC = pl.Datetime("us", "UTC")


def data_as_of(daily: dict[str, pl.DataFrame], latest_load_at: datetime | None) -> datetime | None:
    """The latest sample of the daily aggregates, capped at the latest load's time."""
    latest = [frame["last_sampled_at"].max() for frame in daily.values() if frame.height]
    if not latest or latest_load_at is None:
        return None
    return min(max(latest), latest_load_at)


def data_starts(daily: dict[str, pl.DataFrame]) -> dict[str, datetime | None]:
    """Per sensor type, its first sample in the warehouse: where its data starts."""
    return {kind: aggregate["first_sampled_at"].min() for kind, aggregate in daily.items()}


def _component_ranges(
    components: pl.DataFrame,
    sensor_type: str,
    aggregate: pl.DataFrame,
    as_of: datetime,
    starts: pl.DataFrame,
) -> pl.DataFrame:
    """asset_id, sensor_type, first_day, last_day, data_start for one sensor type."""
    seen = aggregate.group_by("asset_id").agg(
        pl.col("day").min().alias("first_day"), pl.col("day").max().alias("last_day")
    )
    typed = (
        components.filter(pl.col("sensor_type") == sensor_type)
        .join(seen, on="asset_id", how="left")
        .join(starts, on="asset_id", how="left")
    )
    first_day = pl.col("first_day").fill_null(pl.lit(aggregate["day"].min(), dtype=pl.Date))
    return typed.with_columns(
        pl.max_horizontal(first_day, pl.col("grid_start")).alias("first_day"),
        pl.when(pl.col("is_deleted"))
        .then(pl.col("last_day"))
        .otherwise(pl.max_horizontal(pl.lit(as_of.date()), pl.col("last_day"))),
        pl.lit(aggregate["first_sampled_at"].min(), dtype=_UTC).alias("data_start"),
    )


def component_days(
    components: pl.DataFrame,
    daily: dict[str, pl.DataFrame],
    as_of: datetime,
    starts: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """The grid: asset_id, sensor_type, day, span_start, span_end.

    `components`: asset_id, sensor_type, is_deleted; `daily`: sensor type -> its daily
    aggregate. A span runs from midnight (or, on the first day of the warehouse's data
    of that sensor type, from its first sample: nothing is known before) to the next
    midnight (or `as_of`). `starts` (asset_id, grid_start) leaves out a component's days
    before its grid_start (null: none left out).
    """
    if starts is None:
        starts = pl.DataFrame(schema={"asset_id": pl.String, "grid_start": pl.Date})
    ranges = pl.concat(
        [_component_ranges(components, kind, agg, as_of, starts) for kind, agg in daily.items()]
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
    """Span, head/tail (hours from the span's edges to the day's first/last sample) and
    largest gap (hours, measured across days) of one sensor type's grid rows joined to
    its aggregate.

    A sample a little after `as_of` (clock skew) stretches the span to include it.
    """
    end = pl.max_horizontal("span_end", "last_sampled_at")
    has_samples = pl.col("samples") > 0
    span = _hours(end - pl.col("span_start"))
    head = _hours(pl.col("first_sampled_at") - pl.col("span_start"))
    tail = _hours(end - pl.col("last_sampled_at"))
    # The component's samples just before and just after each day, on any other day.
    previous = pl.col("last_sampled_at").shift(1).forward_fill().over("asset_id")
    following = pl.col("first_sampled_at").shift(-1).backward_fill().over("asset_id")
    # Before a component's first sample nothing was expected of it (it may not have been
    # installed); one that never reported is silent from the start of the data.
    first_seen = pl.col("first_sampled_at").min().over("asset_id")
    since = pl.coalesce(previous, first_seen, pl.col("span_start").min().over("asset_id"))
    until = pl.coalesce(following, end.max().over("asset_id"))
    between = pl.col("largest_gap_between_s").fill_null(0) / 3600
    ordered = frame.sort("asset_id", "day").with_columns(
        pl.col("samples").fill_null(0).cast(pl.Int64)
    )
    return ordered.with_columns(
        span.alias("span_hours"),
        pl.when(has_samples).then(head).otherwise(0.0).alias("head_hours"),
        pl.when(has_samples).then(tail).otherwise(0.0).alias("tail_hours"),
        pl.when(has_samples)
        .then(
            pl.max_horizontal(
                _hours(pl.col("first_sampled_at") - since),
                between,
                _hours(until - pl.col("last_sampled_at")),
            )
        )
        .otherwise(_hours(until - since))
        .alias("largest_gap_hours"),
    )


# Aggregate column -> cadence column, per sensor type.
_CADENCES = {
    "vibration": {
        "median_gap_powered_s": "_powered_cadence",
        "median_gap_stopped_s": "_stopped_cadence",
    },
    "energy": {"median_gap_s": "_cadence"},
}


def _cadence(aggregate: pl.DataFrame, sensor_type: str) -> pl.DataFrame:
    """asset_id and each sensor's cadence in seconds: the median over its days of each
    daily median gap column."""
    return aggregate.group_by("asset_id").agg(
        pl.col(daily).median().alias(cadence) for daily, cadence in _CADENCES[sensor_type].items()
    )


def cadences(daily: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """asset_id and its cadences, of every sensor type in `daily`."""
    return pl.concat(
        [_cadence(aggregate, kind) for kind, aggregate in daily.items()], how="diagonal"
    )


def _completeness(samples: pl.Expr, expected: pl.Expr) -> pl.Expr:
    return pl.when(expected > 0).then(samples / expected)


def _expected(hours: pl.Expr, cadence_s: pl.Expr) -> pl.Expr:
    """Samples expected over `hours` at `cadence_s`; 0 over no hours, whatever the cadence."""
    return pl.when(hours <= 0).then(pl.lit(0.0)).otherwise(hours * 3600 / cadence_s)


def vibration_days(grid: pl.DataFrame, vibration_daily: pl.DataFrame) -> pl.DataFrame:
    """Grid rows of vibration components with powered hours and expected samples."""
    rows = _edges(
        grid.filter(pl.col("sensor_type") == "vibration").join(
            vibration_daily, on=["asset_id", "day"], how="left"
        )
    )
    cadence = _cadence(vibration_daily, "vibration")
    powered_s = (
        pl.col("powered_seconds_between")
        + pl.col("head_hours") * 3600 * pl.col("first_powered").cast(pl.Float64)
        + pl.col("tail_hours") * 3600 * pl.col("last_powered").cast(pl.Float64)
    )
    powered = (powered_s / 3600).fill_null(0.0).clip(0.0, 24.0)
    powered_cadence = pl.coalesce("_powered_cadence", "_stopped_cadence")
    stopped_cadence = pl.coalesce("_stopped_cadence", "_powered_cadence")
    expected = _expected(pl.col("powered_hours"), powered_cadence) + _expected(
        pl.col("span_hours") - pl.col("powered_hours"), stopped_cadence
    )
    return (
        rows.join(cadence, on="asset_id", how="left")
        .with_columns(powered.alias("powered_hours"), pl.col("stuck_value").fill_null(False))
        .with_columns(expected.alias("expected_samples"))
    )


def energy_days(grid: pl.DataFrame, energy_daily: pl.DataFrame) -> pl.DataFrame:
    rows = _edges(
        grid.filter(pl.col("sensor_type") == "energy").join(
            energy_daily, on=["asset_id", "day"], how="left"
        )
    )
    cadence = _cadence(energy_daily, "energy")
    return rows.join(cadence, on="asset_id", how="left").with_columns(
        _expected(pl.col("span_hours"), pl.col("_cadence")).alias("expected_samples"),
        pl.lit(None, dtype=pl.Boolean).alias("stuck_value"),
        pl.lit(0, dtype=pl.Int64).alias("samples_with_nulled_fields"),
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


def _baseline(frame: pl.DataFrame) -> pl.DataFrame:
    """baseline_vel_mm_s, change_from_baseline_mm_s, baseline_alert (see the module)."""
    baseline = (
        pl.col("vel_rms_p95_mm_s")
        .rolling_median_by(
            "day",
            window_size=f"{BASELINE_DAYS}d",
            closed="left",
            min_samples=BASELINE_MIN_DAYS,
        )
        .over("asset_id")
    )
    change = pl.col("vel_rms_p95_mm_s") - pl.col("baseline_vel_mm_s")
    return frame.with_columns(baseline.alias("baseline_vel_mm_s")).with_columns(
        change.alias("change_from_baseline_mm_s"),
        (change.abs() > BASELINE_CHANGE * pl.col("zone_b_max_mm_s")).alias("baseline_alert"),
    )


def asset_health_daily(
    vibration: pl.DataFrame, insights_open: pl.DataFrame, iso_config: pl.DataFrame
) -> pl.DataFrame:
    """marts.asset_health_daily from `vibration_days` rows and clean.asset_iso_config."""
    frame = (
        vibration.join(insights_open, on=["asset_id", "day"], how="left")
        .join(iso_config, on="asset_id", how="left")
        .sort("asset_id", "day")
        .with_columns(
            _completeness(pl.col("samples"), pl.col("expected_samples")).alias("completeness"),
            vibration_zones.zone(pl.col("vel_rms_p95_mm_s")).alias("iso_zone"),
            vibration_zones.zone(pl.col("vel_rms_max_mm_s")).alias("worst_zone"),
            pl.col("configured_on").is_null().alias("is_default_class"),
            pl.col("open_insights").fill_null(0),
        )
    )
    return conform(ASSET_HEALTH_DAILY, _baseline(frame))


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
        "stuck_value",
        "samples_with_nulled_fields",
    ]
    kept_but_nulled = pl.col("samples_with_nulled_fields").fill_null(0)
    frame = (
        pl.concat([vibration.select(columns), energy.select(columns)])
        .join(out_of_range, on=["asset_id", "day"], how="left")
        .with_columns(
            _completeness(pl.col("samples"), pl.col("expected_samples")).alias("completeness"),
            pl.col("last_sampled_at").alias("last_seen_at"),
            (pl.col("largest_gap_hours") > OFFLINE_HOURS).alias("offline_over_5h"),
            (pl.col("out_of_range_count").fill_null(0) + kept_but_nulled).alias(
                "out_of_range_count"
            ),
        )
        .sort("asset_id", "day")
    )
    return conform(SENSOR_HEALTH_DAILY, frame)
