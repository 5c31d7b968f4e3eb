"""Checks on stored tables, for asset checks (Dagster or anything else).

- `check_table(conn, "clean.fct_vibration")` validates a table against its pandera model
  in bounded memory: it reads the table back in groups of whole assets (partitioned
  tables can hold millions of rows; keys include asset_id, so uniqueness is still
  checked whole) and returns the failure count per (column, check) with a few examples.
- `quarantine_share(conn, clean_table)` measures how much of the raw rows a clean table
  is built from ended in quarantine, per raw table and rule.
- `unclassified_work_orders(conn)` counts the live work orders whose kind is `other` or
  `unknown` by default (not by the category map): the maintenance KPIs cannot tell
  whether they were corrective or preventive work, so a category nobody classified
  hides failures and PMs.
"""

from dataclasses import dataclass, field

import duckdb
import polars as pl

from transforms.category_map import NO_CATEGORY
from transforms.models import MODELS, failure_cases
from transforms.raw import RAW_TABLES
from transforms.steps import marts_kpis
from transforms.tables import FCT_WORK_ORDER, PARTITION_COLUMN, RAW_OF_CLEAN, quarantine_table
from transforms.warehouse.duckdb_io import asset_batches, fetch, read_table, table_exists

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


@dataclass(frozen=True)
class QuarantineShare:
    """Quarantined raw rows of a clean table's raw tables. Shares are over raw rows (an
    energy sample is one raw row but three clean rows, one per phase); `fraction` is the
    largest share among the raw tables."""

    table: str
    quarantined: int
    raw_rows: int
    fraction: float
    by_rule: dict[str, int]


def quarantine_share(conn: duckdb.DuckDBPyConnection, clean_table: str) -> QuarantineShare:
    """How much of the raw rows `clean_table` holds went to quarantine instead."""
    by_rule: dict[str, int] = {}
    quarantined, total, fraction = 0, 0, 0.0
    for raw in RAW_OF_CLEAN[clean_table]:
        counts = conn.execute(
            f"SELECT rule, count(*) FROM {quarantine_table(raw)} GROUP BY rule"
        ).fetchall()
        for rule, count in counts:
            by_rule[rule] = by_rule.get(rule, 0) + count
        raw_quarantined = sum(count for _, count in counts)
        qualified = RAW_TABLES[raw].qualified
        raw_total = (
            conn.execute(f"SELECT count(*) FROM {qualified}").fetchall()[0][0]
            if table_exists(conn, qualified)
            else 0
        )
        quarantined, total = quarantined + raw_quarantined, total + raw_total
        fraction = max(fraction, raw_quarantined / raw_total if raw_total else 0.0)
    return QuarantineShare(clean_table, quarantined, total, fraction, dict(sorted(by_rule.items())))


UNCLASSIFIED_KINDS = ("other", "unknown")


@dataclass(frozen=True)
class UnclassifiedWorkOrders:
    """Live work orders counted in the indicators whose kind is `other` or `unknown`
    and was not chosen by the category map, by category name (`(no category)`)."""

    count: int
    live: int
    by_category: dict[str, int]


def unclassified_work_orders(conn: duckdb.DuckDBPyConnection) -> UnclassifiedWorkOrders:
    live = marts_kpis.counted_in_indicators(read_table(conn, FCT_WORK_ORDER))
    # A kind the category map chose (`other` included) is a decision, not a gap.
    unclassified = live.filter(
        pl.col("kind").is_in(UNCLASSIFIED_KINDS), pl.col("kind_source").fill_null("") != "map"
    )
    named = pl.coalesce("category_name", "category_id", pl.lit(NO_CATEGORY)).alias("category")
    counts = unclassified.group_by(named).len().sort(["len", "category"], descending=[True, False])
    return UnclassifiedWorkOrders(unclassified.height, live.height, dict(counts.iter_rows()))
