"""The record endpoints over real HTTP (integration profile): insights, events, work
orders, and the priority and category lists, with their filters and paging."""

import pytest

from simulator import SimConfig, Simulator
from tests.conftest import SIM_NOW
from tests.simulator.server_helpers import (
    company_id,
    error_code,
    get,
    is_iso_z,
    iso8601,
    page_through,
)

JAGUAR, TOBIAS, APEX = company_id("Jaguar"), company_id("Tobias"), company_id("Apex")
EVENT_TYPES = {
    "functionalFailure",
    "plannedStop",
    "potentialFailure",
    "powerOutage",
    "powerRestored",
    "powerSupplyProblem",
    "processAdjustment",
    "totalFailure",
    "unplannedOperation",
    "unplannedStop",
}


@pytest.fixture(scope="module")
def sim():
    with Simulator(SimConfig(seed=7, days=14), now=SIM_NOW) as simulator:
        yield simulator


def test_insights_are_sorted_filtered_by_reference_date_and_never_deleted(sim):
    path = f"/companies/{APEX}/insights"
    ascending, _ = page_through(sim, path, limit=7)
    descending, _ = page_through(sim, path, limit=7, sort="createdAtDesc")
    middle = ascending[len(ascending) // 2]["createdAt"]
    after, _ = page_through(sim, path, referenceDateStart=middle)
    before, _ = page_through(sim, path, referenceDateEnd=middle)
    deleted = get(sim, path, params={"deleted": "true"}).json()

    keys = [(r["createdAt"], r["id"]) for r in ascending]
    assert len(ascending) > 10
    assert keys == sorted(keys)
    assert descending == ascending[::-1]
    assert after[0]["createdAt"] == middle
    assert len(after) + len(before) == len(ascending)
    assert all(r["createdAt"] < middle for r in before)
    assert (deleted["data"], deleted["total"]) == ([], 0)
    for insight in ascending:
        assert set(insight) == {
            "id",
            "type",
            "number",
            "createdAt",
            "assetId",
            "inspectionId",
            "eventId",
        }
        assert isinstance(insight["number"], int)
        assert is_iso_z(insight["createdAt"])


def test_insight_descriptions_and_prescriptions_come_only_when_asked_for(sim):
    path = f"/companies/{APEX}/insights"
    plain = get(sim, path).json()["data"]
    described = get(sim, path, params={"loadDescription": "true"}).json()["data"]
    not_described = get(sim, path, params={"loadDescription": "false"}).json()["data"]
    prescribed = get(sim, path, params={"loadPrescription": "true"}).json()["data"]
    detail = get(sim, f"/insights/{plain[0]['id']}", headers={"x-company-id": APEX}).json()

    assert [i["id"] for i in described] == [i["id"] for i in plain]
    assert all("description" not in i for i in plain + not_described + prescribed)
    assert described[0] == {**plain[0], "description": detail["description"]}
    assert all(isinstance(i["description"], str) and i["description"] for i in described)
    assert all(i["prescriptions"] == [] for i in prescribed)
    assert "prescriptions" not in plain[0]
    assert get(sim, path, params={"loadDescription": "maybe"}).status_code == 422


def test_an_insight_detail_needs_its_company_header(sim):
    insight = get(sim, f"/companies/{APEX}/insights").json()["data"][0]
    path = f"/insights/{insight['id']}"

    detail = get(sim, path, headers={"x-company-id": APEX}).json()
    no_header = get(sim, path)
    other_company = get(sim, path, headers={"x-company-id": JAGUAR})
    not_allowed = get(sim, path, "jaguar", headers={"x-company-id": APEX})

    assert {k: detail[k] for k in insight} == insight
    assert detail["status"] in {"pending", "inspection", "checked"}
    assert detail["fixStatus"] in {"fixed", "notFixed"}
    assert is_iso_z(detail["referenceDate"])
    assert is_iso_z(detail["updatedAt"])
    assert no_header.status_code == 422
    assert no_header.json()["detail"][0]["loc"] == ["header", "x-company-id"]
    assert error_code(other_company) == (404, "not_found")
    assert error_code(not_allowed) == (403, "forbidden")


def test_events_have_their_fields_and_filters(sim):
    path = f"/companies/{APEX}/events"
    every, _ = page_through(sim, path, limit=40)
    types = sorted({e["type"] for e in every})
    chosen, _ = page_through(sim, path, eventTypes=",".join(types[:2]))
    middle = every[len(every) // 2]
    created, _ = page_through(sim, path, createdAtStart=middle["createdAt"])
    started, _ = page_through(sim, path, startDateEnd=middle["startDate"])
    ends = sorted(e["endDate"] for e in every if e["endDate"])
    ended, _ = page_through(sim, path, endDateStart=ends[len(ends) // 2])

    assert len(every) > 10
    assert set(types) <= EVENT_TYPES
    keys = [(e["createdAt"], e["id"]) for e in every]
    assert keys == sorted(keys)
    for event in every:
        assert event["companyId"] == APEX
        assert is_iso_z(event["startDate"])
        assert {"assetId", "locationId", "description", "endDate", "createdByUserId"} <= set(event)
    assert chosen == [e for e in every if e["type"] in types[:2]]
    assert created == [e for e in every if e["createdAt"] >= middle["createdAt"]]
    assert started == [e for e in every if e["startDate"] < middle["startDate"]]
    assert ended == [e for e in every if e["endDate"] and e["endDate"] >= ends[len(ends) // 2]]
    assert get(sim, path, params={"deleted": "true"}).json()["total"] == 0
    assert get(sim, path, params={"eventTypes": "meteorStrike"}).status_code == 422


def test_work_orders_split_deleted_and_filter_on_updated_at(sim):
    path = f"/companies/{TOBIAS}/workorders"
    live, _ = page_through(sim, path, limit=50)
    deleted, _ = page_through(sim, path, limit=50, deleted="true")
    middle = sorted(w["updatedAt"] for w in live)[len(live) // 2]
    since, _ = page_through(
        sim, path, filter="updatedAt", start_date=middle, end_date=iso8601(SIM_NOW)
    )

    assert live
    assert deleted
    assert all(not w["deleted"]["value"] for w in live)
    assert all(w["deleted"]["value"] for w in deleted)
    assert not {w["id"] for w in live} & {w["id"] for w in deleted}
    assert since == [w for w in live if w["updatedAt"] >= middle]
    for order in live:
        assert isinstance(order["number"], int)
        assert isinstance(order["categoryIds"], list)
        assert isinstance(order["elapsedIntervals"], list)
        assert "total" in order["totalCost"]
        assert order["status"] in {"open", "inProgress", "onHold", "done", "canceled"}
    bad = get(sim, path, params={"start_date": middle})
    assert bad.status_code == 422


def test_work_orders_carry_the_published_required_fields(sim):
    """id, status, number, companyId, updatedAt, createdAt and createdByUserId, and a
    userId on every elapsed interval: what the published schema requires."""
    orders, _ = page_through(sim, f"/companies/{TOBIAS}/workorders", limit=100)

    assert orders
    intervals = 0
    for order in orders:
        assert order["companyId"] == TOBIAS
        assert len(order["createdByUserId"]) == 24
        assert isinstance(order["status"], str)
        assert is_iso_z(order["createdAt"])
        assert is_iso_z(order["updatedAt"])
        for interval in order["elapsedIntervals"]:
            assert {"startedAt", "status", "userId"} <= set(interval)
            assert len(interval["userId"]) == 24
            intervals += 1
    assert intervals > 0


def test_work_orders_filter_on_created_at_too(sim):
    path = f"/companies/{TOBIAS}/workorders"
    live, _ = page_through(sim, path, limit=50)
    middle = sorted(w["createdAt"] for w in live)[len(live) // 2]

    since, _ = page_through(sim, path, filter="createdAt", start_date=middle)
    until, _ = page_through(sim, path, filter="createdAt", end_date=middle)

    assert since == [w for w in live if w["createdAt"] >= middle]
    assert until == [w for w in live if w["createdAt"] < middle]
    assert get(sim, path, params={"filter": "dueDate"}).status_code == 422


def test_priorities_and_categories_are_pages(sim):
    body = get(sim, f"/companies/{JAGUAR}/workorders/priorities").json()
    second = get(sim, f"/companies/{JAGUAR}/workorders/priorities", params={"limit": 3, "page": 2})
    deleted = get(sim, f"/companies/{JAGUAR}/workorders/priorities", params={"deleted": "true"})
    categories = get(sim, f"/companies/{JAGUAR}/workorders/categories").json()

    priorities = body["data"]
    assert (body["page"], body["total"], body["hasNextPage"]) == (1, 4, False)
    assert [p["name"] for p in priorities] == ["Low", "Medium", "High", "Urgent"]
    assert [p["order"] for p in priorities] == [1, 2, 3, 4]
    for priority in priorities:
        assert set(priority) == {"id", "name", "color", "companyId", "order"}
        assert priority["companyId"] == JAGUAR
    assert second.json()["data"] == priorities[3:]
    assert deleted.json()["data"] == []
    assert {c["name"]: c["isPreventive"] for c in categories["data"]} == {
        "Corrective": False,
        "Preventive": True,
        "Predictive": False,
    }
    assert categories["total"] == 3
    assert categories["hasNextPage"] is False
