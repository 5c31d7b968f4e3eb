"""`tractian-elt demo` (what `make demo` runs) as a newcomer runs it: the embedded
simulator synced, transformed and summarized, with the real demo companies' asset trees
in the tables."""

import os
import subprocess
import sys

import duckdb
import pytest

from tests.simulator.model_support import demo_dump

pytestmark = pytest.mark.slow
# What a reliability team asks first, as the README promises the demo answers it.
SUMMARIES = (
    "Ten worst assets by ISO 10816 zone on the latest day",
    "Ten least complete sensors on the latest day",
    "Ten least available assets in the latest month",
)


def test_the_demo_loads_the_demo_companies_builds_the_marts_and_summarizes_them(tmp_path):
    db = tmp_path / "warehouse" / "tractian.duckdb"
    env = {**os.environ, "HOME": str(tmp_path), "DLT_DATA_DIR": str(tmp_path)}
    demo = subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "demo", "--db", str(db), "--days", "1"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,  # a hang guard
        check=False,
    )

    assert demo.returncode == 0, demo.stderr[-3000:]
    dump = demo_dump()
    companies = [c["id"] for c in dump["companies"]]
    read_copy = db.with_name("tractian_read.duckdb")
    conn = duckdb.connect(str(read_copy), read_only=True)
    try:
        count = {
            table: conn.sql(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in (
                "clean.dim_company",
                "clean.dim_location",
                "clean.dim_asset",
                "clean.fct_vibration",
                "marts.asset_health_daily",
            )
        }
    finally:
        conn.close()
    assert count["clean.dim_company"] == len(companies) == 3
    assert count["clean.dim_location"] == sum(len(dump[c]["locations"]) for c in companies)
    assert count["clean.dim_asset"] == sum(len(dump[c]["assets"]) for c in companies)
    assert count["clean.fct_vibration"] > 0
    assert count["marts.asset_health_daily"] > 0
    for title in SUMMARIES:
        assert f"**{title}**" in demo.stdout
    assert "No rows yet" not in demo.stdout
    assert f"duckdb -readonly {read_copy}" in demo.stdout
