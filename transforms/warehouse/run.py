"""One transform run: raw tables -> clean, quarantine, marts, then the read copy.

    from transforms.warehouse.run import transform
    report = transform(Path("warehouse/tractian.duckdb"))          # incremental
    report = transform(Path("warehouse/tractian.duckdb"), full=True)
    report = transform(lake_connection)  # a DuckLake attached as the current database

Every change a run makes to the warehouse's tables is committed by one transaction: a
failure (bad data that slips past the rules, a crash) leaves the previous state intact,
and the loads it did not finish are picked up by the next run. (A full rebuild first
builds the big telemetry tables as stage tables, which that transaction swaps in.) The
read copy is published after the commit.
"""

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import polars as pl

from transforms import category_map, zone_config
from transforms.models import MODELS, table_schema
from transforms.steps import vibration_zones
from transforms.steps.telemetry_facts import Context
from transforms.tables import ASSET_HEALTH_DAILY, SENSOR_HEALTH_DAILY, WHOLE_TABLES
from transforms.warehouse import mart_scope
from transforms.warehouse.build_marts import build_marts
from transforms.warehouse.build_telemetry import STEPS, drop_stages, rebuild, stage, swap_in_stage
from transforms.warehouse.build_whole_tables import (
    Dimensions,
    build_records,
    compute_dimensions,
    stored_dimensions,
    write_dimensions,
)
from transforms.warehouse.duckdb_io import Target, ensure_schemas, opened
from transforms.warehouse.incremental import Plan, last_run, plan_run, record_run, widen_for_assets
from transforms.warehouse.read_copy import (
    Changes,
    default_read_copy,
    publish_read_copy,
    read_copy_run_id,
)
from transforms.warehouse.row_sets import NO_ROWS, KeyRows, PartitionRows, RowSet


@dataclass(frozen=True)
class Configuration:
    """A run's configuration files: the ISO machine classes and the category map."""

    iso_overrides: pl.DataFrame
    category_map: pl.DataFrame

    def digest(self) -> str:
        """Changes when either file's rows change, so the next run rebuilds."""
        return vibration_zones.overrides_digest(self.iso_overrides) + category_map.digest(
            self.category_map
        )


@dataclass
class TransformReport:
    """What a run did. `rebuilt_partitions` is None on a full rebuild; `as_of` is the
    marts' "now" (the latest clean sample, capped at the latest load)."""

    run_id: int | None
    full: bool
    up_to_date: bool
    new_loads: int
    rebuilt_partitions: int | None
    rows: dict[str, int] = field(default_factory=dict)
    quarantined: dict[str, dict[str, int]] = field(default_factory=dict)
    as_of: datetime | None = None
    read_copy: Path | None = None
    duration_s: float = 0.0
    recomputed_mart_rows: int | None = None  # daily mart rows; None: all (or none to do)
    whole_tables_kept: bool = False  # dimensions and records left as they were

    def summary(self) -> str:
        """A few human-readable lines for the CLI."""
        if self.up_to_date:
            head = f"transform: up to date (run {self.run_id}), no new load"
        else:
            scope = "full rebuild" if self.full else f"{self.rebuilt_partitions} partitions"
            if self.recomputed_mart_rows is not None:
                scope += f", {self.recomputed_mart_rows} daily mart rows"
            if self.whole_tables_kept:
                scope += ", dimensions and records unchanged"
            head = f"transform run {self.run_id}: {self.new_loads} new loads, {scope}"
        lines = [f"{head}, {self.duration_s:.1f}s"]
        lines += [f"  {name}: {count} rows" for name, count in self.rows.items()]
        for raw, rules in self.quarantined.items():
            detail = ", ".join(f"{rule} {n}" for rule, n in sorted(rules.items()))
            lines.append(f"  quarantine.{raw}: {detail}")
        if self.read_copy:
            lines.append(f"  read copy: {self.read_copy}")
        return "\n".join(lines)


def _outputs_current(conn: duckdb.DuckDBPyConnection) -> bool:
    """Every table exists with the columns its model has now (else: rebuild everything)."""
    stored: dict[str, list[str]] = {}
    rows = conn.sql(
        "SELECT schema_name || '.' || table_name, column_name FROM duckdb_columns() "
        "WHERE database_name = current_database() ORDER BY column_index"
    ).fetchall()
    for table, column in rows:
        stored.setdefault(table, []).append(column)
    return all(stored.get(name) == list(table_schema(name)) for name in MODELS)


def _prepare(
    conn: duckdb.DuckDBPyConnection, plan: Plan, config: Configuration
) -> tuple[Dimensions, Context, dict[str, KeyRows]]:
    """Before the transaction: dimensions, the rows to rewrite per telemetry table
    (incremental), staged telemetry (full)."""
    ensure_schemas(conn)
    drop_stages(conn)
    if plan.rebuild_whole_tables:
        dimensions = compute_dimensions(conn, plan, config.iso_overrides, config.category_map)
    else:
        dimensions = stored_dimensions(conn)
    ctx = Context(dimensions.asset_ids, dimensions.iso_limits, plan.started_at)
    changed = {}
    for raw_name, step in STEPS.items():
        whole_assets = dimensions.changed_assets
        if raw_name == "vibration_samples":
            whole_assets = pl.concat([whole_assets, dimensions.changed_limits])
        widen_for_assets(conn, plan, step.raw, whole_assets)
        if plan.partitions[raw_name] is None:
            stage(conn, step, ctx)
        else:
            changed[raw_name] = KeyRows.of(plan.keys[raw_name], whole_assets)
    return dimensions, ctx, changed


def _apply(
    conn: duckdb.DuckDBPyConnection,
    plan: Plan,
    dimensions: Dimensions,
    ctx: Context,
    changed: dict[str, KeyRows],
) -> tuple[Changes, int | None]:
    """Inside the transaction: write everything and record the run."""
    previous_marts = None if plan.full else mart_scope.previous_inputs(conn, plan.previous_as_of)
    write_dimensions(conn, dimensions)
    rewritten: dict[str, RowSet] = {}
    for raw_name, step in STEPS.items():
        parts = plan.partitions[raw_name]
        if parts is None:
            swap_in_stage(conn, step)
            continue
        rebuild(conn, step, changed[raw_name], parts, ctx)
        rewritten[step.fact] = step.fact_rows(changed[raw_name])
        rewritten[step.quarantine] = changed[raw_name]
        if step.aggregate_table:
            rewritten[step.aggregate_table] = PartitionRows(parts, "day")
    if plan.rebuild_whole_tables:
        build_records(conn, plan, dimensions)
    else:
        rewritten |= dict.fromkeys(WHOLE_TABLES, NO_ROWS)
    marts = build_marts(
        conn, plan.latest_load_at, plan.started_at, previous_marts, _rewritten_partitions(plan)
    )
    record_run(conn, plan, datetime.now(UTC), marts.as_of)
    if marts.recomputed is not None:
        rewritten |= dict.fromkeys((ASSET_HEALTH_DAILY, SENSOR_HEALTH_DAILY), marts.recomputed)
    changes = Changes(plan.run_id, None if plan.full else plan.previous_run_id, rewritten)
    return changes, marts.recomputed_rows


def _rewritten_partitions(plan: Plan) -> pl.DataFrame | None:
    """(asset_id, day) of every telemetry partition the run rewrote; None: all (full)."""
    if plan.full:
        return None
    return pl.concat([parts for parts in plan.partitions.values() if parts is not None])


def _counts(conn: duckdb.DuckDBPyConnection) -> tuple[dict[str, int], dict[str, dict[str, int]]]:
    rows = {
        name: conn.sql(f"SELECT count(*) FROM {name}").fetchall()[0][0]
        for name in MODELS
        if not name.startswith("quarantine.")
    }
    quarantined: dict[str, dict[str, int]] = {}
    for name in MODELS:
        if name.startswith("quarantine."):
            by_rule = conn.sql(f"SELECT rule, count(*) FROM {name} GROUP BY rule").fetchall()
            if by_rule:
                quarantined[name.split(".", 1)[1]] = dict(by_rule)
    return rows, quarantined


def transform(
    target: Target,
    *,
    full: bool = False,
    read_copy: Path | None = None,
    publish: bool = True,
    iso_config: Path | None = None,
    category_map_path: Path | None = None,
) -> TransformReport:
    """Bring clean, quarantine and marts up to date with the raw tables of `target`: the
    DuckDB file, or a connection on a DuckLake (whose readers attach it read-only, so it
    needs no read copy).

    Incremental unless `full` (or nothing was built yet). For the file, `read_copy`
    defaults to `<db stem>_read.duckdb` beside it; `publish=False` skips it.
    `iso_config` (else env TRACTIAN_ISO_CONFIG) is the per-asset ISO class CSV,
    `category_map_path` (else env TRACTIAN_CATEGORY_MAP) the work-order category map.
    """
    started = time.monotonic()
    config = Configuration(zone_config.load(iso_config), category_map.load(category_map_path))
    target_copy = None
    if publish and isinstance(target, Path):
        target_copy = read_copy or default_read_copy(target)
    with opened(target) as conn:
        plan = plan_run(
            conn, full=full, config_digest=config.digest(), outputs_current=_outputs_current(conn)
        )
        recomputed = None
        if plan.nothing_to_do:
            _republish_if_stale(conn, plan, target_copy)
        else:
            recomputed = _commit(conn, plan, config, target_copy)
        rows, quarantined = _counts(conn)
        last = last_run(conn)
    return TransformReport(
        run_id=plan.previous_run_id if plan.nothing_to_do else plan.run_id,
        full=plan.full,
        up_to_date=plan.nothing_to_do,
        new_loads=len(plan.new_loads),
        rebuilt_partitions=plan.rebuilt_partitions(),
        rows=rows,
        quarantined=quarantined,
        as_of=last["as_of"] if last else None,
        read_copy=target_copy,
        duration_s=time.monotonic() - started,
        recomputed_mart_rows=recomputed,
        whole_tables_kept=not plan.nothing_to_do and not plan.rebuild_whole_tables,
    )


def _commit(
    conn: duckdb.DuckDBPyConnection, plan: Plan, config: Configuration, target: Path | None
) -> int | None:
    """Prepare, apply the plan in one transaction, then publish the read copy; returns
    the daily mart rows recomputed (None: all)."""
    try:
        dimensions, ctx, changed = _prepare(conn, plan, config)
        conn.execute("BEGIN")
        try:
            changes, recomputed = _apply(conn, plan, dimensions, ctx, changed)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    except BaseException:
        drop_stages(conn)
        raise
    if target is not None:
        publish_read_copy(conn, target, changes)
    return recomputed


def _republish_if_stale(conn: duckdb.DuckDBPyConnection, plan: Plan, target: Path | None) -> None:
    """Nothing new: publish only if the read copy is missing or behind the last run."""
    if target is not None and read_copy_run_id(conn, target) != plan.previous_run_id:
        publish_read_copy(conn, target)
