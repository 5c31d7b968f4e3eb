"""Raw tables as assets: one asset per table, each body a call to `sources.pipeline.sync`.

A thin multi-asset wrapper instead of dagster-dlt's `@dlt_assets` (whose second run in
one process fails, whose row counts fail on empty loads and whose table metadata names
the wrong schema; see STACK-NOTES). Telemetry (connection × day): a run tagged
`tractian/sync_mode=incremental` (the 15-minute schedule, catch-ups) syncs
incrementally from the connection's committed state; any other run, a backfill
included, is a stateless re-read of its partitions' days. Catalogs (per connection)
always sync incrementally. With the DuckDB file, every writer is in the one
`duckdb_writer` pool; with the DuckLake, syncs run side by side (`pools`).
"""

from collections.abc import Iterator
from datetime import timedelta

import dagster as dg

from orchestration import alerts
from orchestration.keys import raw_key
from orchestration.partitions import Partitions, Window, split_key, windows_by_connection
from orchestration.raw_metadata import materializations
from orchestration.resources import ConnectionsResource, WarehouseResource
from sources import raw_schema as rs
from sources.connections import ConnectionConfigError
from sources.errors import TractianError
from sources.pipeline import ConnectionNeedsAttention, SyncFailed, SyncReport, sync
from sources.warehouses import Warehouse, configured_backend

POOL = "duckdb_writer"  # the DuckDB file: its writers, one at a time
TRANSFORM_POOL = "tractian_transform"  # the DuckLake: one transform at a time
OWNERS = ["team:data-engineering"]
SYNC_MODE_TAG = "tractian/sync_mode"
INCREMENTAL = "incremental"
CONNECTION_TAG = "tractian/connection"
TELEMETRY_GROUP, CATALOG_GROUP = "raw_telemetry", "raw_catalog"
CATALOG_TABLES = [t for t in rs.RAW_TABLES.values() if not t.telemetry]
# Telemetry syncs every 15 minutes: late after an hour, failing after two.
TELEMETRY_FRESHNESS = dg.FreshnessPolicy.time_window(
    warn_window=timedelta(hours=1), fail_window=timedelta(hours=2)
)


def _column_schema(table: rs.RawTable) -> dg.TableSchema:
    key = set(table.primary_key)
    return dg.TableSchema(
        columns=[
            dg.TableColumn(
                f.name,
                str(f.type),
                constraints=dg.TableColumnConstraints(nullable=f.nullable, unique=False),
                tags={"primary_key": ""} if f.name in key else {},
            )
            for f in table.schema
        ]
    )


def _spec(table: rs.RawTable, group: str, what: str) -> dg.AssetSpec:
    return dg.AssetSpec(
        raw_key(table.name),
        group_name=group,
        kinds={"dlt", "duckdb"},
        owners=OWNERS,
        description=f"{what}: raw `{rs.DATASET}.{table.name}` as the Tractian API returns it, "
        + (
            f"appended (only samples not yet held) and unique on ({', '.join(table.primary_key)})."
            if table.telemetry
            else f"merged on ({', '.join(table.primary_key)})."
        ),
        metadata={
            "dagster/column_schema": _column_schema(table),
            "dagster/table_name": f"{rs.DATASET}.{table.name}",
        },
        freshness_policy=TELEMETRY_FRESHNESS if table.telemetry else None,
        skippable=True,
    )


def _selected_tables(context: dg.AssetExecutionContext) -> list[str]:
    return sorted(key.path[-1] for key in context.selected_asset_keys)


def run_syncs(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseResource,
    connections: ConnectionsResource,
    plan: dict[str, list[Window | None]],
) -> Iterator[dg.MaterializeResult]:
    """Sync each planned (connection, window) — None: incremental — and report it.

    What loaded is materialized even when another connection or resource failed; then
    one `dg.Failure` names every connection that failed and why.
    """
    tables = _selected_tables(context)
    target = warehouse.warehouse()  # resolved once for every sync of the run
    done: list[tuple[SyncReport, Window | None]] = []
    failed: dict[str, tuple[str, str]] = {}
    for name, windows in plan.items():
        for window in windows:
            try:
                report = _sync_one(connections, target, name, window, tables)
            except SyncFailed as exc:
                done.append((exc.report, window))
                failed[name] = (alerts.reason_for(exc), str(exc))
            except (ConnectionNeedsAttention, ConnectionConfigError, TractianError) as exc:
                failed[name] = (alerts.reason_for(exc), str(exc))
                break
            else:
                done.append((report, window))
            context.log.info(f"synced {name} {_describe(window)}: {done[-1][0].rows}")
    if done:
        yield from materializations(target, tables, done, context.partition_keys)
    if failed:
        raise alerts.failure(failed)


def _sync_one(
    connections: ConnectionsResource,
    warehouse: Warehouse,
    name: str,
    window: Window | None,
    tables: list[str],
) -> SyncReport:
    connection = connections.load(name)
    start, end = window if window is not None else (None, None)
    return sync(connection, warehouse, start=start, end=end, resources=tables, show_progress=False)


def _describe(window: Window | None) -> str:
    return "incrementally" if window is None else f"[{window[0]:%Y-%m-%d}, {window[1]:%Y-%m-%d})"


def telemetry_plan(context: dg.AssetExecutionContext) -> dict[str, list[Window | None]]:
    """Incremental for runs tagged so, else the partitions' days as stateless windows."""
    if context.run.tags.get(SYNC_MODE_TAG) == INCREMENTAL:
        names = dict.fromkeys(split_key(key)[0] for key in context.partition_keys)
        return {name: [None] for name in names}
    return dict(windows_by_connection(context.partition_keys))


def pools() -> tuple[str | None, str]:
    """(the syncs' pool, the transform's pool) for the configured warehouse. A DuckDB
    file has one writer; a DuckLake takes syncs of different connections at once (each
    its own pipeline and staging dataset), but two transforms would conflict."""
    if configured_backend() == "ducklake":
        return None, TRANSFORM_POOL
    return POOL, POOL


def build_raw_assets(partitions: Partitions) -> list[dg.AssetsDefinition]:
    sync_pool, _ = pools()

    @dg.multi_asset(
        name="raw_telemetry",
        specs=[_spec(t, TELEMETRY_GROUP, "Telemetry") for t in rs.TELEMETRY_TABLES],
        partitions_def=partitions.telemetry,
        backfill_policy=dg.BackfillPolicy.single_run(),
        can_subset=True,
        pool=sync_pool,
    )
    def raw_telemetry(
        context: dg.AssetExecutionContext,
        warehouse: WarehouseResource,
        connections: ConnectionsResource,
    ) -> Iterator[dg.MaterializeResult]:
        yield from run_syncs(context, warehouse, connections, telemetry_plan(context))

    @dg.multi_asset(
        name="raw_catalog",
        specs=[_spec(t, CATALOG_GROUP, "Catalog") for t in CATALOG_TABLES],
        partitions_def=partitions.connections,
        can_subset=True,
        pool=sync_pool,
    )
    def raw_catalog(
        context: dg.AssetExecutionContext,
        warehouse: WarehouseResource,
        connections: ConnectionsResource,
    ) -> Iterator[dg.MaterializeResult]:
        plan: dict[str, list[Window | None]] = {key: [None] for key in context.partition_keys}
        yield from run_syncs(context, warehouse, connections, plan)

    return [raw_telemetry, raw_catalog]
