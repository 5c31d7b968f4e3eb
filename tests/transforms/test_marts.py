"""Marts against hand-worked numbers.

The warehouse's latest sample (E1's) is at 2024-03-03 06:00, before the latest load
(07:00): the marts' "now", so 03-03 is a 6-hour day.
V1 on 03-01: powered every 10 minutes 00:00-05:50 except 02:00-02:50 (30 samples), then
stopped, hourly 06:00-23:00 (18 samples) and at 12:30 (its probe reads -273.15 °C: 49
samples). Its own cadence: the median gap is 10 minutes after a powered sample, an hour
after a stopped one. Powered 6 h (the 01:50 sample's state holds until 03:00), expected
6 * 6 + 18 * 1 = 54, completeness 49/54. It is then silent until 03-03 00:00 (25 h).
"""

import json
from datetime import date

import pytest

from tests.transforms.conftest import records, run
from tests.transforms.plant import COMPANY, load_plant
from tests.transforms.rawdb import RawWarehouse, load_id_at, ts

LOAD = load_id_at("2024-03-03 07:00")


def vib(asset: str, at: str, powered: bool, velocity: float, temperature: float = 40.0) -> dict:
    return {
        "company_id": COMPANY,
        "asset_id": asset,
        "sampled_at": ts(at),
        "powered": powered,
        "vel_rms_x": velocity,
        "temperature": temperature,
    }


def v1_samples() -> list[dict]:
    powered = [f"2024-03-01 {h:02d}:{m:02d}" for h in range(6) for m in range(0, 60, 10) if h != 2]
    rows = [vib("V1", at, True, 2.0) for at in powered]
    rows[3] = vib("V1", powered[3], True, 5.0, temperature=55.5)
    rows += [vib("V1", f"2024-03-01 {h:02d}:00", False, 0.05) for h in range(6, 24)]
    rows.append(vib("V1", "2024-03-01 12:30", False, 0.05, temperature=-273.15))
    rows += [vib("V1", f"2024-03-03 {h:02d}:00", False, (h + 1) / 10) for h in range(6)]
    return rows


def work_order(
    wid: str, asset: str, category: str, status: str, created: str, repair_hours: float = 0, **extra
) -> dict:
    intervals = []
    if repair_hours:
        seconds = int(repair_hours * 3600)
        intervals = [
            {
                "startedAt": "2024-03-01T10:00:00.000Z",
                "endedAt": None,
                "status": "inProgress",
                "durationInSeconds": seconds,
            }
        ]
    return {
        "id": wid,
        "company_id": COMPANY,
        "asset_id": asset,
        "status": status,
        "category_ids": json.dumps([category]),
        "created_at": ts(created),
        "elapsed_intervals": json.dumps(intervals),
        "is_deleted": False,
    } | extra


def load_scenario(raw: RawWarehouse, *, published: bool = False) -> None:
    """The raw tables of this module's hand-worked scenario (its plant as the integration
    profile or as the published API gives it)."""
    load_plant(raw, LOAD, published=published)
    v3 = [
        vib("V3", f"2024-03-02 {h:02d}:{m:02d}", True, 1.0)
        for h in range(24)
        for m in range(0, 60, 10)
    ]
    raw.load("vibration_samples", v1_samples() + v3, LOAD)
    energy = [
        {
            "company_id": COMPANY,
            "asset_id": "E1",
            "quantity": "current",
            "sampled_at": ts(f"2024-03-01 {q // 4:02d}:{q % 4 * 15:02d}"),
            "average_a": 10.0,
        }
        for q in range(48)
    ]
    energy.append(
        {
            "company_id": COMPANY,
            "asset_id": "E1",
            "quantity": "voltage",
            "sampled_at": ts("2024-03-01 06:00"),
            "average_ab": 0.0,
            "average_bc": 380.0,
            "average_ac": 380.0,
        }
    )
    energy.append(
        {
            "company_id": COMPANY,
            "asset_id": "E1",
            "quantity": "current",
            "sampled_at": ts("2024-03-03 06:00"),
            "average_a": 10.0,
        }
    )
    raw.load("energy_samples", energy, LOAD)
    raw.load(
        "insights",
        [
            {
                "id": "I1",
                "company_id": COMPANY,
                "asset_id": "V1",
                "status": "checked",
                "created_at": ts("2024-03-01 10:00"),
                "updated_at": ts("2024-03-02 12:00"),
            },
            {
                "id": "I2",
                "company_id": COMPANY,
                "asset_id": "V1",
                "status": "pending",
                "created_at": ts("2024-03-02 08:00"),
            },
            {
                "id": "I3",
                "company_id": COMPANY,
                "asset_id": "V1",
                "status": "pending",
                "created_at": ts("2024-03-03 07:00"),
            },
        ],
        LOAD,
    )
    raw.load(
        "work_order_categories",
        [
            {"id": "K-cor", "company_id": COMPANY, "name": "Corrective", "is_preventive": False},
            {"id": "K-pre", "company_id": COMPANY, "name": "Preventive", "is_preventive": True},
        ],
        LOAD,
    )
    raw.load(
        "work_orders",
        [
            work_order("W1", "V1", "K-cor", "done", "2024-03-01 06:00", repair_hours=3),
            work_order("W2", "V1", "K-cor", "inProgress", "2024-03-02 06:00", repair_hours=1),
            work_order("W3", "V1", "K-pre", "done", "2024-03-01 07:00", repair_hours=2),
            work_order(
                "W4",
                "V1",
                "K-cor",
                "canceled",
                "2024-03-01 08:00",
                canceled_at=ts("2024-03-01 09:00"),
            ),
            work_order(
                "W5", "V1", "K-cor", "done", "2024-03-01 08:00", repair_hours=9, is_deleted=True
            ),
            work_order("W6", "M1", "K-cor", "done", "2024-03-02 08:00", repair_hours=1),
        ],
        LOAD,
    )
    raw.load(
        "events",
        [
            {
                "id": "EV1",
                "company_id": COMPANY,
                "type": "totalFailure",
                "asset_id": "V1",
                "start_date": ts("2024-03-01 05:00"),
            },
            {
                "id": "EV2",
                "company_id": COMPANY,
                "type": "unplannedStop",
                "asset_id": "V1",
                "start_date": ts("2024-03-01 05:00"),
            },
            {
                "id": "EV3",
                "company_id": COMPANY,
                "type": "functionalFailure",
                "asset_id": "V1",
                "start_date": ts("2024-02-28 05:00"),
            },
            {
                "id": "EV4",
                "company_id": COMPANY,
                "type": "plannedStop",
                "asset_id": "V1",
                "start_date": ts("2024-03-01 05:00"),
            },
        ],
        LOAD,
    )


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> RawWarehouse:
    raw = RawWarehouse(tmp_path_factory.mktemp("marts") / "w.duckdb")
    load_scenario(raw)
    run(raw)
    return raw


def _daily(raw: RawWarehouse, table: str) -> dict[tuple[str, date], dict]:
    return {(r["asset_id"], r["day"]): r for r in records(raw.path, f"SELECT * FROM {table}")}


D1, D2, D3 = date(2024, 3, 1), date(2024, 3, 2), date(2024, 3, 3)


def test_completeness_counts_expected_samples_from_powered_hours(warehouse):
    day = _daily(warehouse, "marts.asset_health_daily")[("V1", D1)]
    assert day["samples"] == 49
    assert day["powered_hours"] == pytest.approx(6.0)
    assert day["expected_samples"] == pytest.approx(54.0)
    assert day["completeness"] == pytest.approx(49 / 54)


def test_velocity_percentile_zones_and_temperature(warehouse):
    """The powered samples of 03-01: 29 at 2.0 mm/s, one at 5.0: p95 2.0 (zone B), the
    single maximum 5.0 (zone D). On 03-03 V1 is stopped all day: no zone."""
    health = _daily(warehouse, "marts.asset_health_daily")
    d1, d3 = health[("V1", D1)], health[("V1", D3)]
    assert (d1["vel_rms_p95_mm_s"], d1["vel_rms_max_mm_s"]) == (2.0, 5.0)
    assert (d1["iso_zone"], d1["worst_zone"]) == ("B", "D")
    assert d1["temperature_max_c"] == 55.5  # the -273.15 reading is nulled
    assert (d3["vel_rms_p95_mm_s"], d3["iso_zone"], d3["worst_zone"]) == (None, None, None)


def test_a_day_without_samples_keeps_its_row(warehouse):
    day = _daily(warehouse, "marts.asset_health_daily")[("V1", D2)]
    assert (day["samples"], day["powered_hours"], day["expected_samples"]) == (0, 0.0, 24.0)
    assert day["completeness"] == 0.0
    assert day["vel_rms_max_mm_s"] is None
    assert day["worst_zone"] is None


def test_the_current_day_is_cut_at_the_latest_sample(warehouse):
    day = _daily(warehouse, "marts.asset_health_daily")[("V1", D3)]
    assert (day["samples"], day["expected_samples"], day["completeness"]) == (6, 6.0, 1.0)
    sensor = _daily(warehouse, "marts.sensor_health_daily")[("V1", D3)]
    assert sensor["largest_gap_hours"] == pytest.approx(25.0)  # since 03-01 23:00
    assert sensor["offline_over_5h"]


def test_open_insights_at_the_end_of_each_day(warehouse):
    health = _daily(warehouse, "marts.asset_health_daily")
    assert [health[("V1", d)]["open_insights"] for d in (D1, D2, D3)] == [1, 1, 1]


def test_sensor_gaps_and_out_of_range_counts(warehouse):
    sensors = _daily(warehouse, "marts.sensor_health_daily")
    d1 = sensors[("V1", D1)]
    assert d1["largest_gap_hours"] == pytest.approx(25.0)  # 23:00 -> 03-03 00:00
    assert d1["last_seen_at"] == ts("2024-03-01 23:00")
    assert d1["out_of_range_count"] == 1  # the -273.15 probe, kept with its temperature nulled
    assert d1["offline_over_5h"]
    d2 = sensors[("V1", D2)]
    assert (d2["largest_gap_hours"], d2["offline_over_5h"], d2["last_seen_at"]) == (
        25.0,
        True,
        None,
    )


def test_a_sensor_that_never_reported_shows_silent_days(warehouse):
    sensors = _daily(warehouse, "marts.sensor_health_daily")
    assert [sensors[("V2", d)]["samples"] for d in (D1, D2, D3)] == [0, 0, 0]
    # Silent from the start of the data (03-01 00:00) to now (03-03 06:00).
    assert sensors[("V2", D3)]["largest_gap_hours"] == pytest.approx(54.0)
    assert sensors[("V2", D3)]["offline_over_5h"]
    assert ("V3", D1) not in sensors  # V3 starts on its first sample's day
    assert sensors[("V3", D2)]["completeness"] == 1.0


def test_energy_components_expect_a_sample_every_15_minutes(warehouse):
    e1 = _daily(warehouse, "marts.sensor_health_daily")[("E1", D1)]
    assert (e1["sensor_type"], e1["samples"], e1["expected_samples"]) == ("energy", 48, 96.0)
    assert e1["completeness"] == 0.5
    assert e1["largest_gap_hours"] == pytest.approx(42.25)  # 11:45 -> 03-03 06:00
    assert e1["offline_over_5h"]
    assert e1["out_of_range_count"] == 1


MARTS = ("marts.asset_health_daily", "marts.sensor_health_daily", "marts.maintenance_kpis_monthly")


def test_the_marts_are_the_same_against_the_published_api(warehouse, tmp_path):
    """No sensor type on the assets, only `sensors` and what the connector detected."""
    published = RawWarehouse(tmp_path / "published.duckdb")
    load_scenario(published, published=True)
    run(published)
    e1 = _daily(published, "marts.sensor_health_daily")[("E1", D1)]
    assert (e1["sensor_type"], e1["samples"], e1["expected_samples"]) == ("energy", 48, 96.0)
    assert _daily(published, "marts.asset_health_daily")[("V1", D1)]["samples"] == 49
    for mart in MARTS:
        query = f"SELECT * FROM {mart} ORDER BY ALL"
        assert records(published.path, query) == records(warehouse.path, query), mart


def _kpis(raw: RawWarehouse) -> dict[tuple[str, date], dict]:
    return {
        (r["asset_id"], r["month"]): r
        for r in records(raw.path, "SELECT * FROM marts.maintenance_kpis_monthly")
    }


MARCH, FEB = date(2024, 3, 1), date(2024, 2, 1)


def test_a_failure_never_restored_is_down_until_now(warehouse):
    """EV3 (02-28 05:00, no end) has no restoration: W1 on V1 and W6 on its machine are
    done but tell no completion time (no interval end, no update). EV1 and EV2 fall
    inside it: one failure, down until now (03-03 06:00), 54 h of March. V1 is observed
    30 h of them (03-01 and the 6 h of 03-03: on 03-02 it sent nothing), all down."""
    kpis = _kpis(warehouse)
    feb, march = kpis[("V1", FEB)], kpis[("V1", MARCH)]
    assert (feb["failures"], feb["failure_events"], feb["restored_failures"]) == (1, 1, 0)
    assert feb["downtime_hours"] == pytest.approx(43.0)  # 02-28 05:00 -> 03-01 00:00 (leap)
    assert (feb["observed_hours"], feb["availability"], feb["mttr_hours"]) == (None, None, None)
    assert (march["failures"], march["failure_events"]) == (0, 2)  # plannedStop is not one
    assert march["downtime_hours"] == pytest.approx(54.0)
    assert (march["observed_hours"], march["availability"]) == (pytest.approx(30.0), 0.0)
    v2 = _kpis(warehouse)[("V2", MARCH)]  # never reported: not observed, not available
    assert (v2["observed_hours"], v2["availability"]) == (0.0, None)
    assert march["mtbf_12m_hours"] == pytest.approx(6.0)  # 6 running hours, 1 failure


def test_work_order_indicators(warehouse):
    """W4 is canceled and W5 deleted; W2 is still open. Done orders logged W1 3 h
    (corrective) and W3 2 h (preventive)."""
    march = _kpis(warehouse)[("V1", MARCH)]
    assert (march["corrective_work_orders"], march["repairs"]) == (2, 1)
    assert march["mttr_active_hours"] == pytest.approx(3.0)
    assert (march["work_orders"], march["preventive_work_orders"]) == (3, 1)
    assert march["preventive_hours_share"] == pytest.approx(2 / 5)
    assert (march["pm_due"], march["pm_compliance"]) == (0, None)


def test_a_machine_takes_the_operating_hours_of_its_busiest_component(warehouse):
    kpis = _kpis(warehouse)
    m1 = kpis[("M1", MARCH)]
    assert m1["operating_hours"] == pytest.approx(6.0)  # max(V1, V2) per day
    assert (m1["failures"], m1["downtime_hours"]) == (0, pytest.approx(54.0))  # V1's
    v3 = kpis[("V3", MARCH)]
    assert (v3["operating_hours"], v3["availability"]) == (pytest.approx(24.0), 1.0)
    assert (v3["mtbf_12m_hours"], v3["mtbf_12m_lower_bound_hours"]) == (None, pytest.approx(24.0))
    assert set(kpis) == {
        ("V1", FEB),
        ("V1", MARCH),
        ("V2", MARCH),
        ("V3", MARCH),
        ("M1", FEB),
        ("M1", MARCH),
        ("M2", MARCH),
    }


def test_now_is_the_latest_sample_not_the_wall_clock(warehouse):
    runs = records(warehouse.path, "SELECT as_of FROM clean._transform_runs")
    assert runs == [{"as_of": ts("2024-03-03 06:00")}]  # the load itself is at 07:00


def test_the_first_day_of_the_data_starts_at_its_first_sample(raw):
    """Nothing is known before the first sync's window: no gap, no expected samples.
    The latest sample (23:00) is "now": the span is 12:00-23:00."""
    load_plant(raw, load_id_at("2024-03-02 00:00"))
    rows = [vib("V1", f"2024-03-01 {h:02d}:00", False, 0.1) for h in range(12, 24)]
    raw.load("vibration_samples", rows, load_id_at("2024-03-02 00:00"))
    run(raw)
    sensors = _daily(raw, "marts.sensor_health_daily")
    day = sensors[("V1", D1)]
    # 12 hourly samples over 11 hours: not capped at 1.
    assert (day["samples"], day["expected_samples"]) == (12, 11.0)
    assert day["completeness"] == pytest.approx(12 / 11)
    assert day["largest_gap_hours"] == pytest.approx(1.0)  # hourly samples
    assert sensors[("V2", D1)]["largest_gap_hours"] == pytest.approx(11.0)  # silent all span
