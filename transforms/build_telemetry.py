"""The partitioned step of a run: telemetry facts, their quarantines and daily aggregates.

Raw rows are processed in batches of whole assets (about BATCH_ROWS rows each), so
memory stays bounded whatever the warehouse size and every (asset_id, day) partition
is complete inside one batch.

- Incremental: inside the run's transaction, delete the plan's partitions and insert
  them again.
- Full: the tables are built as `<name>__stage` before the run's transaction opens
  (one short transaction per batch: a transaction holding ten million new rows keeps
  gigabytes in memory until it commits), then swapped in by renaming inside it. A run
  that dies leaves stage tables behind; the next one drops them.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import duckdb
import polars as pl

from transforms import daily, telemetry
from transforms.models import conform, validate
from transforms.raw import (
    ENERGY_CONSUMPTION,
    ENERGY_SAMPLES,
    RPM_SAMPLES,
    VIBRATION_SAMPLES,
    RawTable,
)
from transforms.tables import DAILY_AGGREGATES, STAGE_SUFFIX, TELEMETRY_FACTS, quarantine_table
from transforms.warehouse import (
    asset_batches,
    create_table,
    delete_partitions,
    insert,
    partition_filter,
    parts_frames,
    raw_columns,
    read_raw,
)

BATCH_ROWS = 1_000_000

Builder = Callable[[pl.DataFrame, RawTable, telemetry.Context], tuple[pl.DataFrame, ...]]


@dataclass(frozen=True)
class TelemetryStep:
    raw: RawTable
    build: Builder
    aggregate: Callable[[pl.DataFrame], pl.DataFrame] | None = None

    @property
    def outputs(self) -> list[str]:
        """The tables this step writes: fact, quarantine and, if any, daily aggregate."""
        names = [TELEMETRY_FACTS[self.raw.name], quarantine_table(self.raw.name)]
        return names + ([DAILY_AGGREGATES[self.raw.name]] if self.aggregate else [])


STEPS = {
    step.raw.name: step
    for step in (
        TelemetryStep(VIBRATION_SAMPLES, telemetry.build_vibration, daily.vibration_daily),
        TelemetryStep(RPM_SAMPLES, telemetry.build_rpm),
        TelemetryStep(ENERGY_SAMPLES, telemetry.build_energy, daily.energy_daily),
        TelemetryStep(ENERGY_CONSUMPTION, telemetry.build_consumption),
    )
}


def _asset_batches(
    conn: duckdb.DuckDBPyConnection, table: RawTable, parts: pl.DataFrame | None
) -> Iterator[pl.DataFrame]:
    """Groups of asset ids whose rows (in `parts`, if given) add up to about BATCH_ROWS."""
    if raw_columns(conn, table) is None or (parts is not None and parts.is_empty()):
        return
    where = partition_filter("sampled_at", parts, "r") if parts is not None else ""
    frames = parts_frames(parts)
    yield from asset_batches(conn, f"{table.qualified} r", where, BATCH_ROWS, **frames)


def _read_batch(
    conn: duckdb.DuckDBPyConnection,
    table: RawTable,
    assets: pl.DataFrame,
    parts: pl.DataFrame | None,
) -> pl.DataFrame:
    where = "r.asset_id IN (SELECT asset_id FROM _assets)"
    if parts is None:
        return read_raw(conn, table, where, _assets=assets)
    return read_raw(
        conn,
        table,
        f"{where} AND {partition_filter('sampled_at', parts, 'r')}",
        _assets=assets,
        **parts_frames(parts),
    )


def _fill(
    conn: duckdb.DuckDBPyConnection,
    step: TelemetryStep,
    targets: list[str],
    parts: pl.DataFrame | None,
    ctx: telemetry.Context,
) -> None:
    """Build `step`'s rows (all of them, or those in `parts`) into `targets`."""
    for assets in _asset_batches(conn, step.raw, parts):
        raw = _read_batch(conn, step.raw, assets, parts)
        fact, quarantined = step.build(raw, step.raw, ctx)
        frames = [fact, quarantined] + ([step.aggregate(fact)] if step.aggregate else [])
        for name, target, frame in zip(step.outputs, targets, frames, strict=True):
            insert(conn, target, validate(name, conform(name, frame)))


def rebuild_partitions(
    conn: duckdb.DuckDBPyConnection,
    step: TelemetryStep,
    parts: pl.DataFrame,
    ctx: telemetry.Context,
) -> None:
    """Replace the rows of `parts` (asset_id, day) in `step`'s tables."""
    for name in step.outputs:
        delete_partitions(conn, name, parts)
    _fill(conn, step, step.outputs, parts, ctx)


def stage(conn: duckdb.DuckDBPyConnection, step: TelemetryStep, ctx: telemetry.Context) -> None:
    """Build all of `step`'s tables as stage tables (outside the run's transaction)."""
    staged = [name + STAGE_SUFFIX for name in step.outputs]
    for name, target in zip(step.outputs, staged, strict=True):
        create_table(conn, name, as_name=target)
    _fill(conn, step, staged, None, ctx)


def swap_in_stage(conn: duckdb.DuckDBPyConnection, step: TelemetryStep) -> None:
    """Replace `step`'s tables by their stage tables (inside the run's transaction)."""
    for name in step.outputs:
        conn.execute(f"DROP TABLE IF EXISTS {name}")
        conn.execute(f"ALTER TABLE {name}{STAGE_SUFFIX} RENAME TO {name.split('.')[1]}")


def drop_stages(conn: duckdb.DuckDBPyConnection) -> None:
    """Drop stage tables a previous run left behind."""
    for step in STEPS.values():
        for name in step.outputs:
            conn.execute(f"DROP TABLE IF EXISTS {name}{STAGE_SUFFIX}")
