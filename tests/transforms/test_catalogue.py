"""docs/catalogue.md documents every table and rule, and its example queries run."""

import re
from pathlib import Path

import duckdb
import pytest

from tests.transforms.conftest import run
from tests.transforms.rawdb import RawWarehouse
from tests.transforms.test_marts import load_scenario
from transforms.models import MODELS, table_schema
from transforms.steps.rules import ALL_RULES

CATALOGUE = Path(__file__).resolve().parents[2] / "docs" / "catalogue.md"
TEXT = CATALOGUE.read_text()
KEYS = ("asset_id", "day", "month")
QUERIES = re.findall(r"```sql\n(.*?)```", TEXT, flags=re.DOTALL)


def test_every_table_and_every_rule_is_documented():
    for name in MODELS:
        assert f"`{name}`" in TEXT or f"### {name}" in TEXT or f", {name}" in TEXT, name
    for rule in ALL_RULES:
        assert f"`{rule}`" in TEXT, rule


@pytest.fixture(scope="module")
def read_copy(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("catalogue")
    raw = RawWarehouse(folder / "w.duckdb")
    load_scenario(raw)
    return run(raw, publish=True).read_copy


@pytest.mark.parametrize("query", QUERIES, ids=[f"query{i}" for i in range(len(QUERIES))])
def test_the_example_queries_run_on_a_read_copy(read_copy, query):
    assert len(QUERIES) >= 10
    conn = duckdb.connect(str(read_copy), read_only=True)
    try:
        conn.sql(query).fetchall()
    finally:
        conn.close()


@pytest.mark.parametrize("mart", [name for name in MODELS if name.startswith("marts.")])
def test_every_mart_column_is_defined_in_its_section(mart):
    """The catalogue and the marts' pandera models name the same columns."""
    section = TEXT.split(f"### {mart}")[1].split("\n### ")[0].split("\n## ")[0]
    missing = [c for c in table_schema(mart) if c not in KEYS and f"`{c}`" not in section]
    assert not missing, f"{mart}: {missing}"
