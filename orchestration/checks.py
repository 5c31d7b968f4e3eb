"""Checks on what the transform wrote: every clean table and mart against its pandera
model, and the quarantined share of each raw table a clean table is built from against a
threshold, and that every live work order has a kind the KPIs can use (its category
is in the category map). All are blocking: a failure fails the run, so the failure
sensor alerts with reason `data_quality`.

The transform already validates each frame before it commits (and rolls back on a
failure); these checks read the stored tables back, so they also catch whatever reached
a table some other way, and they put counts and examples where the UI shows them.
"""

from collections.abc import Iterator

import dagster as dg

from orchestration.keys import table_key
from orchestration.mart_summaries import markdown_table
from orchestration.resources import TransformResource
from transforms import tables as t
from transforms.models import MODELS
from transforms.warehouse.checks import (
    CheckResult,
    QuarantineShare,
    UnclassifiedWorkOrders,
    check_table,
    quarantine_share,
    unclassified_work_orders,
)
from transforms.warehouse.duckdb_io import Target, opened

PANDERA_CHECK = "pandera_model"
QUARANTINE_CHECK = "quarantine_under_threshold"
CLASSIFIED_CHECK = "work_orders_classified"
EXAMPLES = 5
VALIDATED = [name for name in MODELS if not name.startswith(f"{t.QUARANTINE}.")]


def check_specs() -> list[dg.AssetCheckSpec]:
    pandera = [
        dg.AssetCheckSpec(
            PANDERA_CHECK,
            asset=table_key(name),
            blocking=True,
            description=f"Every stored row satisfies pandera model {MODELS[name].__name__}.",
        )
        for name in VALIDATED
    ]
    quarantine = [
        dg.AssetCheckSpec(
            QUARANTINE_CHECK,
            asset=table_key(clean),
            blocking=True,
            description=f"Quarantined rows of raw {_names(raws)} stay under the configured share.",
        )
        for clean, raws in t.RAW_OF_CLEAN.items()
    ]
    classified = dg.AssetCheckSpec(
        CLASSIFIED_CHECK,
        asset=table_key(t.FCT_WORK_ORDER),
        blocking=True,
        description=(
            "Every live work order's category maps to corrective, preventive or predictive "
            "work (else the maintenance KPIs would miss its failures or PMs): extend the map "
            "with --category-map / TRACTIAN_CATEGORY_MAP."
        ),
    )
    return [*pandera, *quarantine, classified]


def check_results(target: Target, settings: TransformResource) -> Iterator[dg.AssetCheckResult]:
    with opened(target, read_only=True) as conn:
        for name in VALIDATED:
            yield pandera_result(check_table(conn, name, max_examples=EXAMPLES))
        for clean in t.RAW_OF_CLEAN:
            yield quarantine_result(quarantine_share(conn, clean), settings.quarantine_max_fraction)
        yield classified_result(unclassified_work_orders(conn))


def pandera_result(result: CheckResult) -> dg.AssetCheckResult:
    """The model's verdict on a stored table: failure counts per (column, check), examples."""
    metadata: dict = {"rows_checked": result.rows, "failures": result.failures}
    if not result.passed:
        metadata |= {
            "failures_by_check": dg.MetadataValue.json(result.failure_counts),
            "examples": dg.MetadataValue.md(_examples(result.examples)),
        }
    return dg.AssetCheckResult(
        check_name=PANDERA_CHECK,
        asset_key=table_key(result.table),
        passed=result.passed,
        metadata=metadata,
    )


def quarantine_result(share: QuarantineShare, max_fraction: float) -> dg.AssetCheckResult:
    """Passes when every raw table's quarantined share is within `max_fraction`."""
    return dg.AssetCheckResult(
        check_name=QUARANTINE_CHECK,
        asset_key=table_key(share.table),
        passed=share.fraction <= max_fraction,
        metadata={
            "quarantined": share.quarantined,
            "raw_rows": share.raw_rows,
            "fraction": share.fraction,
            "max_fraction": max_fraction,
            "by_rule": dg.MetadataValue.json(share.by_rule),
        },
    )


def classified_result(found: UnclassifiedWorkOrders) -> dg.AssetCheckResult:
    """Passes when no live work order counted in the indicators is `other`/`unknown`."""
    return dg.AssetCheckResult(
        check_name=CLASSIFIED_CHECK,
        asset_key=table_key(t.FCT_WORK_ORDER),
        passed=found.count == 0,
        metadata={
            "unclassified": found.count,
            "live_work_orders": found.live,
            "by_category": dg.MetadataValue.json(found.by_category),
        },
    )


def _names(raws: tuple[str, ...]) -> str:
    return ", ".join(f"`{raw}`" for raw in raws)


def _examples(examples: list[dict]) -> str:
    columns = ["column", "check", "failure_case"]
    return markdown_table(columns, [[e.get(c) for c in columns] for e in examples])
