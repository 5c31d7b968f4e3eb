"""The declared lineage (`transforms.lineage.INPUTS`) against what the steps really read.

A real sync of one simulated company from the published API fills every raw table; the
transform runs on it once, then once more per raw table with that table emptied. A
table that changes must be declared downstream of the emptied table (else the lineage
misses an input, and Dagster would not re-run it when that input changes); the clean
table holding the raw rows must change (else the experiment proved nothing).
"""

import shutil
from datetime import timedelta
from pathlib import Path

import duckdb
import polars as pl
import pytest

from simulator import SimConfig, Simulator
from sources.pipeline import sync
from tests.conftest import SIM_NOW
from tests.sources.conftest import connection_for, published_clock
from transforms import lineage
from transforms import tables as t
from transforms.raw import RAW_TABLES
from transforms.warehouse.run import transform

# Per-run bookkeeping, the same for every input: not part of a table's content.
RUN_COLUMNS = {"transform_run_id", "quarantined_at"}


@pytest.fixture(scope="module")
def synced(tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("lineage") / "raw.duckdb"
    sim = Simulator(SimConfig(days=3), now=SIM_NOW, profile="public").start()
    try:
        sync(
            connection_for(sim, "tobias"),
            db,
            start=SIM_NOW - timedelta(days=2),
            end=SIM_NOW,
            show_progress=False,
            **published_clock(sim),
        )
    finally:
        sim.stop()
    return db


def contents(db: Path) -> dict[str, pl.DataFrame]:
    """Every table the transform writes, sorted, without per-run bookkeeping columns."""
    conn = duckdb.connect(str(db), read_only=True)
    try:
        out = {}
        for name in lineage.INPUTS:
            frame = conn.sql(f"SELECT * FROM {name}").pl()
            frame = frame.drop([c for c in frame.columns if c in RUN_COLUMNS])
            out[name] = frame.sort(frame.columns, nulls_last=True)
        return out
    finally:
        conn.close()


def transformed(source: Path, target: Path, emptied: str | None = None) -> dict:
    shutil.copy(source, target)
    if emptied is not None:
        conn = duckdb.connect(str(target))
        conn.execute(f"DELETE FROM {lineage.raw(emptied)}")
        conn.close()
    transform(target, full=True, publish=False)
    return contents(target)


@pytest.fixture(scope="module")
def baseline(synced, tmp_path_factory) -> dict[str, pl.DataFrame]:
    return transformed(synced, tmp_path_factory.mktemp("baseline") / "w.duckdb")


def test_every_table_has_a_declared_lineage_and_every_input_exists():
    written = {*t.CLEAN_OF_RAW.values(), *t.DAILY_AGGREGATES.values(), t.ASSET_ISO_CONFIG}
    written |= {t.BRIDGE_ASSET_ANCESTOR, t.ASSET_HEALTH_DAILY, t.SENSOR_HEALTH_DAILY}
    written |= {t.MAINTENANCE_KPIS_MONTHLY, *t.QUARANTINE_TABLES}
    assert set(lineage.INPUTS) == written
    known = set(lineage.INPUTS) | {lineage.raw(name) for name in RAW_TABLES}
    assert {i for ins in lineage.INPUTS.values() for i in ins} <= known


def test_the_run_is_repeatable(synced, baseline, tmp_path):
    again = transformed(synced, tmp_path / "w.duckdb")
    assert [n for n in baseline if not again[n].equals(baseline[n])] == []


@pytest.mark.parametrize("emptied", sorted(RAW_TABLES))
def test_emptying_a_raw_table_changes_only_what_is_declared_downstream(
    synced, baseline, tmp_path, emptied
):
    assert baseline[t.CLEAN_OF_RAW[emptied]].height > 0, "the experiment needs rows"
    after = transformed(synced, tmp_path / "w.duckdb", emptied)

    changed = {name for name in baseline if not after[name].equals(baseline[name])}
    downstream = {n for n in lineage.INPUTS if lineage.raw(emptied) in lineage.upstream(n)}

    assert t.CLEAN_OF_RAW[emptied] in changed
    assert changed - downstream == set(), f"reads {lineage.raw(emptied)} undeclared"
