"""Fixtures for the transforms tests: a hand-built raw warehouse per test (or module)."""

from pathlib import Path

import duckdb
import pytest

from tests.transforms.rawdb import RawWarehouse
from transforms.warehouse.run import TransformReport, transform


@pytest.fixture
def raw(tmp_path: Path) -> RawWarehouse:
    return RawWarehouse(tmp_path / "warehouse.duckdb")


def run(raw: RawWarehouse, **kwargs) -> TransformReport:
    """Transform without publishing a read copy (the publish tests do that)."""
    kwargs.setdefault("publish", False)
    return transform(raw.path, **kwargs)


def records(db: Path, sql: str) -> list[dict]:
    """Rows of `sql` on warehouse `db` as dicts (read-only connection, UTC session)."""
    conn = duckdb.connect(str(db), read_only=True)
    try:
        conn.execute("SET TimeZone = 'UTC'")
        relation = conn.sql(sql)
        names = relation.columns
        return [dict(zip(names, row, strict=True)) for row in relation.fetchall()]
    finally:
        conn.close()


def assert_same_rows(left: Path, right: Path, tables: list[str] | tuple[str, ...]) -> None:
    """Each table holds the same rows (as multisets) in both warehouses; quarantines
    compared without `quarantined_at` (when a row was quarantined depends on the run)."""
    conn = duckdb.connect()
    try:
        conn.execute(f"ATTACH '{left}' AS lhs (READ_ONLY)")
        conn.execute(f"ATTACH '{right}' AS rhs (READ_ONLY)")
        for table in tables:
            columns = "* EXCLUDE (quarantined_at)" if table.startswith("quarantine.") else "*"
            for a, b in (("lhs", "rhs"), ("rhs", "lhs")):
                only = f"SELECT {columns} FROM {a}.{table} EXCEPT ALL "
                diff = conn.sql(only + f"SELECT {columns} FROM {b}.{table}").fetchall()
                where = left if a == "lhs" else right
                assert diff == [], f"{table}: rows only in {where}: {diff[:3]}"
    finally:
        conn.close()
