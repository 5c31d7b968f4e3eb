"""Telemetry facts: vibration, rpm, energy (long format), consumption, demand and cost.

Pure functions from a batch of deduplicated raw rows to (clean, quarantined) frames.
The raw tables keep the API's names and units; the clean facts say their unit in the
column name or in `unit`, converted here: active power W -> kW, reactive power
VAR -> kVAR, consumption Wh -> kWh (demand is served in kW already).
Rules, in order (the first one broken names the row's `rule`):
- every table: `unknown_asset` (asset not in clean.dim_asset), `timestamp_before_2000`,
  `timestamp_in_future` (sampled_at later than its load's time + 15 minutes; forecast
  consumption, demand and cost rows are exempt, they are about the future by design);
- vibration: `negative_reading` on a velocity RMS axis: velocity RMS is the sample's
  primary measure (the ISO zones, the health marts), so a sample whose velocity cannot
  be trusted is quarantined whole. Its side values are checked one by one instead
  (`vibration_field_checks`): a bad one is nulled on the kept row and named in
  `nulled_fields`, so one broken probe does not hide a valid velocity;
- rpm: `negative_reading`;
- energy: `unknown_quantity`, `negative_reading` (current or voltage below 0; active
  power may be negative when a machine feeds power back, reactive power when the load
  is capacitive), `power_factor_out_of_range` (|PF| > 1), `dead_phase` (a voltage row
  with some but not all phases at 0 V: the contract's "dead phase reads 0 V" is a sensor
  artefact, not a measurement; every phase at 0 V (or missing) is a machine switched
  off, kept);
- consumption, demand, cost: `negative_reading`.
"""

from dataclasses import dataclass
from datetime import datetime

import polars as pl

from transforms.models import conform
from transforms.models.clean import ENERGY_QUANTITIES, VIBRATION_COLUMNS, WH_PER_KWH
from transforms.raw import (
    AXES,
    ENERGY_STATS,
    LOAD_ID,
    PHASES_BY_QUANTITY,
    RawTable,
)
from transforms.steps import vibration_zones
from transforms.steps.rules import (
    DEAD_PHASE,
    NEGATIVE_READING,
    POWER_FACTOR_OUT_OF_RANGE,
    TEMPERATURE_RANGE_C,
    UNKNOWN_ASSET,
    UNKNOWN_QUANTITY,
    Rule,
    impossible_time,
    split,
    unknown_reference,
)
from transforms.tables import (
    FCT_ENERGY,
    FCT_ENERGY_CONSUMPTION,
    FCT_ENERGY_COST,
    FCT_ENERGY_DEMAND,
    FCT_RPM,
    FCT_VIBRATION,
)

_LINEAGE = ("company_id", "connection_name", LOAD_ID)


@dataclass(frozen=True)
class Context:
    """What the telemetry rules need besides the rows themselves."""

    known_assets: pl.Series
    iso_limits: pl.DataFrame  # asset_id + vibration_zones.LIMIT_COLUMNS
    quarantined_at: datetime


def _any_below_zero(columns: list[str]) -> pl.Expr:
    return pl.any_horizontal([pl.col(c) < 0 for c in columns]).fill_null(False)


def _common_rules(ctx: Context) -> list[Rule]:
    return [unknown_reference(UNKNOWN_ASSET, "asset_id", ctx.known_assets)]


def _quarantine(frame: pl.DataFrame, table: RawTable) -> pl.DataFrame:
    return frame.select(*table.columns, LOAD_ID, "rule", "rules", "quarantined_at")


PRIMARY_VIBRATION = tuple(f"vel_rms_{axis}" for axis in AXES)


def vibration_field_checks() -> dict[str, pl.Expr]:
    """Raw side-value column -> when its value is impossible (null passes):
    - temperature outside [-40, 200] °C (a disconnected probe reads -273.15);
    - any RMS, peak, peak-to-peak or crest factor below 0;
    - a crest factor below 1 (peak / RMS: a peak is never below the RMS);
    - a peak below the RMS of the same family and axis.
    Crest factors in dB are not kept in the clean table, so not checked (they can be
    negative)."""
    low, high = TEMPERATURE_RANGE_C
    checks = {"temperature": (pl.col("temperature") < low) | (pl.col("temperature") > high)}
    for raw in VIBRATION_COLUMNS:
        if raw in PRIMARY_VIBRATION:
            continue
        family, measure, axis = raw.split("_", 1)[0], raw.split("_", 1)[1][:-2], raw[-1]
        bad = pl.col(raw) < 0
        if measure == "crest_factor":
            bad = bad | (pl.col(raw) < 1)
        if measure == "peak":
            bad = bad | (pl.col(raw) < pl.col(f"{family}_rms_{axis}"))
        checks[raw] = bad
    return checks


def _null_bad_fields(clean: pl.DataFrame) -> pl.DataFrame:
    """Side values that fail their check set to null, and `nulled_fields` naming them
    (clean column names, comma-separated; null when none)."""
    checks = {raw: bad.fill_null(False) for raw, bad in vibration_field_checks().items()}
    found = clean.select(bad.any().alias(raw) for raw, bad in checks.items()).row(0, named=True)
    checks = {raw: bad for raw, bad in checks.items() if found[raw]}  # the others: no copy
    if not checks:
        return clean.with_columns(pl.lit(None, dtype=pl.String).alias("nulled_fields"))
    clean_name = {"temperature": "temperature_c", **VIBRATION_COLUMNS}
    named = [pl.when(bad).then(pl.lit(clean_name[raw])) for raw, bad in checks.items()]
    nulled = pl.concat_str(named, separator=",", ignore_nulls=True)
    return clean.with_columns(
        pl.when(nulled != "").then(nulled).alias("nulled_fields"),
        *(pl.when(~bad).then(pl.col(raw)).alias(raw) for raw, bad in checks.items()),
    )


def _limits(iso_limits: pl.DataFrame) -> list[pl.Expr]:
    """Each row's asset's zone limits (null for an asset without them), looked up rather
    than joined: a join would copy every column of the batch."""
    keys = iso_limits["asset_id"]
    return [
        pl.col("asset_id").replace_strict(keys, iso_limits[c], default=None).alias(c)
        for c in vibration_zones.LIMIT_COLUMNS
    ]


def build_vibration(raw: pl.DataFrame, table: RawTable, ctx: Context) -> tuple[pl.DataFrame, ...]:
    """(fct_vibration, quarantined) from raw vibration samples."""
    rules = [
        *_common_rules(ctx),
        *impossible_time("sampled_at"),
        Rule(NEGATIVE_READING, _any_below_zero(list(PRIMARY_VIBRATION))),
    ]
    clean, quarantined = split(raw, rules, ctx.quarantined_at)
    vel_max = pl.max_horizontal("vel_rms_x_mm_s", "vel_rms_y_mm_s", "vel_rms_z_mm_s")
    fact = (
        _null_bad_fields(clean)
        .rename({"temperature": "temperature_c", **VIBRATION_COLUMNS})
        .with_columns(vel_max.alias("vel_rms_max_mm_s"), *_limits(ctx.iso_limits))
        .with_columns(
            pl.when(pl.col("powered").fill_null(False))
            .then(vibration_zones.zone(pl.col("vel_rms_max_mm_s")))
            .alias("iso_zone")
        )
    )
    return conform(FCT_VIBRATION, fact), _quarantine(quarantined, table)


def build_rpm(raw: pl.DataFrame, table: RawTable, ctx: Context) -> tuple[pl.DataFrame, ...]:
    rules = [
        *_common_rules(ctx),
        *impossible_time("sampled_at"),
        Rule(NEGATIVE_READING, pl.col("rpm") < 0),
    ]
    clean, quarantined = split(raw, rules, ctx.quarantined_at)
    return conform(FCT_RPM, clean), _quarantine(quarantined, table)


def _quantity_columns(quantity: str) -> list[str]:
    return [f"{stat}_{phase}" for stat in ENERGY_STATS for phase in PHASES_BY_QUANTITY[quantity]]


def _energy_rules(ctx: Context) -> list[Rule]:
    quantity = pl.col("quantity")
    current, voltage = _quantity_columns("current"), _quantity_columns("voltage")
    power_factor = _quantity_columns("power-factor")
    volts = [pl.col(f"average_{p}") for p in PHASES_BY_QUANTITY["voltage"]]
    zero_volts = [v == 0 for v in volts]
    off = pl.all_horizontal([(v == 0) | v.is_null() for v in volts])
    return [
        *_common_rules(ctx),
        Rule(UNKNOWN_QUANTITY, ~quantity.is_in(list(PHASES_BY_QUANTITY))),
        *impossible_time("sampled_at"),
        Rule(
            NEGATIVE_READING,
            ((quantity == "current") & _any_below_zero(current))
            | ((quantity == "voltage") & _any_below_zero(voltage)),
        ),
        Rule(
            POWER_FACTOR_OUT_OF_RANGE,
            (quantity == "power-factor")
            & pl.any_horizontal([pl.col(c).abs() > 1 for c in power_factor]).fill_null(False),
        ),
        Rule(
            DEAD_PHASE,
            (quantity == "voltage") & pl.any_horizontal(zero_volts).fill_null(False) & ~off,
        ),
    ]


def _phase_rows(rows: pl.DataFrame, raw_quantity: str, phase: str) -> pl.DataFrame:
    """One phase of one quantity's `rows`, named and scaled as the clean layer has them."""
    quantity = ENERGY_QUANTITIES[raw_quantity]
    values = [
        (pl.col(f"{stat}_{phase}") / quantity.per_unit).alias(short)
        for stat, short in (("average", "avg"), ("minimum", "min"), ("maximum", "max"))
    ]
    return rows.select(
        "asset_id",
        pl.lit(quantity.name, dtype=pl.String).alias("quantity"),
        "sampled_at",
        *_LINEAGE,
        pl.lit(phase).alias("phase"),
        *values,
        pl.lit(quantity.unit, dtype=pl.String).alias("unit"),
    )


def build_energy(raw: pl.DataFrame, table: RawTable, ctx: Context) -> tuple[pl.DataFrame, ...]:
    """(fct_energy, quarantined): one clean row per sample and phase of its quantity."""
    clean, quarantined = split(raw, _energy_rules(ctx), ctx.quarantined_at)
    # One frame per (quantity, phase): a quantity's rows never carry other phases. Left
    # in chunks: DuckDB and the checks read them as they are, without a copy.
    frames = []
    for quantity, phases in PHASES_BY_QUANTITY.items():
        rows = clean.filter(pl.col("quantity") == quantity)
        frames += [_phase_rows(rows, quantity, phase) for phase in phases]
    long = pl.concat(frames, rechunk=False)
    return conform(FCT_ENERGY, long), _quarantine(quarantined, table)


def _interval_series(
    raw: pl.DataFrame,
    table: RawTable,
    ctx: Context,
    fact_table: str,
    values: dict[str, tuple[str, float]],
) -> tuple[pl.DataFrame, ...]:
    """(fact, quarantined) of a series with a `forecast` flag; `values` maps each raw
    value column to its clean name and how many raw units make one clean unit."""
    rules = [
        *_common_rules(ctx),
        *impossible_time("sampled_at", future_allowed=pl.col("forecast")),
        Rule(NEGATIVE_READING, _any_below_zero(list(values))),
    ]
    clean, quarantined = split(raw, rules, ctx.quarantined_at)
    fact = clean.with_columns(
        *((pl.col(column) / per_unit).alias(name) for column, (name, per_unit) in values.items()),
        pl.col("forecast").alias("is_forecast"),
    )
    return conform(fact_table, fact), _quarantine(quarantined, table)


def build_consumption(raw: pl.DataFrame, table: RawTable, ctx: Context) -> tuple[pl.DataFrame, ...]:
    """(fct_energy_consumption, quarantined): the API's Wh as kWh."""
    values = {
        "consumption": ("consumption_kwh", WH_PER_KWH),
        "accumulated_consumption": ("accumulated_consumption_kwh", WH_PER_KWH),
    }
    return _interval_series(raw, table, ctx, FCT_ENERGY_CONSUMPTION, values)


def build_demand(raw: pl.DataFrame, table: RawTable, ctx: Context) -> tuple[pl.DataFrame, ...]:
    """(fct_energy_demand, quarantined): demand as served, in kW."""
    return _interval_series(raw, table, ctx, FCT_ENERGY_DEMAND, {"demand": ("demand_kw", 1.0)})


def build_cost(raw: pl.DataFrame, table: RawTable, ctx: Context) -> tuple[pl.DataFrame, ...]:
    """(fct_energy_cost, quarantined): cost as served, in the company's currency."""
    return _interval_series(raw, table, ctx, FCT_ENERGY_COST, {"cost": ("cost", 1.0)})
