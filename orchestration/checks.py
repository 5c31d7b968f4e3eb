"""Checks on what the transform wrote: every clean table and mart against its pandera
model, and each raw table's quarantined share against a threshold. Both are blocking:
a failure fails the run, so the failure sensor alerts with reason `data_quality`.

The transform already validates each frame before it commits (and rolls back on a
failure); these checks read the stored tables back, so they also catch whatever reached
a table some other way, and they put counts and examples where the UI shows them.
"""

from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import duckdb

from orchestration.keys import table_key
from orchestration.mart_summaries import markdown_table
from orchestration.resources import TransformResource
from transforms import tables as t
from transforms.checks import CheckResult, check_table
from transforms.models import MODELS
from transforms.warehouse import connect

RAW_DATASET = "tractian_raw"  # the connector's dataset; the layers meet at table names

PANDERA_CHECK = "pandera_model"
QUARANTINE_CHECK = "quarantine_under_threshold"
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
            description=f"Quarantined rows of raw `{raw}` stay under the configured share.",
        )
        for raw, clean in t.CLEAN_OF_RAW.items()
    ]
    return pandera + quarantine


def check_results(db_path: Path, settings: TransformResource) -> Iterator[dg.AssetCheckResult]:
    conn = connect(db_path, read_only=True)
    try:
        for name in VALIDATED:
            yield pandera_result(check_table(conn, name, max_examples=EXAMPLES))
        for raw, clean in t.CLEAN_OF_RAW.items():
            yield quarantine_result(conn, raw, clean, settings.quarantine_max_fraction)
    finally:
        conn.close()


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


def quarantine_result(
    conn: duckdb.DuckDBPyConnection, raw: str, clean: str, max_fraction: float
) -> dg.AssetCheckResult:
    """Quarantined rows of `raw` over its raw rows (raw keys, not clean rows: an energy
    sample is one raw row but three clean rows, one per phase)."""
    quarantine = t.quarantine_table(raw)
    by_rule = dict(
        conn.execute(
            f"SELECT rule, count(*) FROM {quarantine} GROUP BY rule ORDER BY rule"
        ).fetchall()
    )
    quarantined = sum(by_rule.values())
    total = conn.execute(f"SELECT count(*) FROM {RAW_DATASET}.{raw}").fetchall()[0][0]
    fraction = quarantined / total if total else 0.0
    return dg.AssetCheckResult(
        check_name=QUARANTINE_CHECK,
        asset_key=table_key(clean),
        passed=fraction <= max_fraction,
        metadata={
            "quarantined": quarantined,
            "raw_rows": total,
            "fraction": fraction,
            "max_fraction": max_fraction,
            "by_rule": dg.MetadataValue.json(by_rule),
        },
    )


def _examples(examples: list[dict]) -> str:
    columns = ["column", "check", "failure_case"]
    return markdown_table(columns, [[e.get(c) for c in columns] for e in examples])
