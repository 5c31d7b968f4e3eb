"""The daily marts recompute only the rows a run can change, and equal a full rebuild.

A small plant is synced and transformed, then synced again (once or twice) without
asset changes, so the daily marts go incremental; each such run is compared table by
table with a full rebuild of a copy. The cases: a new day and late samples on an old day
(rows from the day before them, whose gaps reach back to a sample 45 days earlier), a
silent component (rows from its last sample on, to `as_of`), a component that never
reported (all its rows), a changed cadence, a checked insight and a second insight like
the first (all of that component's rows), baselines whose 30 days reach back before the
recomputed rows, the day a run cut at its `as_of`, readings of another sensor type on a
component; and what rebuilds them whole: samples before the start of the data, a
component deleted.
"""

import shutil
from datetime import date, timedelta

import pytest

from tests.transforms.conftest import assert_same_rows, records, run
from tests.transforms.plant import COMPANY, load_plant
from tests.transforms.rawdb import RawWarehouse, load_id_at, ts

DAILY_MARTS = ("marts.asset_health_daily", "marts.sensor_health_daily")
ALL_MARTS = (*DAILY_MARTS, "marts.maintenance_kpis_monthly")


def every(asset: str, first: str, last: str, minutes: int, **values) -> list[dict]:
    """Samples of `asset` every `minutes` from `first` to `last` (inclusive)."""
    at, end, rows = ts(first), ts(last), []
    while at <= end:
        day = at.day + at.hour / 24
        rows.append(
            {"company_id": COMPANY, "asset_id": asset, "sampled_at": at, "powered": True}
            | {"vel_rms_x": 1.0 + (day % 5) / 2, "temperature": 40.0}
            | values
        )
        at += timedelta(minutes=minutes)
    return rows


def energy(first: str, last: str) -> list[dict]:
    rows = every("E1", first, last, 15)
    return [
        {k: r[k] for k in ("company_id", "asset_id", "sampled_at")}
        | {"quantity": "current", "average_a": 10.0}
        for r in rows
    ]


def insight(status: str, **extra) -> dict:
    return {
        "id": "I1",
        "company_id": COMPANY,
        "asset_id": "V1",
        "status": status,
        "created_at": ts("2024-02-28 10:00"),
    } | extra


def days(first: str, last: str) -> int:
    """Days from `first` to `last` (MM-DD of 2024), both included."""
    start, end = (date.fromisoformat(f"2024-{d}") for d in (first, last))
    return (end - start).days + 1


def daily_rows(db) -> int:
    return sum(records(db, f"SELECT count(*) AS n FROM {t}")[0]["n"] for t in DAILY_MARTS)


def assert_equals_full_rebuild(raw: RawWarehouse, tmp_path, name: str) -> None:
    rebuilt = RawWarehouse(tmp_path / f"{name}_full.duckdb")
    shutil.copyfile(raw.path, rebuilt.path)
    full = run(rebuilt, full=True)
    assert full.recomputed_mart_rows is None
    assert_same_rows(raw.path, rebuilt.path, ALL_MARTS)


@pytest.fixture
def plant(raw):
    first = load_id_at("2024-03-05 06:00")
    load_plant(raw, first)
    raw.append("vibration_samples", every("V1", "2024-02-20 00:00", "2024-03-04 23:30", 30), first)
    # V3 reported one day in January (the first vibration data, from 06:00), then
    # nothing for 45 days.
    raw.append("vibration_samples", every("V3", "2024-01-10 06:00", "2024-01-10 23:00", 60), first)
    raw.append("vibration_samples", every("V3", "2024-02-25 00:00", "2024-02-26 11:00", 60), first)
    raw.append("energy_samples", energy("2024-02-28 00:00", "2024-03-04 23:45"), first)
    raw.load("insights", [insight("pending")], first)
    report = run(raw)
    assert report.full
    assert report.recomputed_mart_rows is None
    return raw


def test_a_new_day_and_late_samples_recompute_from_the_day_before_them(plant, tmp_path):
    raw = plant
    second = load_id_at("2024-03-05 12:00")
    raw.append("vibration_samples", every("V1", "2024-03-05 00:00", "2024-03-05 10:00", 30), second)
    raw.append("vibration_samples", every("V3", "2024-02-26 12:00", "2024-02-26 15:00", 60), second)
    raw.append("energy_samples", energy("2024-03-05 00:00", "2024-03-05 10:00"), second)
    before = daily_rows(raw.path)

    report = run(raw)

    assert not report.full
    # Rows from: V1 03-04 (the day before its new one), V3 02-25 (the day before its late
    # samples; its gap from 01-10 must still be measured whole), V2 all (it never
    # reported: from the first vibration day, 01-10), each to as_of's day 03-05 in both
    # daily marts; E1 from 03-04, in sensor_health_daily only.
    v1, v3, v2 = days("03-04", "03-05"), days("02-25", "03-05"), days("01-10", "03-05")
    assert (v1, v3, v2) == (2, 10, 56)
    assert report.recomputed_mart_rows == 2 * (v1 + v3 + v2) + days("03-04", "03-05")
    assert report.recomputed_mart_rows < before
    assert_equals_full_rebuild(raw, tmp_path, "second")


def test_a_changed_cadence_or_insight_recomputes_all_of_that_components_rows(plant, tmp_path):
    raw = plant
    second = load_id_at("2024-03-06 08:00")
    # V3's cadence, the median of its daily median gaps, is 1 h over three days; three
    # days at 10 minutes make it 35 min.
    raw.append("vibration_samples", every("V3", "2024-03-04 00:00", "2024-03-06 06:00", 10), second)
    raw.append("vibration_samples", every("V1", "2024-03-05 00:00", "2024-03-06 06:00", 30), second)
    raw.load("insights", [insight("checked", updated_at=ts("2024-03-05 09:00"))], second)

    report = run(raw)

    assert not report.full
    # All of V1 (its insight), V3 (its cadence) and V2 (never reported), to 03-06, in
    # both daily marts; E1 from its last sample's day, 03-04.
    v1, v3, v2 = days("02-20", "03-06"), days("01-10", "03-06"), days("01-10", "03-06")
    assert report.recomputed_mart_rows == 2 * (v1 + v3 + v2) + days("03-04", "03-06")
    assert_equals_full_rebuild(raw, tmp_path, "third")


def test_the_day_a_run_cut_at_its_as_of_is_recomputed_when_as_of_passes_it(plant, tmp_path):
    raw = plant
    # Loaded at 23:55, V1's clock 10 minutes ahead (tolerated): as_of is the load time,
    # so 03-05 ends at 23:55 while V1 has a sample on 03-06.
    second = load_id_at("2024-03-05 23:55")
    raw.append("vibration_samples", every("V1", "2024-03-05 00:05", "2024-03-06 00:05", 30), second)
    run(raw)
    third = load_id_at("2024-03-06 08:00")
    raw.append("energy_samples", energy("2024-03-05 00:00", "2024-03-06 06:00"), third)

    report = run(raw)

    assert not report.full
    assert report.recomputed_mart_rows is not None
    assert_equals_full_rebuild(raw, tmp_path, "cut")


def test_a_second_insight_like_the_first_recomputes_the_component(plant, tmp_path):
    raw = plant
    second = load_id_at("2024-03-05 12:00")
    twin = insight("pending") | {"id": "I2"}  # same asset and times as I1
    raw.load("insights", [twin], second)
    raw.append("vibration_samples", every("V1", "2024-03-05 00:00", "2024-03-05 10:00", 30), second)

    run(raw)

    opened = records(
        raw.path,
        "SELECT open_insights AS n FROM marts.asset_health_daily "
        "WHERE asset_id = 'V1' AND day = DATE '2024-03-01'",
    )
    assert opened == [{"n": 2}]
    assert_equals_full_rebuild(raw, tmp_path, "twin")


def test_another_sensor_types_samples_do_not_move_where_a_component_recomputes(plant, tmp_path):
    raw = plant
    second = load_id_at("2024-03-05 12:00")
    # V3 (vibration, silent since 02-26) gets energy readings on 03-05: they never reach
    # its vibration rows, whose silence must still be recomputed from 02-26 on.
    stray = [row | {"asset_id": "V3"} for row in energy("2024-03-05 00:00", "2024-03-05 02:00")]
    raw.append("energy_samples", stray, second)
    raw.append("vibration_samples", every("V1", "2024-03-05 00:00", "2024-03-05 10:00", 30), second)
    run(raw)
    third = load_id_at("2024-03-06 08:00")
    raw.append("vibration_samples", every("V1", "2024-03-05 10:30", "2024-03-06 06:00", 30), third)

    report = run(raw)

    assert report.recomputed_mart_rows is not None
    assert_equals_full_rebuild(raw, tmp_path, "stray")


def test_samples_before_the_start_of_the_data_rebuild_the_daily_marts_whole(plant, tmp_path):
    raw = plant
    second = load_id_at("2024-03-05 12:00")
    # The data now starts on 01-05: V3's first day (01-10) is no longer cut at 06:00.
    raw.append("vibration_samples", every("V1", "2024-01-05 06:00", "2024-01-05 10:00", 30), second)

    report = run(raw)

    assert not report.full
    assert report.recomputed_mart_rows is None
    assert_equals_full_rebuild(raw, tmp_path, "earlier")


def test_a_run_that_changes_the_components_rebuilds_the_daily_marts_whole(plant, tmp_path):
    raw = plant
    second = load_id_at("2024-03-05 12:00")
    raw.load(
        "assets",
        [
            {
                "company_id": COMPANY,
                "id": "V3",
                "name": "Bearing B",
                "parent_id": "M2",
                "sensor_id": "S3",
                "sensor_type": "vibration",
                "status": "operating",
                "gateway_id": "G1",
                "missing_since": ts("2024-03-05 11:00"),
            }
        ],
        second,
    )
    raw.append("vibration_samples", every("V1", "2024-03-05 00:00", "2024-03-05 10:00", 30), second)

    report = run(raw)

    assert not report.full
    assert report.recomputed_mart_rows is None
    assert_equals_full_rebuild(raw, tmp_path, "deleted")
