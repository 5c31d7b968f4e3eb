"""Daily aggregates of the clean telemetry, one row per component and UTC day with samples.

They hold what the marts need from the big facts and only depend on the samples of
their own (asset_id, day) partition, so an incremental run recomputes exactly the
partitions a sync touched. The parts that depend on the day's edges or on "now" (time
before the first sample, after the last one) are left to the marts.

Between consecutive samples of a day, the interval counts as powered when the earlier
sample is powered (`powered_seconds_between`); a null `powered` counts as not powered.
"""

import polars as pl

from transforms.models import conform
from transforms.tables import AGG_ENERGY_DAILY, AGG_VIBRATION_DAILY

# The fact columns each aggregate reads (an incremental run reads only these back).
INPUT_COLUMNS = {
    AGG_VIBRATION_DAILY: (
        "asset_id",
        "sampled_at",
        "powered",
        "vel_rms_max_mm_s",
        "temperature_c",
        "nulled_fields",
    ),
    AGG_ENERGY_DAILY: ("asset_id", "sampled_at"),
}

# Within a (asset_id, day) group sorted by time: seconds from each sample to the next.
_GAP_TO_NEXT = pl.col("sampled_at").diff().shift(-1).dt.total_microseconds() / 1e6


def _by_day(samples: pl.DataFrame) -> pl.dataframe.group_by.GroupBy:
    """Samples grouped by (asset_id, day), each group in time order."""
    day = pl.col("sampled_at").dt.date().alias("day")
    return samples.sort("sampled_at").with_columns(day).group_by("asset_id", "day")


STUCK_MIN_READINGS = 6


def _stuck(readings: pl.Expr) -> pl.Expr:
    """At least STUCK_MIN_READINGS readings, all the same: a sensor repeating a value."""
    return (readings.len() >= STUCK_MIN_READINGS) & (readings.n_unique() == 1)


def vibration_daily(fct_vibration: pl.DataFrame) -> pl.DataFrame:
    """clean.agg_vibration_daily from clean vibration samples (any set of whole partitions).

    Velocity statistics are over powered samples only: ISO 10816-3 / 20816-3 judge a
    machine running at its normal operating conditions, and a stopped machine's floor
    reading would pull the day's zone down to "A". The median gaps (after a powered and
    after a stopped sample) give each sensor's own cadence to the marts.
    """
    powered = pl.col("powered").fill_null(False)
    velocity = pl.col("vel_rms_max_mm_s").filter(powered)
    frame = (
        _by_day(fct_vibration.select(INPUT_COLUMNS[AGG_VIBRATION_DAILY]))
        .agg(
            pl.len().alias("samples"),
            powered.sum().alias("powered_samples"),
            (_GAP_TO_NEXT * powered.cast(pl.Float64)).sum().alias("powered_seconds_between"),
            _GAP_TO_NEXT.max().alias("largest_gap_between_s"),
            _GAP_TO_NEXT.filter(powered).median().alias("median_gap_powered_s"),
            _GAP_TO_NEXT.filter(~powered).median().alias("median_gap_stopped_s"),
            pl.col("sampled_at").first().alias("first_sampled_at"),
            powered.first().alias("first_powered"),
            pl.col("sampled_at").last().alias("last_sampled_at"),
            powered.last().alias("last_powered"),
            velocity.quantile(0.95, interpolation="linear").alias("vel_rms_p95_mm_s"),
            velocity.max().alias("vel_rms_max_mm_s"),
            _stuck(velocity.drop_nulls()).alias("stuck_value"),
            pl.col("temperature_c").max().alias("temperature_max_c"),
            pl.col("nulled_fields").is_not_null().sum().alias("samples_with_nulled_fields"),
        )
        .sort("asset_id", "day")
    )
    return conform(AGG_VIBRATION_DAILY, frame)


def energy_daily(fct_energy: pl.DataFrame) -> pl.DataFrame:
    """clean.agg_energy_daily: a sample is a distinct sampled_at of the component."""
    instants = fct_energy.select(INPUT_COLUMNS[AGG_ENERGY_DAILY]).unique()
    frame = (
        _by_day(instants)
        .agg(
            pl.len().alias("samples"),
            _GAP_TO_NEXT.max().alias("largest_gap_between_s"),
            _GAP_TO_NEXT.median().alias("median_gap_s"),
            pl.col("sampled_at").first().alias("first_sampled_at"),
            pl.col("sampled_at").last().alias("last_sampled_at"),
        )
        .sort("asset_id", "day")
    )
    return conform(AGG_ENERGY_DAILY, frame)
