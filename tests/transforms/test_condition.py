"""Condition monitoring by ISO 10816-3 / 20816-3, sensor health and field quarantine,
against hand-worked numbers.

The plant of tests/transforms/plant.py; M2 (and so V3) is configured group 2 rigid, the
others take the default class (the same limits: A <= 1.4 < B <= 2.8 < C <= 4.5 < D).
The load (and "now") is 2024-03-11 00:00.
- V1 samples every 10 minutes, powered, 03-01 to 03-10, at 1.00-1.04 mm/s (index % 5
  hundredths; the day's p95 is 1.04), except: 03-05 12:00 reads 5.0 mm/s with its probe
  at -273.15 °C; 03-06 00:00 has a crest factor of 0.5 and a peak (0.5) below its RMS;
  03-06 00:10 a negative velocity; 03-09 runs at 2.00-2.04 mm/s; 03-10 12:00 is a
  single 6.0 mm/s transient.
- V2 samples every 5 minutes (its own cadence), powered at 1.00-1.04 mm/s, 03-01 to
  03-10, except: silent 03-03 20:00 -> 03-04 05:00; on 03-08 stopped all day (0.05 mm/s)
  but 10:00-10:55 powered at 3.00-3.04 mm/s; on 03-09 its powered readings are stuck at
  1.234.
- E1 reads voltage every 15 minutes on 03-01: at 06:00 all phases 0 V (switched off), at
  07:00 only phase ab at 0 V.
- V3 sends two samples 10 and 20 minutes after the load's time: 15 minutes are allowed
  for clock skew; more is a clock set wrong (a time-zone bug is hours).
"""

from datetime import date, datetime, timedelta

import pytest

from tests.transforms.conftest import records, run
from tests.transforms.plant import COMPANY, load_plant
from tests.transforms.rawdb import RawWarehouse, load_id_at, ts

LOAD = load_id_at("2024-03-11 00:00")


def _day(d: int) -> date:
    return date(2024, 3, d)


def _sample(asset: str, at: datetime, velocity: float, powered: bool = True, **extra) -> dict:
    return {
        "company_id": COMPANY,
        "asset_id": asset,
        "sampled_at": at,
        "powered": powered,
        "vel_rms_x": velocity,
        "temperature": 40.0,
    } | extra


def _every(start: datetime, end: datetime, minutes: int) -> list[datetime]:
    out, at = [], start
    while at < end:
        out.append(at)
        at += timedelta(minutes=minutes)
    return out


def _v1() -> list[dict]:
    rows = []
    for d in range(1, 11):
        level = 2.0 if d == 9 else 1.0
        for i, at in enumerate(
            _every(ts(f"2024-03-{d:02d} 00:00"), ts(f"2024-03-{d + 1:02d} 00:00"), 10)
        ):
            rows.append(_sample("V1", at, level + 0.01 * (i % 5)))
    special = {
        ts("2024-03-05 12:00"): _sample("V1", ts("2024-03-05 12:00"), 5.0, temperature=-273.15),
        ts("2024-03-06 00:00"): _sample(
            "V1", ts("2024-03-06 00:00"), 1.0, vel_crest_factor_x=0.5, vel_peak_x=0.5
        ),
        ts("2024-03-06 00:10"): _sample("V1", ts("2024-03-06 00:10"), -1.0),
        ts("2024-03-10 12:00"): _sample("V1", ts("2024-03-10 12:00"), 6.0),
    }
    return [special.get(r["sampled_at"], r) for r in rows]


def _v2() -> list[dict]:
    rows = []
    outage = (ts("2024-03-03 20:00"), ts("2024-03-04 05:00"))
    for d in range(1, 11):
        day_start = ts(f"2024-03-{d:02d} 00:00")
        for i, at in enumerate(_every(day_start, day_start + timedelta(days=1), 5)):
            if outage[0] <= at < outage[1]:
                continue
            if d == 8:
                running = ts("2024-03-08 10:00") <= at < ts("2024-03-08 11:00")
                velocity = 3.0 + 0.01 * (i % 5) if running else 0.05
                rows.append(_sample("V2", at, velocity, powered=running))
            else:
                rows.append(_sample("V2", at, 1.234 if d == 9 else 1.0 + 0.01 * (i % 5)))
    return rows


def _voltage(at: str, ab: float, bc: float, ac: float) -> dict:
    return {
        "company_id": COMPANY,
        "asset_id": "E1",
        "quantity": "voltage",
        "sampled_at": ts(at),
        "average_ab": ab,
        "average_bc": bc,
        "average_ac": ac,
    }


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> RawWarehouse:
    folder = tmp_path_factory.mktemp("condition")
    raw = RawWarehouse(folder / "w.duckdb")
    load_plant(raw, LOAD)
    future = [
        _sample("V3", ts("2024-03-11 00:10"), 1.0),
        _sample("V3", ts("2024-03-11 00:20"), 1.0),
    ]
    raw.load("vibration_samples", _v1() + _v2() + future, LOAD)
    voltages = [
        _voltage(f"2024-03-01 {q // 4:02d}:{q % 4 * 15:02d}", 380.0, 381.0, 379.0)
        for q in range(96)
    ]
    voltages[24] = _voltage("2024-03-01 06:00", 0.0, 0.0, 0.0)
    voltages[28] = _voltage("2024-03-01 07:00", 0.0, 380.0, 380.0)
    raw.load("energy_samples", voltages, LOAD)
    config = folder / "iso.csv"
    config.write_text("asset_id,machine_group,foundation\nM2,2,rigid\n")
    run(raw, iso_config=config)
    return raw


def _rows(raw: RawWarehouse, table: str, asset: str) -> dict[date, dict]:
    rows = records(raw.path, f"SELECT * FROM {table} WHERE asset_id = '{asset}'")
    return {r["day"]: r for r in rows}


def _sample_row(raw: RawWarehouse, asset: str, at: str) -> dict | None:
    rows = records(
        raw.path,
        f"SELECT * FROM clean.fct_vibration WHERE asset_id = '{asset}' "
        f"AND sampled_at = TIMESTAMPTZ '{at}:00+00'",
    )
    return rows[0] if rows else None


def test_a_broken_probe_keeps_its_velocity_and_zone(warehouse):
    """ISO zones are judged on velocity; a -273.15 °C probe is a broken side channel."""
    row = _sample_row(warehouse, "V1", "2024-03-05 12:00")
    assert (row["vel_rms_max_mm_s"], row["iso_zone"]) == (5.0, "D")
    assert (row["temperature_c"], row["nulled_fields"]) == (None, "temperature_c")
    day = _rows(warehouse, "marts.asset_health_daily", "V1")[_day(5)]
    assert (day["samples"], day["worst_zone"]) == (144, "D")
    assert _rows(warehouse, "marts.sensor_health_daily", "V1")[_day(5)]["out_of_range_count"] == 1


def test_impossible_side_values_are_nulled_and_a_bad_velocity_is_quarantined(warehouse):
    """A crest factor is peak / RMS, so never below 1, and a peak never below its RMS."""
    row = _sample_row(warehouse, "V1", "2024-03-06 00:00")
    assert (row["vel_crest_factor_x"], row["vel_peak_x_mm_s"], row["vel_rms_x_mm_s"]) == (
        None,
        None,
        1.0,
    )
    assert set(row["nulled_fields"].split(",")) == {"vel_crest_factor_x", "vel_peak_x_mm_s"}
    assert _sample_row(warehouse, "V1", "2024-03-06 00:10") is None
    held = warehouse.sql("SELECT rule FROM quarantine.vibration_samples WHERE asset_id = 'V1'")
    assert held == [("negative_reading",)]
    raw_rows = warehouse.sql("SELECT count(*) FROM tractian_raw.vibration_samples")[0][0]
    clean_rows = warehouse.sql("SELECT count(*) FROM clean.fct_vibration")[0][0]
    quarantined = warehouse.sql("SELECT count(*) FROM quarantine.vibration_samples")[0][0]
    assert raw_rows == clean_rows + quarantined


def test_one_transient_does_not_make_the_day_d(warehouse):
    day = _rows(warehouse, "marts.asset_health_daily", "V1")[_day(10)]
    assert (day["vel_rms_p95_mm_s"], day["iso_zone"]) == (pytest.approx(1.04), "A")
    assert (day["vel_rms_max_mm_s"], day["worst_zone"]) == (6.0, "D")


def test_idle_samples_do_not_enter_the_zone(warehouse):
    """03-08: 12 powered samples at 3.00-3.04 mm/s among 276 stopped ones at 0.05."""
    day = _rows(warehouse, "marts.asset_health_daily", "V2")[_day(8)]
    # p95 of 3.00, 3.01, 3.02, 3.03, 3.04, 3.00, ... (12 values): position 10.45.
    assert day["vel_rms_p95_mm_s"] == pytest.approx(3.04)
    assert day["iso_zone"] == "C"
    stopped = _sample_row(warehouse, "V2", "2024-03-08 09:00")
    assert (stopped["vel_rms_max_mm_s"], stopped["iso_zone"]) == (0.05, None)


def test_a_change_from_baseline_is_flagged_below_zone_c(warehouse):
    """Criterion II: a change of more than 25 % of the B/C limit (0.7 mm/s) from the
    baseline (median daily p95 of the previous 30 days, at least 7 of them)."""
    days = _rows(warehouse, "marts.asset_health_daily", "V1")
    assert days[_day(7)]["baseline_vel_mm_s"] is None  # 6 days before it
    assert days[_day(8)]["baseline_alert"] is False
    d9 = days[_day(9)]
    assert (d9["iso_zone"], d9["baseline_vel_mm_s"]) == ("B", pytest.approx(1.04))
    assert d9["change_from_baseline_mm_s"] == pytest.approx(1.0)
    assert d9["baseline_alert"] is True
    assert days[_day(10)]["baseline_alert"] is False


def test_assets_on_the_default_machine_class_are_flagged(warehouse):
    v1 = _rows(warehouse, "marts.asset_health_daily", "V1")[_day(1)]
    v3 = records(warehouse.path, "SELECT * FROM marts.asset_health_daily WHERE asset_id = 'V3'")
    assert v1["is_default_class"] is True
    assert {r["is_default_class"] for r in v3} == {False}


def test_an_outage_across_midnight_is_flagged_on_both_days(warehouse):
    """V2's last sample before the outage is 19:55, the next 05:00: 9 h 5 min."""
    days = _rows(warehouse, "marts.sensor_health_daily", "V2")
    for d in (3, 4):
        assert days[_day(d)]["largest_gap_hours"] == pytest.approx(9 + 5 / 60)
        assert days[_day(d)]["offline_over_5h"]
    assert not days[_day(2)]["offline_over_5h"]


def test_completeness_follows_each_sensors_own_cadence(warehouse):
    """V2 samples every 5 minutes: 288 a day is complete, and the outage day is not."""
    days = _rows(warehouse, "marts.sensor_health_daily", "V2")
    assert (days[_day(2)]["samples"], days[_day(2)]["expected_samples"]) == (288, 288.0)
    assert days[_day(2)]["completeness"] == 1.0
    # 03-03: silent from 20:00, 240 of 288.
    assert days[_day(3)]["completeness"] == pytest.approx(240 / 288)


def test_a_stuck_sensor_is_flagged(warehouse):
    days = _rows(warehouse, "marts.sensor_health_daily", "V2")
    assert days[_day(9)]["stuck_value"] is True
    assert days[_day(10)]["stuck_value"] is False


def test_a_switched_off_machine_is_not_a_dead_phase(warehouse):
    zeros = records(
        warehouse.path,
        "SELECT phase, avg FROM clean.fct_energy WHERE quantity = 'voltage' "
        "AND sampled_at = TIMESTAMPTZ '2024-03-01 06:00:00+00' ORDER BY phase",
    )
    assert zeros == [{"phase": p, "avg": 0.0} for p in ("ab", "ac", "bc")]
    held = warehouse.sql("SELECT sampled_at, rule FROM quarantine.energy_samples")
    assert held == [(ts("2024-03-01 07:00"), "dead_phase")]


def test_a_clock_hours_ahead_is_quarantined_a_skewed_one_is_not(warehouse):
    assert _sample_row(warehouse, "V3", "2024-03-11 00:10") is not None
    held = warehouse.sql(
        "SELECT sampled_at, rule FROM quarantine.vibration_samples WHERE asset_id = 'V3'"
    )
    assert held == [(ts("2024-03-11 00:20"), "timestamp_in_future")]
