"""Validate a stored table against its pandera model, in bounded memory.

For asset checks (Dagster or anything else): `check_table(conn, "clean.fct_vibration")`
reads the table back in groups of whole assets (partitioned tables can hold millions of
rows; keys include asset_id, so uniqueness is still checked whole) and returns the
failure count per (column, check) with a few examples.
"""

from dataclasses import dataclass, field

import duckdb
import polars as pl

from transforms.models import MODELS, failure_cases
from transforms.tables import PARTITION_COLUMN
from transforms.warehouse import asset_batches, fetch

CHECK_BATCH_ROWS = 1_000_000


@dataclass(frozen=True)
class CheckResult:
    """A table's verdict: `failure_counts` maps "column: check" to failing values."""

    table: str
    rows: int
    failures: int
    failure_counts: dict[str, int] = field(default_factory=dict)
    examples: list[dict] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.failures == 0


def _chunks(conn: duckdb.DuckDBPyConnection, name: str, batch_rows: int) -> list[str]:
    """WHERE clauses that split table `name` into chunks of whole assets."""
    if name not in PARTITION_COLUMN:
        return [""]
    clauses = []
    for assets in asset_batches(conn, name, "", batch_rows):
        ids = ", ".join("'" + a.replace("'", "''") + "'" for a in assets["asset_id"])
        clauses.append(f"asset_id IN ({ids})")
    return clauses or [""]


def check_table(
    conn: duckdb.DuckDBPyConnection,
    name: str,
    *,
    batch_rows: int = CHECK_BATCH_ROWS,
    max_examples: int = 5,
) -> CheckResult:
    """Validate table `name` (a key of MODELS) as stored in `conn`'s warehouse."""
    if name not in MODELS:
        raise KeyError(f"no model for table {name!r} (known: {', '.join(MODELS)})")
    rows, found = 0, []
    for where in _chunks(conn, name, batch_rows):
        frame = fetch(conn, f"SELECT * FROM {name}" + (f" WHERE {where}" if where else ""))
        rows += frame.height
        failures = failure_cases(name, frame)
        if failures is not None:
            found.append(failures)
    if not found:
        return CheckResult(name, rows, 0)
    failures = pl.concat(found, how="vertical_relaxed")
    counts = failures.group_by("column", "check").len().sort("len", descending=True)
    return CheckResult(
        table=name,
        rows=rows,
        failures=failures.height,
        failure_counts={
            f"{r['column']}: {r['check']}": r["len"] for r in counts.iter_rows(named=True)
        },
        examples=failures.head(max_examples).select("column", "check", "failure_case").to_dicts(),
    )
