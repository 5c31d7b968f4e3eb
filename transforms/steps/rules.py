"""Quarantine rules and the split of raw rows into clean and quarantined ones.

Every raw row (after deduplication on its business key) ends in exactly one place:
the clean table or the quarantine table of its raw table. A quarantined row keeps its
raw columns and its `_dlt_load_id`, plus `rule` (the first rule it breaks, in the order
the rules are listed for its table: references, then timestamps, then values), `rules`
(every rule it breaks, comma-separated, same order) and `quarantined_at` (when the
transform run that put it there started).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import polars as pl

from transforms.raw import LOAD_ID

# Rule names. References first, then timestamps, then values.
UNKNOWN_ASSET = "unknown_asset"
UNKNOWN_LOCATION = "unknown_location"
UNKNOWN_PARENT = "unknown_parent"
UNKNOWN_QUANTITY = "unknown_quantity"
CYCLE = "cycle"
TIMESTAMP_BEFORE_2000 = "timestamp_before_2000"
TIMESTAMP_IN_FUTURE = "timestamp_in_future"
END_BEFORE_START = "end_before_start"
INVALID_JSON = "invalid_json"
NEGATIVE_READING = "negative_reading"
POWER_FACTOR_OUT_OF_RANGE = "power_factor_out_of_range"
DEAD_PHASE = "dead_phase"

# Rules about a reading's value: sensor_health_daily counts these as out-of-range (with
# the kept vibration samples whose side values were nulled).
VALUE_RULES = (NEGATIVE_READING, POWER_FACTOR_OUT_OF_RANGE, DEAD_PHASE)
ALL_RULES = (
    UNKNOWN_ASSET,
    UNKNOWN_LOCATION,
    UNKNOWN_PARENT,
    UNKNOWN_QUANTITY,
    CYCLE,
    TIMESTAMP_BEFORE_2000,
    TIMESTAMP_IN_FUTURE,
    END_BEFORE_START,
    INVALID_JSON,
    *VALUE_RULES,
)

TEMPERATURE_RANGE_C = (-40.0, 200.0)
EARLIEST_VALID = datetime(2000, 1, 1, tzinfo=UTC)
# A timestamp later than its load's time by more than this is impossible: the sync asks
# for data up to the API's clock, read before its load id is taken, so only clock skew
# between the API and this machine is allowed for. A day would let a time-zone bug
# (timestamps shifted by 1-12 hours) through; 15 minutes does not.
FUTURE_TOLERANCE = timedelta(minutes=15)

RULE_COLUMNS = ("rule", "rules", "quarantined_at")


@dataclass(frozen=True)
class Rule:
    """A named check; `fails` is true on the rows that break it (null counts as passing)."""

    name: str
    fails: pl.Expr


def load_time() -> pl.Expr:
    """When the row's load started: `_dlt_load_id` is a decimal Unix timestamp."""
    micros = (pl.col(LOAD_ID).cast(pl.Float64, strict=False) * 1_000_000).cast(pl.Int64)
    return pl.from_epoch(micros, time_unit="us").dt.replace_time_zone("UTC")


def unknown_reference(name: str, column: str, known: pl.Series) -> Rule:
    """A non-null reference in `column` that is not one of the `known` ids."""
    col = pl.col(column)
    return Rule(name, col.is_not_null() & ~col.is_in(known.implode()))


def impossible_time(column: str, *, future_allowed: pl.Expr | None = None) -> list[Rule]:
    """`column` before 2000, or later than the row's load time plus the tolerance
    (except on rows where `future_allowed` is true)."""
    col = pl.col(column)
    in_future = col > load_time() + FUTURE_TOLERANCE
    if future_allowed is not None:
        in_future = in_future & ~future_allowed.fill_null(False)
    return [Rule(TIMESTAMP_BEFORE_2000, col < EARLIEST_VALID), Rule(TIMESTAMP_IN_FUTURE, in_future)]


def split(
    frame: pl.DataFrame, rules: Sequence[Rule], quarantined_at: datetime
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(rows breaking no rule, rows breaking at least one with `rule`/`rules`/`quarantined_at`)."""
    if not rules:
        return frame, frame.clear().with_columns(_empty_rule_columns(quarantined_at))
    flags = [r.fails.fill_null(False) for r in rules]
    failed = frame.with_columns(pl.any_horizontal(flags).alias("_failed"))
    if not failed["_failed"].any():  # the usual batch: nothing to copy
        return frame, frame.clear().with_columns(_empty_rule_columns(quarantined_at))
    clean = failed.filter(~pl.col("_failed")).drop("_failed")
    # Name the broken rules on the (few) failing rows only.
    broken = [pl.when(flag).then(pl.lit(r.name)) for r, flag in zip(rules, flags, strict=True)]
    quarantined = (
        failed.filter(pl.col("_failed"))
        .drop("_failed")
        .with_columns(
            pl.coalesce(broken).alias("rule"),
            pl.concat_list(broken).list.drop_nulls().list.join(",").alias("rules"),
            pl.lit(quarantined_at, dtype=pl.Datetime("us", "UTC")).alias("quarantined_at"),
        )
    )
    return clean, quarantined


def _empty_rule_columns(quarantined_at: datetime) -> list[pl.Expr]:
    return [
        pl.lit(None, dtype=pl.String).alias("rule"),
        pl.lit(None, dtype=pl.String).alias("rules"),
        pl.lit(quarantined_at, dtype=pl.Datetime("us", "UTC")).alias("quarantined_at"),
    ]
