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
