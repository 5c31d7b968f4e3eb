"""Clean tables, quarantine tables and marts: one asset per table, one transform run.

`transforms.warehouse.run.transform` brings every table up to date in one DuckDB transaction
(a failure rolls all of it back), so the assets share one non-subsettable op: what
Dagster shows per table is the table as that run left it (`rewritten`: false on the
dimensions and records after a telemetry-only sync, which leaves them as they were).
It runs when the raw tables it reads changed (the automation sensor), in one pool of
one slot (`assets_raw.pools`), then its checks run on what it wrote.
"""

from collections.abc import Iterator
from datetime import timedelta

import dagster as dg

from orchestration import alerts, checks
from orchestration.assets_raw import OWNERS, pools
from orchestration.automation import after_inputs
from orchestration.keys import table_key
from orchestration.mart_summaries import mart_summary
from orchestration.resources import TransformResource, WarehouseResource
from transforms import lineage
from transforms import tables as t
from transforms.models import MODELS, TableValidationError, table_schema
from transforms.warehouse.duckdb_io import Target
from transforms.warehouse.run import TransformReport, transform

# Marts follow telemetry within minutes; late after an hour, failing after two.
MARTS_FRESHNESS = dg.FreshnessPolicy.time_window(
    warn_window=timedelta(hours=1), fail_window=timedelta(hours=2)
)
_GROUPS = {t.CLEAN: "clean", t.MARTS: "marts", t.QUARANTINE: "quarantine"}
_WHAT = {
    t.CLEAN: "Clean table: typed, deduplicated on its business key, validated by its model",
    t.MARTS: "Mart: answers for the reliability team, brought up to date every run",
    t.QUARANTINE: "Raw rows that broke a rule, with the rules they broke",
}


def _column_schema(name: str) -> dg.TableSchema:
    return dg.TableSchema(
        columns=[dg.TableColumn(column, str(dtype)) for column, dtype in table_schema(name).items()]
    )


def _spec(name: str) -> dg.AssetSpec:
    schema = name.split(".")[0]
    return dg.AssetSpec(
        table_key(name),
        deps=[table_key(d) for d in lineage.INPUTS[name]],
        group_name=_GROUPS[schema],
        kinds={"polars", "duckdb"},
        owners=OWNERS,
        description=f"{_WHAT[schema]}: `{name}` (model {MODELS[name].__name__}).",
        metadata={"dagster/table_name": name, "dagster/column_schema": _column_schema(name)},
        automation_condition=after_inputs(),
        freshness_policy=MARTS_FRESHNESS if schema == t.MARTS else None,
    )


def _materializations(report: TransformReport, target: Target) -> Iterator:
    base = {
        "transform_run_id": report.run_id,
        "incremental": not report.full,
        "new_loads": report.new_loads,
        "rebuilt_partitions": report.rebuilt_partitions,
        "as_of": str(report.as_of) if report.as_of else "no load yet",
    }
    for name in lineage.BUILD_ORDER:
        schema, table = name.split(".")
        if schema == t.QUARANTINE:
            rows = sum(report.quarantined.get(table, {}).values())
        else:
            rows = report.rows.get(name, 0)
        metadata = {**base, "dagster/row_count": rows}
        if name in t.WHOLE_TABLES:
            # Rebuilt only after a catalog load or a configuration change.
            metadata["rewritten"] = not (report.up_to_date or report.whole_tables_kept)
        if schema == t.MARTS:
            metadata["summary"] = dg.MetadataValue.md(mart_summary(target, name))
        yield dg.MaterializeResult(asset_key=table_key(name), metadata=metadata)


def build_transform_assets() -> list[dg.AssetsDefinition]:
    @dg.multi_asset(
        name="transform",
        specs=[_spec(name) for name in lineage.INPUTS],
        check_specs=checks.check_specs(),
        pool=pools()[1],
        can_subset=False,
    )
    def transform_tables(
        context: dg.AssetExecutionContext,
        warehouse: WarehouseResource,
        transform_settings: TransformResource,
    ) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
        with warehouse.warehouse().duckdb_target() as target:
            try:
                report = transform(target)
            except TableValidationError as exc:
                message = f"the transform rolled back: {exc}"
                failure = {alerts.WAREHOUSE_WIDE: (alerts.DATA_QUALITY, message)}
                raise alerts.failure(failure) from exc
            context.log.info(report.summary())
            yield from _materializations(report, target)
            yield from checks.check_results(target, transform_settings)

    return [transform_tables]
