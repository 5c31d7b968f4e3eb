"""Which rows of the daily marts a run recomputes.

The daily marts hold every component-day of the history, yet a 15-minute sync changes
the last day or two of each component. A component-day's row depends on its own daily
aggregate and quarantined samples, on the component's samples just before and after it
(gaps are measured across days), on its cadence (over all its days), on the 30 days
before it (baseline), on its insights, and, after its last sample, on `as_of`. So a run
recomputes each component's rows from `from_day`: the last day with samples (of its own
sensor type) before the first day it rewrote, else the last day with samples (its
silence up to `as_of` grew), and never later than the day of the previous run's `as_of`
(that day was cut there); all of a component's rows when its cadence or insights
changed; and every row when what the grid itself rests on changed (the components,
their ISO classes, where the data starts), as a full run does. Every row from `from_day`
on is deleted and written again, so an `as_of` that moved back leaves no row behind.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

import duckdb
import polars as pl

from transforms.steps import marts_daily
from transforms.tables import (
    AGG_ENERGY_DAILY,
    AGG_VIBRATION_DAILY,
    ASSET_ISO_CONFIG,
    DIM_ASSET,
    FCT_INSIGHT,
)
from transforms.warehouse.duckdb_io import read_table, table_exists

_DAYS = {"vibration": AGG_VIBRATION_DAILY, "energy": AGG_ENERGY_DAILY}
_CONTEXT = timedelta(days=marts_daily.BASELINE_DAYS)  # the baseline looks this far back


@dataclass(frozen=True)
class MartInputs:
    """What the daily marts rest on beyond each day's own rows."""

    components: pl.DataFrame  # asset_id, sensor_type, is_deleted
    iso_config: pl.DataFrame
    insights: pl.DataFrame  # asset_id, insight_id (two alike still count), created_at, closed_at
    cadence: pl.DataFrame  # asset_id and its cadences
    data_start: dict[str, datetime | None]  # per sensor type


def components(conn: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """asset_id, sensor_type, is_deleted of the components the daily marts cover."""
    types = ", ".join(f"'{t}'" for t in marts_daily.SENSOR_TYPES)
    where = f"kind = 'component' AND sensor_type IN ({types})"
    return read_table(conn, DIM_ASSET, where).select("asset_id", "sensor_type", "is_deleted")


def inputs(conn: duckdb.DuckDBPyConnection, daily: dict[str, pl.DataFrame]) -> MartInputs:
    """The inputs as the warehouse holds them now (`daily`: the daily aggregates)."""
    return MartInputs(
        components=components(conn),
        iso_config=read_table(conn, ASSET_ISO_CONFIG),
        insights=read_table(conn, FCT_INSIGHT).select(
            "asset_id", "insight_id", "created_at", "closed_at"
        ),
        cadence=marts_daily.cadences(daily),
        data_start=marts_daily.data_starts(daily),
    )


def previous_inputs(
    conn: duckdb.DuckDBPyConnection, previous_as_of: datetime | None
) -> tuple[MartInputs, datetime] | None:
    """The inputs the last run built the marts on (whose `as_of` was `previous_as_of`),
    read before a run writes anything. None when there is nothing to build on."""
    needed = (DIM_ASSET, ASSET_ISO_CONFIG, FCT_INSIGHT, *_DAYS.values())
    if previous_as_of is None or not all(table_exists(conn, name) for name in needed):
        return None
    daily = {kind: read_table(conn, name) for kind, name in _DAYS.items()}
    return inputs(conn, daily), previous_as_of


def _differing(old: pl.DataFrame, new: pl.DataFrame) -> pl.Series:
    """asset_id of the rows in one frame but not the other."""
    columns = new.columns
    gone = old.select(columns).join(new, on=columns, how="anti", nulls_equal=True)
    came = new.join(old.select(columns), on=columns, how="anti", nulls_equal=True)
    return pl.concat([gone["asset_id"], came["asset_id"]]).unique()


def _frames_equal(old: pl.DataFrame, new: pl.DataFrame) -> bool:
    return old.columns == new.columns and _differing(old, new).is_empty()


def scope(
    previous: tuple[MartInputs, datetime] | None,
    current: MartInputs,
    daily: dict[str, pl.DataFrame],
    rewritten: pl.DataFrame | None,
) -> pl.DataFrame | None:
    """asset_id, from_day (null: all its days), grid_start for every component, or None to
    recompute every row. `rewritten`: the (asset_id, day) partitions of the telemetry
    this run rewrote (None: all of them, a full run); `daily`: the aggregates after it.

    `grid_start` is where the grid must begin for the rows from `from_day` to come out as
    a full build makes them: the previous day with samples and the baseline's 30 days.
    """
    if previous is None or rewritten is None:
        return None
    before, previous_as_of = previous
    if (
        before.data_start != current.data_start
        or not _frames_equal(before.components, current.components)
        or not _frames_equal(before.iso_config, current.iso_config)
    ):
        return None
    whole = pl.concat(
        [_differing(before.cadence, current.cadence), _differing(before.insights, current.insights)]
    )
    # A component's days with samples of its own sensor type: an asset's stray readings
    # of another type never reach its rows.
    sampled = pl.concat(
        [
            frame.select("asset_id", "day").join(
                current.components.filter(pl.col("sensor_type") == kind), on="asset_id", how="semi"
            )
            for kind, frame in daily.items()
        ]
    )
    first_rewritten = rewritten.group_by("asset_id").agg(pl.col("day").min().alias("_rewritten"))
    last_sampled = sampled.group_by("asset_id").agg(pl.col("day").max().alias("_last"))
    rows = (
        current.components.select("asset_id")
        .join(last_sampled, on="asset_id", how="left")
        .join(first_rewritten, on="asset_id", how="left")
        .join(
            _last_before(sampled, first_rewritten, "_rewritten", "_before"),
            on="asset_id",
            how="left",
        )
    )
    recompute_from = (
        pl.when(pl.col("_rewritten").is_not_null())
        .then(pl.col("_before"))
        .otherwise(pl.col("_last"))
    )
    # Null: no sample before what changed, so every row can. The previous run's last day
    # ended at its as_of: that row changes in any case.
    from_day = (
        pl.when(pl.col("asset_id").is_in(whole.implode()) | recompute_from.is_null())
        .then(pl.lit(None, dtype=pl.Date))
        .otherwise(pl.min_horizontal(recompute_from, pl.lit(previous_as_of.date())))
    )
    found = rows.select("asset_id", from_day.alias("from_day"))
    prior = _last_before(sampled, found, "from_day", "_prior")
    grid_start = pl.min_horizontal(pl.col("from_day") - _CONTEXT, pl.col("_prior"))
    return found.join(prior, on="asset_id", how="left").select(
        "asset_id",
        "from_day",
        pl.when(pl.col("from_day").is_not_null()).then(grid_start).alias("grid_start"),
    )


def _last_before(
    sampled: pl.DataFrame, bounds: pl.DataFrame, bound: str, alias: str
) -> pl.DataFrame:
    """asset_id and the last day with samples before its `bound` day."""
    return (
        sampled.join(bounds.select("asset_id", bound), on="asset_id")
        .filter(pl.col("day") < pl.col(bound))
        .group_by("asset_id")
        .agg(pl.col("day").max().alias(alias))
    )
