"""A full build reads the raw telemetry in runs of whole days, oldest first: the facts are
stored in time order, and the tables are the same whatever the size of the runs."""

from datetime import date

import pytest

from tests.transforms.conftest import records, run
from tests.transforms.plant import COMPANY, load_plant
from tests.transforms.rawdb import RawWarehouse, load_id_at, ts
from transforms.warehouse import build_telemetry

LOAD = load_id_at("2024-03-04 00:00")
TABLES = ("clean.fct_vibration", "clean.agg_vibration_daily", "quarantine.vibration_samples")


def _load(raw: RawWarehouse) -> None:
    """Three days of two components, loaded newest day first and asset by asset."""
    load_plant(raw, LOAD)
    rows = [
        {
            "company_id": COMPANY,
            "asset_id": asset,
            "sampled_at": ts(f"2024-03-0{day} {hour:02d}:00"),
            "powered": True,
            "vel_rms_x": -1.0 if hour == 5 else 1.0 + hour / 100,
        }
        for asset in ("V1", "V3")
        for day in (3, 2, 1)
        for hour in range(12)
    ]
    raw.load("vibration_samples", rows, LOAD)


def _tables(raw: RawWarehouse) -> dict[str, list[dict]]:
    """Each table's rows in key order (a quarantined row's run time aside)."""
    out = {}
    for name in TABLES:
        columns = "* EXCLUDE (quarantined_at)" if name.startswith("quarantine.") else "*"
        out[name] = records(raw.path, f"SELECT {columns} FROM {name} ORDER BY ALL")
    return out


@pytest.fixture
def sliced(tmp_path, monkeypatch) -> RawWarehouse:
    """Built with runs of 20 raw rows: one day (24 rows) per run."""
    raw = RawWarehouse(tmp_path / "sliced.duckdb")
    _load(raw)
    monkeypatch.setattr(build_telemetry, "BATCH_ROWS", 20)
    run(raw, full=True)
    return raw


def test_the_facts_are_stored_oldest_day_first(sliced):
    stored = records(sliced.path, "SELECT sampled_at FROM clean.fct_vibration")
    days = [r["sampled_at"].date() for r in stored]
    assert days == sorted(days)
    assert days[0] == date(2024, 3, 1)


def test_the_tables_do_not_depend_on_the_size_of_the_runs(sliced, tmp_path):
    whole = RawWarehouse(tmp_path / "whole.duckdb")
    _load(whole)
    run(whole, full=True)
    assert _tables(sliced) == _tables(whole)
    assert len(_tables(whole)["quarantine.vibration_samples"]) == 6  # the negative velocities
