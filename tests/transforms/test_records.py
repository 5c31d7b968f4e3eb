"""Work orders, events and insights: kinds, repair hours, open state, quarantine rules."""

import json

import pytest

from tests.transforms.conftest import records, run
from tests.transforms.plant import COMPANY, load_plant
from tests.transforms.rawdb import RawWarehouse, load_id_at, ts

LOAD = load_id_at("2024-03-10 00:00")


def interval(start: str, end: str | None, status: str, seconds: int | None = None) -> dict:
    return {"startedAt": start, "endedAt": end, "status": status, "durationInSeconds": seconds}


def work_order(wid: str, category: str | None, intervals: list[dict] | str, **extra) -> dict:
    return {
        "id": wid,
        "company_id": COMPANY,
        "number": 1,
        "status": "done",
        "title": wid,
        "asset_id": "V1",
        "location_id": "L2",
        "priority_id": "P-high",
        "category_ids": json.dumps([category] if category else []),
        "created_at": ts("2024-03-01 06:00"),
        "is_deleted": False,
        "elapsed_intervals": intervals if isinstance(intervals, str) else json.dumps(intervals),
    } | extra


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> RawWarehouse:
    raw = RawWarehouse(tmp_path_factory.mktemp("records") / "w.duckdb")
    load_plant(raw, LOAD)
    raw.load(
        "work_order_categories",
        [
            {
                "id": "K-cor",
                "company_id": COMPANY,
                "name": "Corrective",
                "type": "corrective",
                "is_preventive": False,
            },
            {
                "id": "K-pre",
                "company_id": COMPANY,
                "name": "Preventive",
                "type": "preventive",
                "is_preventive": True,
            },
            {
                "id": "K-prd",
                "company_id": COMPANY,
                "name": "Predictive",
                "type": "predictive",
                "is_preventive": False,
            },
            {"id": "K-oth", "company_id": COMPANY, "name": "Lubrication", "is_preventive": False},
        ],
        LOAD,
    )
    raw.load(
        "work_order_priorities", [{"id": "P-high", "company_id": COMPANY, "name": "High"}], LOAD
    )
    raw.load(
        "work_orders",
        [
            work_order(
                "W1",
                "K-cor",
                [
                    interval(
                        "2024-03-01T07:00:00.000Z", "2024-03-01T09:00:00.000Z", "inProgress", 7200
                    ),
                    interval(
                        "2024-03-01T09:00:00.000Z", "2024-03-01T10:00:00.000Z", "onHold", 3600
                    ),
                    interval("2024-03-01T10:00:00.000Z", "2024-03-01T10:30:00.000Z", "inProgress"),
                ],
            ),
            work_order("W2", "K-pre", [], status="open"),
            work_order(
                "W3",
                "K-prd",
                [interval("2024-03-02T07:00:00.000Z", None, "inProgress")],
                status="inProgress",
            ),
            work_order("W4", "K-oth", []),
            work_order("W5", None, [], asset_id=None),
            work_order("W6", "K-cor", "[{not json"),
            work_order(
                "W7",
                "K-cor",
                [interval("2024-03-01T09:00:00.000Z", "2024-03-01T08:00:00.000Z", "inProgress")],
            ),
            work_order("W8", "K-cor", [], asset_id="GHOST"),
            work_order("W9", "K-cor", [], created_at=ts("1990-01-01 00:00")),
            work_order(
                "W11",
                "K-cor",
                [
                    interval(
                        "2024-03-01T09:00:00.000Z", "2024-03-01T10:00:00.000Z", "inProgress", -60
                    )
                ],
            ),
            work_order(
                "W10",
                "K-cor",
                [],
                is_deleted=True,
                status="canceled",
                canceled_at=ts("2024-03-01 08:00"),
            ),
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
                "end_date": ts("2024-03-01 08:30"),
            },
            {
                "id": "EV2",
                "company_id": COMPANY,
                "type": "plannedStop",
                "asset_id": "V1",
                "start_date": ts("2024-03-02 05:00"),
                "end_date": None,
            },
            {
                "id": "EV3",
                "company_id": COMPANY,
                "type": "unplannedStop",
                "asset_id": "V1",
                "start_date": ts("2024-03-02 05:00"),
                "end_date": ts("2024-03-02 04:00"),
            },
            {
                "id": "EV4",
                "company_id": COMPANY,
                "type": "powerOutage",
                "location_id": "NOWHERE",
                "start_date": ts("2024-03-02 05:00"),
            },
        ],
        LOAD,
    )
    raw.load(
        "insights",
        [
            {
                "id": "I1",
                "company_id": COMPANY,
                "asset_id": "V1",
                "status": "checked",
                "created_at": ts("2024-03-01 00:00"),
                "updated_at": ts("2024-03-03 00:00"),
            },
            {
                "id": "I2",
                "company_id": COMPANY,
                "asset_id": "V1",
                "status": "inspection",
                "created_at": ts("2024-03-02 00:00"),
                "updated_at": ts("2024-03-03 00:00"),
            },
            {
                "id": "I3",
                "company_id": COMPANY,
                "asset_id": "GHOST",
                "status": "pending",
                "created_at": ts("2024-03-02 00:00"),
            },
            {
                "id": "I4",
                "company_id": COMPANY,
                "asset_id": "V1",
                "status": "pending",
                "created_at": ts("2030-01-01 00:00"),
            },
        ],
        LOAD,
    )
    run(raw)
    return raw


def _work_orders(raw: RawWarehouse) -> dict[str, dict]:
    return {r["work_order_id"]: r for r in records(raw.path, "SELECT * FROM clean.fct_work_order")}


def test_the_kind_of_a_work_order_is_the_kind_of_its_category(warehouse):
    got = {k: v["kind"] for k, v in _work_orders(warehouse).items()}
    assert got == {
        "W1": "corrective",
        "W2": "preventive",
        "W3": "predictive",
        "W4": "other",
        "W5": "unknown",
        "W10": "corrective",
    }


def test_repair_hours_count_closed_intervals_that_are_not_on_hold(warehouse):
    orders = _work_orders(warehouse)
    assert orders["W1"]["repair_hours"] == pytest.approx(2.5)
    assert orders["W1"]["on_hold_hours"] == pytest.approx(1.0)
    assert orders["W1"]["completed_at"] == ts("2024-03-01 10:30")
    assert orders["W3"]["repair_hours"] is None  # its only interval is still open
    assert orders["W3"]["completed_at"] is None
    assert orders["W2"]["repair_hours"] is None


def test_priority_names_and_deleted_flags_come_through(warehouse):
    orders = _work_orders(warehouse)
    assert orders["W1"]["priority_name"] == "High"
    assert orders["W1"]["category_name"] == "Corrective"
    assert orders["W10"]["is_deleted"]
    assert not orders["W1"]["is_deleted"]


def test_work_order_quarantine_rules(warehouse):
    rows = records(warehouse.path, "SELECT id, rule FROM quarantine.work_orders ORDER BY id")
    assert {r["id"]: r["rule"] for r in rows} == {
        "W6": "invalid_json",
        "W7": "end_before_start",
        "W8": "unknown_asset",
        "W9": "timestamp_before_2000",
        "W11": "end_before_start",
    }


def test_events_get_failure_flag_duration_and_rules(warehouse):
    clean = {r["event_id"]: r for r in records(warehouse.path, "SELECT * FROM clean.fct_event")}
    assert set(clean) == {"EV1", "EV2"}
    assert clean["EV1"]["is_failure"]
    assert not clean["EV2"]["is_failure"]
    assert clean["EV1"]["duration_hours"] == pytest.approx(3.5)
    assert clean["EV2"]["duration_hours"] is None
    bad = records(warehouse.path, "SELECT id, rule FROM quarantine.events ORDER BY id")
    assert bad == [
        {"id": "EV3", "rule": "end_before_start"},
        {"id": "EV4", "rule": "unknown_location"},
    ]


def test_insights_are_open_until_checked(warehouse):
    clean = {r["insight_id"]: r for r in records(warehouse.path, "SELECT * FROM clean.fct_insight")}
    assert set(clean) == {"I1", "I2"}
    assert not clean["I1"]["is_open"]
    assert clean["I1"]["closed_at"] == ts("2024-03-03 00:00")
    assert clean["I2"]["is_open"]
    assert clean["I2"]["closed_at"] is None
    bad = records(warehouse.path, "SELECT id, rule FROM quarantine.insights ORDER BY id")
    assert bad == [
        {"id": "I3", "rule": "unknown_asset"},
        {"id": "I4", "rule": "timestamp_in_future"},
    ]
