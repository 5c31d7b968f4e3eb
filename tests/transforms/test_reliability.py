"""marts.maintenance_kpis_monthly against numbers worked by hand from the standards.

June 2024 has 720 hours; the warehouse's "now" is 2024-07-01 00:00 (the last sample and
the load). Plant:
  M1 (machine) -> V1, V2    M2 (machine) -> V3    M3 (machine) -> V4
Every component samples hourly and is powered, except V1 while it is stopped.
- V1: a totalFailure and an unplannedStop for the same stop, 06-10 00:00 -> 06-13 00:00
  (72 h). Its corrective work order logs 4 h of work around 68 h on hold.
- V2: an unplannedStop 06-11 00:00 -> 06-12 00:00, inside V1's stop.
- V3: a year of data without a failure; a corrective repair found by condition
  monitoring (no failure event); three PMs due in June: one done on time, one late,
  one never done; a corrective order in a category left out of the indicators.
- V4: a functionalFailure (no end) restored by a corrective work order done 10 h later;
  another on 06-28 still open at "now" (72 h).
"""

import json
from datetime import date, datetime, timedelta

import pytest

from tests.transforms.conftest import records, run
from tests.transforms.rawdb import RawWarehouse, load_id_at, ts
from transforms import category_map
from transforms.category_map import CategoryMapError
from transforms.warehouse.checks import unclassified_work_orders
from transforms.warehouse.duckdb_io import opened

COMPANY = "c1"
LOAD = load_id_at("2024-07-01 00:00")
JUNE, JULY = date(2024, 6, 1), date(2024, 7, 1)


def _hours(start: str, end: str) -> list[datetime]:
    at, stop, out = ts(start), ts(end), []
    while at <= stop:
        out.append(at)
        at += timedelta(hours=1)
    return out


def _samples(asset: str, start: str, stopped: tuple[str, str] | None = None) -> list[dict]:
    down = (ts(stopped[0]), ts(stopped[1])) if stopped else None
    return [
        {
            "company_id": COMPANY,
            "asset_id": asset,
            "sampled_at": at,
            "powered": not (down and down[0] <= at < down[1]),
            "vel_rms_x": 1.0,
            "temperature": 40.0,
        }
        for at in _hours(start, "2024-07-01 00:00")
    ]


def _interval(start: str, end: str, status: str = "inProgress") -> dict:
    return {"startedAt": f"{start}:00Z", "endedAt": f"{end}:00Z", "status": status}


def _work_order(wid: str, asset: str, category: str | None, created: str, **extra) -> dict:
    intervals = extra.pop("intervals", [])
    return {
        "id": wid,
        "company_id": COMPANY,
        "asset_id": asset,
        "status": "done" if intervals else "open",
        "category_ids": json.dumps([category] if category else []),
        "created_at": ts(created),
        "elapsed_intervals": json.dumps(intervals),
        "is_deleted": False,
    } | extra


def _event(eid: str, asset: str, kind: str, start: str, end: str | None = None) -> dict:
    return {
        "id": eid,
        "company_id": COMPANY,
        "type": kind,
        "asset_id": asset,
        "start_date": ts(start),
        "end_date": ts(end) if end else None,
    }


def load_plant(raw: RawWarehouse) -> None:
    raw.load("companies", [{"id": COMPANY, "name": "Acme"}], LOAD)
    raw.load("locations", [{"id": "L1", "company_id": COMPANY, "name": "Plant"}], LOAD)
    machines = [
        {"id": m, "name": f"Machine {m}", "location_id": "L1"} for m in ("M1", "M2", "M3", "M4")
    ]
    parts = {"V1": "M1", "V2": "M1", "V3": "M2", "V4": "M3", "V5": "M4"}
    components = [
        {"id": v, "name": f"Bearing {v}", "parent_id": m, "sensor_type": "vibration"}
        for v, m in parts.items()
    ]
    raw.load("assets", [{"company_id": COMPANY, **a} for a in machines + components], LOAD)


def load_scenario(raw: RawWarehouse) -> None:
    load_plant(raw)
    samples = (
        _samples("V1", "2024-06-01 00:00", stopped=("2024-06-10 00:00", "2024-06-13 00:00"))
        + _samples("V2", "2024-06-01 00:00")
        + _samples("V3", "2023-07-01 00:00")
        + _samples("V4", "2024-06-01 00:00")
        + _samples("V5", "2024-06-01 00:00")
    )
    raw.load("vibration_samples", samples, LOAD)
    categories = [
        ("K-cor", "Corretiva", True),
        ("K-pre", "Manutenção Preventiva", True),
        ("K-prd", "Preditiva", True),
        ("K-imp", "Melhoria", True),
        ("K-test", "Corretiva (treinamento)", False),
        ("K-found", "Corrective (predictive finding)", True),
    ]
    raw.load(
        "work_order_categories",
        [
            {"id": cid, "company_id": COMPANY, "name": name, "include_in_indicators": included}
            for cid, name, included in categories
        ],
        LOAD,
    )
    raw.load(
        "events",
        [
            _event("E1", "V1", "totalFailure", "2024-06-10 00:00", "2024-06-13 00:00"),
            _event("E2", "V1", "unplannedStop", "2024-06-10 00:00", "2024-06-13 00:00"),
            _event("E3", "V2", "unplannedStop", "2024-06-11 00:00", "2024-06-12 00:00"),
            _event("E4", "V1", "plannedStop", "2024-06-20 00:00", "2024-06-21 00:00"),
            _event("E5", "V4", "functionalFailure", "2024-06-20 00:00"),
            _event("E6", "V4", "functionalFailure", "2024-06-28 00:00"),
            # Condition monitoring finds a fault on V3; W2 repairs it before any failure.
            _event("E7", "V3", "potentialFailure", "2024-06-05 06:00"),
            # A failure of V5 repaired by a work order on its machine M4.
            _event("E8", "V5", "totalFailure", "2024-06-15 00:00"),
            # Logged ahead of "now": a planned stop may be, a failure after now is unknown.
            _event("E9", "V1", "plannedStop", "2024-07-02 00:00", "2024-07-02 08:00"),
        ],
        LOAD,
    )
    on_hold = [
        _interval("2024-06-10T02:00", "2024-06-10T04:00"),
        _interval("2024-06-10T04:00", "2024-06-12T22:00", "onHold"),
        _interval("2024-06-12T22:00", "2024-06-13T00:00"),
    ]
    raw.load(
        "work_orders",
        [
            _work_order("W1", "V1", "K-cor", "2024-06-10 01:00", intervals=on_hold),
            _work_order(
                "W2",
                "V3",
                "K-cor",
                "2024-06-05 08:00",
                intervals=[_interval("2024-06-05T09:00", "2024-06-05T12:00")],
            ),
            _work_order("W3", "V3", "K-test", "2024-06-06 08:00"),
            _work_order(
                "P1",
                "V3",
                "K-pre",
                "2024-06-02 08:00",
                due_date=ts("2024-06-05 00:00"),
                intervals=[_interval("2024-06-04T08:00", "2024-06-04T10:00")],
            ),
            _work_order(
                "P2",
                "V3",
                "K-pre",
                "2024-06-17 08:00",
                due_date=ts("2024-06-20 00:00"),
                intervals=[_interval("2024-06-21T08:00", "2024-06-21T10:00")],
            ),
            _work_order("P3", "V3", "K-pre", "2024-06-22 08:00", due_date=ts("2024-06-25 00:00")),
            _work_order("X1", "V3", "K-imp", "2024-06-23 08:00"),
            _work_order("U1", "V4", None, "2024-06-24 08:00"),
            _work_order(
                "W5",
                "M4",
                "K-cor",
                "2024-06-15 02:00",
                intervals=[_interval("2024-06-15T04:00", "2024-06-15T06:00")],
            ),
            _work_order("P4", "V4", "K-pre", "2024-06-29 08:00", due_date=ts("2024-08-05 00:00")),
            _work_order(
                "W4",
                "V4",
                "K-cor",
                "2024-06-20 01:00",
                intervals=[_interval("2024-06-20T08:00", "2024-06-20T10:00")],
            ),
        ],
        LOAD,
    )


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> RawWarehouse:
    raw = RawWarehouse(tmp_path_factory.mktemp("reliability") / "w.duckdb")
    load_scenario(raw)
    run(raw)
    return raw


@pytest.fixture(scope="module")
def kpis(warehouse) -> dict[tuple[str, date], dict]:
    rows = records(warehouse.path, "SELECT * FROM marts.maintenance_kpis_monthly")
    return {(r["asset_id"], r["month"]): r for r in rows}


def _kinds(raw: RawWarehouse) -> dict[str, str]:
    rows = records(raw.path, "SELECT category_id, kind FROM clean.dim_work_order_category")
    return {r["category_id"]: r["kind"] for r in rows}


def test_a_component_failure_lowers_its_machines_availability(kpis):
    """SMRP 2.3: availability = uptime / (uptime + downtime). M1 is down while V1 is:
    72 h of 720, once, though three events on two components logged that stop."""
    m1 = kpis[("M1", JUNE)]
    assert (m1["failures"], m1["failure_events"]) == (1, 0)
    assert m1["downtime_hours"] == pytest.approx(72.0)
    assert m1["observed_hours"] == pytest.approx(720.0)
    assert m1["availability"] == pytest.approx(648 / 720)
    v2 = kpis[("V2", JUNE)]
    assert (v2["failures"], v2["downtime_hours"]) == (1, pytest.approx(24.0))


def test_on_hold_time_is_downtime(kpis):
    """SMRP 3.5.2: repair time runs from the stop to restored operation (72 h), not
    the 4 h of logged work; the logged work is EN 13306's active repair time."""
    v1 = kpis[("V1", JUNE)]
    assert (v1["failures"], v1["failure_events"], v1["restored_failures"]) == (1, 2, 1)
    assert v1["mttr_hours"] == pytest.approx(72.0)
    assert v1["availability"] == pytest.approx(0.9)
    assert (v1["repairs"], v1["mttr_active_hours"]) == (1, pytest.approx(4.0))
    # Inherent availability: MTBF 648 running hours / 1 failure, MTTR (active) 4 h.
    assert v1["mtbf_12m_hours"] == pytest.approx(648.0)
    assert v1["inherent_availability"] == pytest.approx(648 / 652)


def test_a_condition_based_repair_is_not_a_failure(kpis):
    """V3's fault was caught early (a potentialFailure, then W2): condition-based
    maintenance (EN 13306), no failure and no down time."""
    v3 = kpis[("V3", JUNE)]
    assert (v3["failures"], v3["corrective_work_orders"], v3["downtime_hours"]) == (0, 1, 0.0)
    assert v3["availability"] == 1.0
    assert (v3["mttr_hours"], v3["mtbf_12m_hours"]) == (None, None)
    assert kpis[("M2", JUNE)]["failures"] == 0


def test_a_failure_free_year_gives_a_lower_bound_on_mtbf(kpis):
    """July 2023 - June 2024: 366 days running, no failure: MTBF is more than 8,784 h."""
    v3 = kpis[("V3", JUNE)]
    assert v3["mtbf_12m_lower_bound_hours"] == pytest.approx(366 * 24)
    assert v3["mtbf_12m_lower_bound_hours"] > 8000
    assert kpis[("V3", date(2023, 7, 1))]["mtbf_12m_lower_bound_hours"] == pytest.approx(31 * 24)


def test_a_failure_without_an_end_lasts_until_its_repair_or_now(kpis):
    """E5 is restored by W4 at 10:00 (10 h); E6 is still open: down until now (72 h)."""
    v4 = kpis[("V4", JUNE)]
    assert (v4["failures"], v4["restored_failures"]) == (2, 1)
    assert v4["mttr_hours"] == pytest.approx(10.0)
    assert v4["downtime_hours"] == pytest.approx(82.0)
    assert v4["availability"] == pytest.approx(638 / 720)
    assert v4["mtbf_12m_hours"] == pytest.approx(360.0)  # 720 running hours / 2


def test_a_repair_on_the_machine_restores_its_components_failure(kpis):
    """E8 on V5 has no end; W5, on V5's machine M4, was done at 06:00: 6 h down."""
    v5 = kpis[("V5", JUNE)]
    assert (v5["failures"], v5["restored_failures"], v5["mttr_hours"]) == (1, 1, 6.0)
    assert kpis[("M4", JUNE)]["downtime_hours"] == pytest.approx(6.0)


def test_events_after_now_are_not_failures_yet(warehouse, kpis):
    """A planned stop logged ahead is kept (and is no failure); July's row ends at now."""
    held = records(warehouse.path, "SELECT event_id FROM clean.fct_event WHERE event_id = 'E9'")
    assert held == [{"event_id": "E9"}]
    assert kpis[("V1", JULY)]["failures"] == 0


def test_work_orders_outside_the_indicators_and_pm_compliance(kpis):
    """W3's category is left out of the indicators; X1 ("Melhoria") is other work. PM
    compliance: P1 done by its due date, P2 a day late, P3 not done: 1 of 3."""
    v3 = kpis[("V3", JUNE)]
    assert (v3["work_orders"], v3["preventive_work_orders"]) == (5, 3)
    assert (v3["pm_due"], v3["pm_on_time"], v3["pm_compliance"]) == (3, 1, pytest.approx(1 / 3))
    # Hours logged on done orders: W2 3 h, P1 2 h, P2 2 h: 4 of 7 preventive.
    assert v3["preventive_hours_share"] == pytest.approx(4 / 7)
    # P4 is due after now: not late yet, and no month after now's gets a row.
    assert kpis[("V4", JULY)]["pm_due"] == 0
    assert max(month for _, month in kpis) == JULY


def test_a_month_nothing_measures_has_no_availability(kpis):
    """July has no measured hour yet (now is its first instant): unknown, not 1.0."""
    july = kpis[("V1", JULY)]
    assert (july["observed_hours"], july["availability"]) == (0.0, None)
    months = sorted(m for a, m in kpis if a == "V3")
    assert months == [date(2023 + (m + 6) // 12, (m + 6) % 12 + 1, 1) for m in range(13)]


def test_portuguese_categories_map_to_their_kinds(warehouse):
    """No `type`, no `isPreventive`: the names alone, in Portuguese, with accents."""
    assert _kinds(warehouse) == {
        "K-cor": "corrective",
        "K-pre": "preventive",
        "K-prd": "predictive",
        "K-imp": "other",
        "K-test": "corrective",
        "K-found": "predictive",
    }


def test_live_work_orders_of_an_unknown_kind_are_counted_for_the_blocking_check(warehouse):
    """X1 ("Melhoria": improvement) cannot be told corrective or preventive, nor U1,
    which has no category."""
    with opened(warehouse.path, read_only=True) as conn:
        found = unclassified_work_orders(conn)
    assert (found.count, found.by_category) == (2, {"(no category)": 1, "Melhoria": 1})
    assert found.live == 10  # 11 orders, W3's category left out of the indicators


def test_the_category_map_overrides_the_default_and_a_change_rebuilds(warehouse, tmp_path):
    """Mapped by name (any case or accents) and by id; the map's digest changes, so a
    run with nothing new to load still applies it."""
    mapping = tmp_path / "categories.csv"
    mapping.write_text("category,kind\nMELHORIA,corrective\nK-prd,preventive\n")
    other = tmp_path / "other.csv"
    other.write_text("category,kind\nMelhoria,other\n(no category),corrective\n")
    copy = RawWarehouse(tmp_path / "copy.duckdb")
    copy.path.write_bytes(warehouse.path.read_bytes())
    report = run(copy, category_map_path=mapping)
    assert not report.up_to_date
    assert _kinds(copy) == _kinds(warehouse) | {"K-imp": "corrective", "K-prd": "preventive"}
    kpis = {
        (r["asset_id"], r["month"]): r
        for r in records(copy.path, "SELECT * FROM marts.maintenance_kpis_monthly")
    }
    assert kpis[("V3", JUNE)]["corrective_work_orders"] == 2  # W2 and X1
    # A plant that calls improvement work "other" on purpose passes the check.
    run(copy, category_map_path=other)
    with opened(copy.path, read_only=True) as conn:
        assert unclassified_work_orders(conn).count == 0


def test_a_malformed_category_map_is_refused_naming_the_line(tmp_path):
    mapping = tmp_path / "categories.csv"
    mapping.write_text("category,kind\nMelhoria,other\nReparo,repair\n")
    with pytest.raises(CategoryMapError, match=r"line 3: .*got \{'category': 'Reparo'"):
        category_map.read(mapping)
    mapping.write_text("name,kind\nMelhoria,other\n")
    with pytest.raises(CategoryMapError, match="header must be category,kind"):
        category_map.read(mapping)


def test_a_work_order_closed_without_logged_time_still_restores(tmp_path):
    """Nobody logged time on W1, but it was closed (done) at 06-10 12:00: the failure
    lasted 12 h. With no logged time it is no repair for the active MTTR."""
    raw = RawWarehouse(tmp_path / "w.duckdb")
    load_plant(raw)
    raw.load("vibration_samples", _samples("V1", "2024-06-01 00:00"), LOAD)
    raw.load(
        "work_order_categories", [{"id": "K-cor", "company_id": COMPANY, "name": "Corretiva"}], LOAD
    )
    raw.load("events", [_event("E1", "V1", "functionalFailure", "2024-06-10 00:00")], LOAD)
    closed = _work_order(
        "W1", "V1", "K-cor", "2024-06-10 01:00", status="done", updated_at=ts("2024-06-10 12:00")
    )
    raw.load("work_orders", [closed], LOAD)
    run(raw)
    [v1] = records(
        raw.path,
        "SELECT * FROM marts.maintenance_kpis_monthly "
        "WHERE asset_id = 'V1' AND month = '2024-06-01'",
    )
    assert (v1["failures"], v1["restored_failures"], v1["mttr_hours"]) == (1, 1, 12.0)
    assert (v1["repairs"], v1["mttr_active_hours"]) == (0, None)
