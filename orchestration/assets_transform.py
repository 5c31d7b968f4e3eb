"""Clean tables, quarantine tables and marts: one asset per table, one transform run.

`transforms.run.transform` rebuilds every table in one DuckDB transaction (a failure
rolls all of it back), so the assets share one non-subsettable op: what Dagster shows
per table is what that run wrote. It runs when the raw tables it reads changed (the
automation sensor), in the `duckdb_writer` pool, then its checks run on what it wrote.
"""

from collections.abc import Iterator
from datetime import timedelta
from graphlib import TopologicalSorter

import dagster as dg

from orchestration import alerts, checks
from orchestration.assets_raw import OWNERS, POOL
from orchestration.automation import after_inputs
from orchestration.keys import raw_key, table_key
from orchestration.mart_summaries import mart_summary
from orchestration.resources import TransformResource, WarehouseResource
from transforms import tables as t
from transforms.models import MODELS, TableValidationError, table_schema
from transforms.run import TransformReport, transform

# Marts follow telemetry within minutes; late after an hour, failing after two.
MARTS_FRESHNESS = dg.FreshnessPolicy.time_window(
    warn_window=timedelta(hours=1), fail_window=timedelta(hours=2)
)
_RAW = "raw:"
# What each table is built from (raw tables prefixed `raw:`), read off the transform steps.
INPUTS: dict[str, tuple[str, ...]] = {
    t.DIM_COMPANY: ("raw:companies",),
    t.DIM_LOCATION: ("raw:locations",),
    t.DIM_ASSET: ("raw:assets", "raw:asset_sensor_types", t.DIM_LOCATION),
    t.BRIDGE_ASSET_ANCESTOR: (t.DIM_ASSET,),
    t.ASSET_ISO_CONFIG: (t.BRIDGE_ASSET_ANCESTOR,),
    t.DIM_PRIORITY: ("raw:work_order_priorities",),
    t.DIM_CATEGORY: ("raw:work_order_categories",),
    t.FCT_VIBRATION: ("raw:vibration_samples", t.DIM_ASSET, t.ASSET_ISO_CONFIG),
    t.FCT_RPM: ("raw:rpm_samples", t.DIM_ASSET),
    t.FCT_ENERGY: ("raw:energy_samples", t.DIM_ASSET),
    t.FCT_ENERGY_CONSUMPTION: ("raw:energy_consumption", t.DIM_ASSET),
    t.FCT_ENERGY_DEMAND: ("raw:energy_demand", t.DIM_ASSET),
    t.FCT_ENERGY_COST: ("raw:energy_cost", t.DIM_ASSET),
    t.AGG_VIBRATION_DAILY: (t.FCT_VIBRATION,),
    t.AGG_ENERGY_DAILY: (t.FCT_ENERGY,),
    t.FCT_INSIGHT: ("raw:insights", t.DIM_ASSET),
    t.FCT_EVENT: ("raw:events", t.DIM_ASSET, t.DIM_LOCATION),
    t.FCT_WORK_ORDER: (
        "raw:work_orders",
        t.DIM_ASSET,
        t.DIM_LOCATION,
        t.DIM_CATEGORY,
        t.DIM_PRIORITY,
    ),
    t.ASSET_HEALTH_DAILY: (t.AGG_VIBRATION_DAILY, t.FCT_INSIGHT, t.ASSET_ISO_CONFIG, t.DIM_ASSET),
    t.SENSOR_HEALTH_DAILY: (
        t.AGG_VIBRATION_DAILY,
        t.AGG_ENERGY_DAILY,
        t.DIM_ASSET,
        *(t.quarantine_table(raw) for raw in t.TELEMETRY_FACTS),
    ),
    t.MAINTENANCE_KPIS_MONTHLY: (
        t.AGG_VIBRATION_DAILY,
        t.BRIDGE_ASSET_ANCESTOR,
        t.FCT_WORK_ORDER,
        t.FCT_EVENT,
        t.DIM_ASSET,
    ),
    **{t.quarantine_table(raw): (f"raw:{raw}",) for raw in t.CLEAN_OF_RAW},
}
# Multi-assets must yield their outputs inputs-first.
BUILD_ORDER = list(
    TopologicalSorter(
        {n: [d for d in ds if d in INPUTS] for n, ds in INPUTS.items()}
    ).static_order()
)
_GROUPS = {t.CLEAN: "clean", t.MARTS: "marts", t.QUARANTINE: "quarantine"}
_WHAT = {
    t.CLEAN: "Clean table: typed, deduplicated on its business key, validated by its model",
    t.MARTS: "Mart: answers for the reliability team, rebuilt whole every run",
    t.QUARANTINE: "Raw rows that broke a rule, with the rules they broke",
}


def _dep(name: str) -> dg.AssetKey:
    return raw_key(name.removeprefix(_RAW)) if name.startswith(_RAW) else table_key(name)


def _column_schema(name: str) -> dg.TableSchema:
    return dg.TableSchema(
        columns=[dg.TableColumn(column, str(dtype)) for column, dtype in table_schema(name).items()]
    )


def _spec(name: str) -> dg.AssetSpec:
    schema = name.split(".")[0]
    return dg.AssetSpec(
        table_key(name),
        deps=[_dep(d) for d in INPUTS[name]],
        group_name=_GROUPS[schema],
        kinds={"polars", "duckdb"},
        owners=OWNERS,
        description=f"{_WHAT[schema]}: `{name}` (model {MODELS[name].__name__}).",
        metadata={"dagster/table_name": name, "dagster/column_schema": _column_schema(name)},
        automation_condition=after_inputs(),
        freshness_policy=MARTS_FRESHNESS if schema == t.MARTS else None,
    )


def _materializations(report: TransformReport, warehouse: WarehouseResource) -> Iterator:
    base = {
        "transform_run_id": report.run_id,
        "incremental": not report.full,
        "new_loads": report.new_loads,
        "rebuilt_partitions": report.rebuilt_partitions,
        "as_of": str(report.as_of) if report.as_of else "no load yet",
    }
    for name in BUILD_ORDER:
        schema, table = name.split(".")
        if schema == t.QUARANTINE:
            rows = sum(report.quarantined.get(table, {}).values())
        else:
            rows = report.rows.get(name, 0)
        metadata = {**base, "dagster/row_count": rows}
        if schema == t.MARTS:
            metadata["summary"] = dg.MetadataValue.md(mart_summary(warehouse.path, name))
        yield dg.MaterializeResult(asset_key=table_key(name), metadata=metadata)


def build_transform_assets() -> list[dg.AssetsDefinition]:
    @dg.multi_asset(
        name="transform",
        specs=[_spec(name) for name in INPUTS],
        check_specs=checks.check_specs(),
        pool=POOL,
        can_subset=False,
    )
    def transform_tables(
        context: dg.AssetExecutionContext,
        warehouse: WarehouseResource,
        transform_settings: TransformResource,
    ) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
        try:
            report = transform(warehouse.path)
        except TableValidationError as exc:
            message = f"the transform rolled back: {exc}"
            raise alerts.failure({alerts.WAREHOUSE_WIDE: (alerts.DATA_QUALITY, message)}) from exc
        context.log.info(report.summary())
        yield from _materializations(report, warehouse)
        yield from checks.check_results(warehouse.path, transform_settings)

    return [transform_tables]
