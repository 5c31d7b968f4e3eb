"""The partitioned step of a run: telemetry facts, their quarantines and daily aggregates.

Raw rows are processed in batches of about BATCH_ROWS times the step's `batch_scale`
raw rows, sized so that every step's batch takes about the same memory (an energy sample
becomes one fact row per phase; rpm and interval rows are narrow). A full build reads
runs of whole UTC days, oldest first, so the facts are stored in time order, and cuts a
day bigger than a batch into runs of whole assets; an incremental one reads groups of
whole assets. Every (asset_id, day) partition is complete inside one batch, and peak
memory depends on neither the history nor the fleet (bench/ B7).

- Incremental: inside the run's transaction, rewrite the fact and quarantine rows of the
  keys the new loads carry (`row_sets.KeyRows`), then recompute the daily aggregates of
  the partitions those keys fall in, from the fact table.
- Full: the tables are built as `<name>__stage` before the run's transaction opens
  (one short transaction per batch: a transaction holding ten million new rows keeps
  gigabytes in memory until it commits; the next batch is read and built meanwhile, on
  a second connection in a worker thread), then swapped in by renaming inside it. A run
  that dies leaves stage tables behind; the next one drops them.
"""

from collections.abc import Callable, Collection, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import TypeVar

import duckdb
import polars as pl

from transforms.models import conform, validate
from transforms.models.clean import ENERGY_QUANTITIES
from transforms.raw import (
    ENERGY_CONSUMPTION,
    ENERGY_COST,
    ENERGY_DEMAND,
    ENERGY_SAMPLES,
    PHASES_BY_QUANTITY,
    RPM_SAMPLES,
    VIBRATION_SAMPLES,
    RawTable,
)
from transforms.steps import daily, telemetry_facts
from transforms.tables import (
    AGG_ENERGY_DAILY,
    DAILY_AGGREGATES,
    STAGE_SUFFIX,
    TELEMETRY_FACTS,
    quarantine_table,
)
from transforms.warehouse.duckdb_io import (
    asset_batches,
    create_table,
    delete_partitions,
    fetch,
    insert,
    raw_columns,
    read_raw,
    registered,
    release_freed_memory,
    second_connection,
    time_slices,
)
from transforms.warehouse.row_sets import KeyRows, PartitionRows, RowSet

BATCH_ROWS = 400_000
T = TypeVar("T")

Builder = Callable[[pl.DataFrame, RawTable, telemetry_facts.Context], tuple[pl.DataFrame, ...]]


@dataclass(frozen=True)
class TelemetryStep:
    raw: RawTable
    build: Builder
    aggregate: Callable[[pl.DataFrame], pl.DataFrame] | None = None
    # Raw rows per batch, as a multiple of BATCH_ROWS: about the same memory for every
    # step (an energy row becomes three fact rows; rpm and interval rows are narrow).
    batch_scale: float = 1.0
    # Key columns whose values the fact names otherwise than the raw table and the
    # quarantine do (column -> raw value -> the fact's).
    fact_names: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    @property
    def fact(self) -> str:
        return TELEMETRY_FACTS[self.raw.name]

    def fact_rows(self, rows: KeyRows) -> KeyRows:
        """`rows` (keys as the raw table holds them) in the fact table."""
        return rows.named_as(self.fact_names) if self.fact_names else rows

    @property
    def quarantine(self) -> str:
        return quarantine_table(self.raw.name)

    @property
    def aggregate_table(self) -> str | None:
        return DAILY_AGGREGATES[self.raw.name] if self.aggregate else None

    @property
    def outputs(self) -> list[str]:
        """The tables this step writes: fact, quarantine and, if any, daily aggregate."""
        return [self.fact, self.quarantine] + ([self.aggregate_table] if self.aggregate else [])


STEPS = {
    step.raw.name: step
    for step in (
        TelemetryStep(VIBRATION_SAMPLES, telemetry_facts.build_vibration, daily.vibration_daily),
        TelemetryStep(RPM_SAMPLES, telemetry_facts.build_rpm, batch_scale=1.5),
        TelemetryStep(
            ENERGY_SAMPLES,
            telemetry_facts.build_energy,
            daily.energy_daily,
            1 / 3,
            {"quantity": {raw: clean.name for raw, clean in ENERGY_QUANTITIES.items()}},
        ),
        TelemetryStep(ENERGY_CONSUMPTION, telemetry_facts.build_consumption, batch_scale=1.5),
        TelemetryStep(ENERGY_DEMAND, telemetry_facts.build_demand, batch_scale=1.5),
        TelemetryStep(ENERGY_COST, telemetry_facts.build_cost, batch_scale=1.5),
    )
}


def _raw_batches(
    conn: duckdb.DuckDBPyConnection, step: TelemetryStep, rows: RowSet | None
) -> Iterator[pl.DataFrame]:
    """`step`'s deduplicated raw rows (those in `rows`, if given) in batches of about
    BATCH_ROWS x `step.batch_scale` rows.

    A whole build reads `time_slices`: whole UTC days oldest first (a big day by runs of
    assets), so the facts are stored in time order and a later run's lookups, bounded in
    time, skip the row groups of older days. A set of rows is read in groups of whole
    assets.
    """
    if raw_columns(conn, step.raw) is None:
        return
    batch_rows = max(1, int(BATCH_ROWS * step.batch_scale))
    relation = step.raw.qualified
    if rows is None:
        for where in time_slices(conn, relation, "sampled_at", batch_rows):
            yield read_raw(conn, step.raw, where)
        return
    where, frames = rows.where("r"), rows.frames()
    for assets in asset_batches(conn, f"{relation} r", where, batch_rows, **frames):
        in_assets = f"r.asset_id IN (SELECT asset_id FROM _assets) AND ({where})"
        yield read_raw(conn, step.raw, in_assets, _assets=assets, **frames)


def _built(
    conn: duckdb.DuckDBPyConnection,
    step: TelemetryStep,
    outputs: Collection[str],
    rows: RowSet | None,
    ctx: telemetry_facts.Context,
) -> Iterator[dict[str, pl.DataFrame]]:
    """`step`'s validated frames per batch (all of its rows, or those in `rows`), by
    output name; the aggregate only when it is among `outputs`."""
    for raw in _raw_batches(conn, step, rows):
        fact, quarantined = step.build(raw, step.raw, ctx)
        del raw
        frames = {step.fact: fact, step.quarantine: quarantined}
        if step.aggregate and step.aggregate_table in outputs:
            frames[step.aggregate_table] = step.aggregate(fact)
        del fact, quarantined
        built = {name: validate(name, conform(name, frame)) for name, frame in frames.items()}
        del frames
        yield built
        del built  # inserted by now: freed before the next batch is read


_DONE = object()


def _one_ahead(items: Iterator[T]) -> Iterator[T]:
    """`items`, each next one made in a worker thread while the caller uses the last.

    The generator only ever runs in the worker, one step at a time. If the caller stops
    early, the step under way finishes before this returns.
    """
    with ThreadPoolExecutor(1, thread_name_prefix="transform-batch") as worker:
        pending = worker.submit(next, items, _DONE)
        while (item := pending.result()) is not _DONE:
            pending = worker.submit(next, items, _DONE)
            yield item
            del item  # used by now: freed while the next one is awaited


def _fill(
    conn: duckdb.DuckDBPyConnection,
    step: TelemetryStep,
    targets: dict[str, str],
    rows: RowSet | None,
    ctx: telemetry_facts.Context,
) -> None:
    """Build `step`'s rows (all of them, or those in `rows`) into `targets` (output name
    -> table written); the aggregate only when it is among them.

    A whole build runs outside any transaction, batch after batch: a second connection
    reads and builds the next batch in a worker thread while this one inserts the last
    (an insert is mostly DuckDB compressing strings on one core; reading, building and
    validating mostly polars and pandera on the other). A set of rows is read inside
    the run's transaction, by this connection.
    """
    with ExitStack() as stack:
        if rows is None:
            reader = stack.enter_context(second_connection(conn))
            batches = _one_ahead(_built(reader, step, targets, None, ctx))
            stack.callback(batches.close)
        else:
            batches = _built(conn, step, targets, rows, ctx)
        for frames in batches:
            for name, frame in frames.items():
                insert(conn, targets[name], frame)
            del frames
            release_freed_memory()


def rebuild(
    conn: duckdb.DuckDBPyConnection,
    step: TelemetryStep,
    rows: KeyRows,
    parts: pl.DataFrame,
    ctx: telemetry_facts.Context,
) -> None:
    """Rewrite `rows` of `step`'s fact and quarantine, then its aggregate's `parts`."""
    if not rows.is_empty():
        with registered(conn, **rows.frames()):
            for name, in_table in ((step.fact, step.fact_rows(rows)), (step.quarantine, rows)):
                conn.execute(f"DELETE FROM {name} WHERE {in_table.where()}")
        _fill(conn, step, {step.fact: step.fact, step.quarantine: step.quarantine}, rows, ctx)
    if step.aggregate and step.aggregate_table and not parts.is_empty():
        _reaggregate(conn, step.fact, step.aggregate, step.aggregate_table, parts)


# The energy facts hold one row per phase of each sample's quantity, all of its phases
# (telemetry_facts.build_energy); the first phase of each quantity gives one row per
# sample: a third of the rows for an aggregate that reads only asset and time.
_FIRST_PHASES = sorted({phases[0] for phases in PHASES_BY_QUANTITY.values()})
_ONE_ROW_PER_SAMPLE = {AGG_ENERGY_DAILY: f"r.phase IN ({', '.join(map(repr, _FIRST_PHASES))})"}


def _reaggregate(
    conn: duckdb.DuckDBPyConnection,
    fact: str,
    aggregate: Callable[[pl.DataFrame], pl.DataFrame],
    table: str,
    parts: pl.DataFrame,
) -> None:
    """Recompute `parts` of aggregate `table` from the (already rewritten) `fact` table."""
    delete_partitions(conn, table, parts)
    in_parts = PartitionRows(parts, "sampled_at")
    relation, where = f"{fact} r", in_parts.where("r")
    if table in _ONE_ROW_PER_SAMPLE:
        where = f"{_ONE_ROW_PER_SAMPLE[table]} AND {where}"
    columns = ", ".join(f"r.{c}" for c in daily.INPUT_COLUMNS[table])
    for assets in asset_batches(conn, relation, where, BATCH_ROWS, **in_parts.frames()):
        with registered(conn, _assets=assets, **in_parts.frames()):
            # DISTINCT: the energy aggregate counts instants, which hold a sample of each
            # quantity; the other facts' rows are unique.
            facts = fetch(
                conn,
                f"SELECT DISTINCT {columns} FROM {relation} "
                f"WHERE r.asset_id IN (SELECT asset_id FROM _assets) AND {where}",
            )
        insert(conn, table, validate(table, conform(table, aggregate(facts))))


def stage(
    conn: duckdb.DuckDBPyConnection, step: TelemetryStep, ctx: telemetry_facts.Context
) -> None:
    """Build all of `step`'s tables as stage tables (outside the run's transaction)."""
    staged = {name: name + STAGE_SUFFIX for name in step.outputs}
    for name, target in staged.items():
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
