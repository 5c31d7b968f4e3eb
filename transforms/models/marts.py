"""pandera models of the daily aggregates (schema clean) and of the marts."""

import pandera.polars as pa
import polars as pl
from pandera.polars import PolarsData

from transforms.models.clean import UTC
from transforms.steps.vibration_zones import ZONES


class AggVibrationDaily(pa.DataFrameModel):
    """One component-day of clean vibration samples; the marts add the day's edges."""

    asset_id: str
    day: pl.Date
    samples: int = pa.Field(ge=1)
    powered_samples: int = pa.Field(ge=0)
    powered_seconds_between: float = pa.Field(ge=0)
    largest_gap_between_s: float = pa.Field(ge=0, nullable=True)
    median_gap_powered_s: float = pa.Field(ge=0, nullable=True)
    median_gap_stopped_s: float = pa.Field(ge=0, nullable=True)
    first_sampled_at: UTC
    first_powered: bool
    last_sampled_at: UTC
    last_powered: bool
    vel_rms_p95_mm_s: float = pa.Field(ge=0, nullable=True)
    vel_rms_max_mm_s: float = pa.Field(ge=0, nullable=True)
    stuck_value: bool
    temperature_max_c: float = pa.Field(nullable=True)
    samples_with_nulled_fields: int = pa.Field(ge=0)

    class Config:
        strict = True
        unique = ("asset_id", "day")


class AggEnergyDaily(pa.DataFrameModel):
    """One component-day of clean energy samples (a sample: a distinct sampled_at)."""

    asset_id: str
    day: pl.Date
    samples: int = pa.Field(ge=1)
    largest_gap_between_s: float = pa.Field(ge=0, nullable=True)
    median_gap_s: float = pa.Field(ge=0, nullable=True)
    first_sampled_at: UTC
    last_sampled_at: UTC

    class Config:
        strict = True
        unique = ("asset_id", "day")


class AssetHealthDaily(pa.DataFrameModel):
    asset_id: str
    day: pl.Date
    samples: int = pa.Field(ge=0)
    expected_samples: float = pa.Field(ge=0, nullable=True)
    completeness: float = pa.Field(ge=0, nullable=True)
    span_hours: float = pa.Field(ge=0, le=24)
    powered_hours: float = pa.Field(ge=0, le=24)
    vel_rms_p95_mm_s: float = pa.Field(ge=0, nullable=True)
    vel_rms_max_mm_s: float = pa.Field(ge=0, nullable=True)
    iso_zone: str = pa.Field(isin=ZONES, nullable=True)
    worst_zone: str = pa.Field(isin=ZONES, nullable=True)
    is_default_class: bool
    baseline_vel_mm_s: float = pa.Field(ge=0, nullable=True)
    change_from_baseline_mm_s: float = pa.Field(nullable=True)
    baseline_alert: bool = pa.Field(nullable=True)
    temperature_max_c: float = pa.Field(nullable=True)
    open_insights: int = pa.Field(ge=0)

    class Config:
        strict = True
        unique = ("asset_id", "day")

    @pa.dataframe_check
    def the_daily_zone_is_never_above_the_worst(cls, data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select((pl.col("iso_zone") <= pl.col("worst_zone")).fill_null(True))


class SensorHealthDaily(pa.DataFrameModel):
    asset_id: str
    day: pl.Date
    sensor_type: str = pa.Field(isin=["vibration", "energy"])
    samples: int = pa.Field(ge=0)
    expected_samples: float = pa.Field(ge=0, nullable=True)
    completeness: float = pa.Field(ge=0, nullable=True)
    last_seen_at: UTC = pa.Field(nullable=True)
    largest_gap_hours: float = pa.Field(ge=0)
    offline_over_5h: bool
    stuck_value: bool = pa.Field(nullable=True)
    out_of_range_count: int = pa.Field(ge=0)

    class Config:
        strict = True
        unique = ("asset_id", "day")


class MaintenanceKpisMonthly(pa.DataFrameModel):
    """Per asset and month; definitions in steps.marts_kpis and docs/catalogue.md."""

    asset_id: str
    month: pl.Date
    failures: int = pa.Field(ge=0)
    failure_events: int = pa.Field(ge=0)
    downtime_hours: float = pa.Field(ge=0, le=31 * 24)
    observed_hours: float = pa.Field(ge=0, nullable=True)
    operating_hours: float = pa.Field(ge=0, nullable=True)
    availability: float = pa.Field(ge=0, le=1, nullable=True)
    restored_failures: int = pa.Field(ge=0)
    restoration_hours: float = pa.Field(ge=0, nullable=True)
    mttr_hours: float = pa.Field(ge=0, nullable=True)
    mtbf_12m_hours: float = pa.Field(ge=0, nullable=True)
    mtbf_12m_lower_bound_hours: float = pa.Field(ge=0, nullable=True)
    corrective_work_orders: int = pa.Field(ge=0)
    repairs: int = pa.Field(ge=0)
    active_repair_hours: float = pa.Field(ge=0, nullable=True)
    mttr_active_hours: float = pa.Field(ge=0, nullable=True)
    inherent_availability: float = pa.Field(ge=0, le=1, nullable=True)
    work_orders: int = pa.Field(ge=0)
    preventive_work_orders: int = pa.Field(ge=0)
    preventive_hours_share: float = pa.Field(ge=0, le=1, nullable=True)
    pm_due: int = pa.Field(ge=0)
    pm_on_time: int = pa.Field(ge=0)
    pm_compliance: float = pa.Field(ge=0, le=1, nullable=True)

    class Config:
        strict = True
        unique = ("asset_id", "month")

    @pa.dataframe_check
    def a_failure_window_has_no_lower_bound(cls, data: PolarsData) -> pl.LazyFrame:
        """MTBF is a value or a lower bound, never both."""
        both = (
            pl.col("mtbf_12m_hours").is_not_null()
            & pl.col("mtbf_12m_lower_bound_hours").is_not_null()
        )
        return data.lazyframe.select(~both)

    @pa.dataframe_check
    def restored_failures_are_failures(cls, data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col("restored_failures") <= pl.col("failures"))
