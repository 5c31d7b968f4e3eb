"""Every endpoint over real HTTP: shapes and types per the API contract, the asset trees
per the demo dump, paging, filters, windows, and the error bodies."""

from datetime import timedelta

import pytest

from sources.simulator import SimConfig, Simulator
from tests.conftest import SIM_NOW
from tests.simulator.server_helpers import (
    company_id,
    components,
    demo_dump,
    get,
    iso,
    page_through,
    parse_iso,
    window,
)

JAGUAR, TOBIAS, APEX = company_id("Jaguar"), company_id("Tobias"), company_id("Apex")
MEASURES = ("rms", "peak", "peakToPeak", "crestFactor", "crestFactorDb")
PHASES = {
    "current": {"a", "b", "c"},
    "voltage": {"ab", "bc", "ac"},
    "active_power": {"a", "b", "c"},
    "power_factor": {"a", "b", "c"},
}
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


def _is_number_or_null(values):
    return all(v is None or isinstance(v, int | float) for v in values)


def _is_iso_z(text):
    return isinstance(text, str) and text.endswith("Z") and parse_iso(text).tzinfo is not None


def test_health_needs_no_token(sim):
    response = get(sim, "/health", token=None)

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "version": "v1"}


@pytest.mark.parametrize(
    ("token", "companies"), [("all", {"Jaguar", "Tobias", "Apex"}), ("tobias", {"Tobias"})]
)
def test_companies_lists_only_what_the_token_may_read(sim, token, companies):
    body = get(sim, "/companies", token).json()

    assert {c["name"] for c in body} == companies
    expected = {c["id"]: c["name"] for c in demo_dump()["companies"] if c["name"] in companies}
    assert {c["id"]: c["name"] for c in body} == expected


def test_connection_reports_an_online_connection_at_the_clock(sim):
    body = get(sim, "/connection", "jaguar").json()

    assert body == {
        "connectionId": body["connectionId"],
        "status": "online",
        "reauthorizationRequired": False,
        "companyIds": [JAGUAR],
        "checkedAt": "2025-06-02T12:00:00.000Z",
    }
    assert isinstance(body["connectionId"], str)
    assert body["connectionId"]
    assert get(sim, "/connection", "all").json()["connectionId"] != body["connectionId"]


@pytest.mark.parametrize("company", ["Jaguar", "Tobias", "Apex"])
def test_locations_are_the_dump_locations_each_exactly_once(sim, company):
    served, pages = page_through(sim, f"/companies/{company_id(company)}/locations", limit=1000)

    dumped = demo_dump()[company_id(company)]["locations"]
    assert len(served) == len(dumped) == pages[0]["total"]
    assert {(r["id"], r["name"], r["parentId"]) for r in served} == {
        (r["id"], r["name"], r["parentId"]) for r in dumped
    }
    assert {r["companyId"] for r in served} == {company_id(company)}


@pytest.mark.parametrize("company", ["Jaguar", "Tobias", "Apex"])
def test_assets_are_the_dump_assets_each_exactly_once(sim, company):
    served, pages = page_through(sim, f"/companies/{company_id(company)}/assets", limit=1000)

    dumped = {a["id"]: a for a in demo_dump()[company_id(company)]["assets"]}
    assert len(served) == len(dumped) == pages[-1]["total"]
    assert {a["id"] for a in served} == set(dumped)
    for asset in served:
        source = dumped[asset["id"]]
        assert (asset["name"], asset["locationId"], asset["parentId"]) == (
            source["name"],
            source["locationId"],
            source["parentId"],
        )
        assert asset["companyId"] == company_id(company)
        assert asset["sensors"] == ([source["sensorId"]] if source.get("sensorId") else [])
        if source.get("sensorType"):
            assert asset["sensorType"] == source["sensorType"]
            assert asset["gatewayId"] == source["gatewayId"]
            assert asset["status"] == source["status"]


def test_assets_carry_every_published_field_with_its_type(sim):
    body = get(sim, f"/companies/{TOBIAS}/assets", params={"limit": 1000}).json()

    for asset in body["data"]:
        for name in ("id", "name", "companyId", "code", "criticalityId"):
            assert isinstance(asset[name], str), name
        for name in ("locationId", "parentId", "manufacturer", "modelType", "serialNumber"):
            assert asset[name] is None or isinstance(asset[name], str), name
        assert _is_iso_z(asset["createdAt"])
        assert _is_iso_z(asset["updatedAt"])
        assert isinstance(asset["deleted"]["value"], bool)
        assert isinstance(asset["disabled"]["value"], bool)
        assert asset["disabled"]["date"] is None or _is_iso_z(asset["disabled"]["date"])


def test_paging_reports_totals_and_the_last_page(sim):
    path = f"/companies/{APEX}/locations"

    first = get(sim, path, params={"limit": 1000}).json()
    last = get(sim, path, params={"limit": 1000, "page": 4}).json()
    beyond = get(sim, path, params={"limit": 1000, "page": 5}).json()
    default = get(sim, path).json()
    exact = get(sim, f"/companies/{JAGUAR}/locations", params={"limit": 2, "page": 2}).json()

    assert (first["page"], first["limit"], first["total"], first["hasNextPage"]) == (
        1,
        1000,
        3792,
        True,
    )
    assert (len(last["data"]), last["hasNextPage"]) == (792, False)
    assert (beyond["data"], beyond["hasNextPage"]) == ([], False)
    assert (default["limit"], len(default["data"])) == (100, 100)
    assert default["data"] == first["data"][:100]
    assert (len(exact["data"]), exact["total"], exact["hasNextPage"]) == (2, 4, False)


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 1001}, {"page": 0}, {"page": "two"}])
def test_bad_paging_answers_422_naming_the_parameter(sim, params):
    response = get(sim, f"/companies/{APEX}/assets", params=params)

    assert response.status_code == 422
    (detail,) = response.json()["detail"]
    assert detail["loc"] == ["query", next(iter(params))]


def test_the_same_request_returns_the_same_bytes(sim):
    asset = components("vibration", "Tobias")[0]["id"]
    path, params = f"/assets/{asset}/vibration", window(SIM_NOW)

    first, second = get(sim, path, params=params), get(sim, path, params=params)
    listing = [get(sim, f"/companies/{APEX}/workorders", params={"page": 3}).content for _ in "ab"]

    assert first.status_code == 200
    assert first.content == second.content
    assert listing[0] == listing[1]


def test_vibration_is_columnar_and_aligned_within_the_window(sim):
    asset = components("vibration", "Tobias")[0]["id"]
    params = window(SIM_NOW, days=7)

    response = get(sim, f"/assets/{asset}/vibration", params=params)

    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    times = [parse_iso(t) for t in body["sampledAt"]]
    assert body["companyId"] == TOBIAS
    assert times == sorted(times)
    assert len(set(times)) == len(times) > 100
    assert parse_iso(params["start"]) <= times[0]
    assert times[-1] < parse_iso(params["end"])
    n = len(times)
    assert len(body["temperature"]) == n
    assert _is_number_or_null(body["temperature"])
    assert len(body["powered"]) == n
    assert all(p is None or isinstance(p, bool) for p in body["powered"])
    for family in ("accel", "vel"):
        assert set(body[family]) == set(MEASURES)
        for measure in MEASURES:
            assert set(body[family][measure]) == {"x", "y", "z"}
            for axis in "xyz":
                values = body[family][measure][axis]
                assert len(values) == n
                assert _is_number_or_null(values)


def test_window_includes_its_start_and_excludes_its_end(sim):
    asset = components("vibration", "Tobias")[0]["id"]
    path = f"/assets/{asset}/vibration"
    times = get(sim, path, params=window(SIM_NOW, days=1)).json()["sampledAt"]
    sample = parse_iso(times[5])

    at_start = get(
        sim, path, params={"start": iso(sample), "end": iso(sample + timedelta(milliseconds=1))}
    )
    before = get(sim, path, params={"start": iso(sample - timedelta(hours=6)), "end": iso(sample)})

    assert at_start.json()["sampledAt"] == [times[5]]
    assert before.json()["sampledAt"][-1] == times[4]


def test_a_window_given_with_an_offset_is_the_same_window(sim):
    asset = components("vibration", "Tobias")[0]["id"]
    path = f"/assets/{asset}/vibration"

    utc = get(sim, path, params={"start": "2025-06-01T10:00:00Z", "end": "2025-06-01T12:00:00Z"})
    offset = get(
        sim, path, params={"start": "2025-06-01T12:00:00+02:00", "end": "2025-06-01T14:00:00+02:00"}
    )

    assert utc.status_code == 200
    assert utc.content == offset.content


def test_rotation_has_ids_and_rpm_aligned(sim):
    asset = components("vibration", "Tobias")[0]["id"]

    body = get(sim, f"/assets/{asset}/vibration/rotation", params=window(SIM_NOW, days=1)).json()

    assert set(body) == {"companyId", "id", "sampledAt", "rpm"}
    assert len(body["id"]) == len(body["rpm"]) == len(body["sampledAt"]) > 0
    assert all(isinstance(i, str) for i in body["id"])
    assert _is_number_or_null(body["rpm"])


@pytest.mark.parametrize("quantity", sorted(PHASES))
def test_energy_quantities_have_their_phases(sim, quantity):
    asset = components("energy", "Tobias")[0]["id"]

    body = get(sim, f"/assets/{asset}/energy/{quantity}", params=window(SIM_NOW, days=1)).json()

    n = len(body["sampledAt"])
    assert n > 0
    assert body["companyId"] == TOBIAS
    for stat in ("average", "maximum", "minimum"):
        assert set(body[stat]) == PHASES[quantity]
        assert all(len(v) == n and _is_number_or_null(v) for v in body[stat].values())


def test_consumption_has_intervals_accumulation_and_forecast_flags(sim):
    asset = components("energy", "Tobias")[0]["id"]

    body = get(sim, f"/assets/{asset}/energy/consumption", params=window(SIM_NOW, days=1)).json()

    n = len(body["sampledAt"])
    assert n > 0
    assert len(body["consumption"]) == len(body["accumulatedConsumption"]) == n
    assert _is_number_or_null(body["consumption"] + body["accumulatedConsumption"])
    assert all(isinstance(f, bool) for f in body["forecast"])
    assert len(body["forecast"]) == n


@pytest.mark.parametrize(
    "params",
    [
        {"start": "2001-01-01T00:00:00Z", "end": "2001-01-08T00:00:00Z"},  # before any history
        window(SIM_NOW + timedelta(days=3), days=1),  # the future: nothing sampled yet
    ],
)
def test_a_window_without_samples_answers_204(sim, params):
    asset = components("vibration", "Tobias")[0]["id"]

    response = get(sim, f"/assets/{asset}/vibration", params=params)

    assert response.status_code == 204
    assert response.content == b""


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"end": "2025-06-02T00:00:00Z"}, "start"),
        ({"start": "2025-06-01T00:00:00Z"}, "end"),
        ({"start": "yesterday", "end": "2025-06-02T00:00:00Z"}, "start"),
        ({"start": "2025-06-02T00:00:00Z", "end": "2025-06-02T00:00:00Z"}, "end"),
        ({"start": "2025-06-02T00:00:00Z", "end": "2025-06-01T00:00:00Z"}, "end"),
        ({"start": "2025-05-25T00:00:00Z", "end": "2025-06-01T00:00:00.001Z"}, "end"),
    ],
)
def test_bad_windows_answer_422_fastapi_style(sim, params, field):
    asset = components("vibration", "Tobias")[0]["id"]

    response = get(sim, f"/assets/{asset}/vibration", params=params)

    assert response.status_code == 422
    details = response.json()["detail"]
    assert ["query", field] in [d["loc"] for d in details]
    assert all({"type", "loc", "msg"} <= set(d) for d in details)


def test_a_window_of_exactly_seven_days_is_allowed(sim):
    asset = components("vibration", "Tobias")[0]["id"]
    params = {"start": "2025-05-25T00:00:00Z", "end": "2025-06-01T00:00:00Z"}

    assert get(sim, f"/assets/{asset}/vibration", params=params).status_code == 200


def test_an_unknown_energy_quantity_answers_422(sim):
    asset = components("energy", "Tobias")[0]["id"]

    response = get(sim, f"/assets/{asset}/energy/frequency", params=window(SIM_NOW, days=1))

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["path", "quantity"]


def _error(response):
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message"}
    return response.status_code, body["error"]["code"]


def test_tokens_are_checked_before_anything_else(sim):
    missing = get(sim, f"/companies/{JAGUAR}/assets", token=None)
    wrong = sim_get_with_raw_token(sim, f"/companies/{JAGUAR}/assets", "not-a-token")

    assert _error(missing) == (401, "invalid_token")
    assert _error(wrong) == (401, "invalid_token")
    assert "not-a-token" not in wrong.text


def sim_get_with_raw_token(sim, path, token):
    import requests

    return requests.get(
        sim.base_url + path, headers={"Authorization": f"Bearer {token}"}, timeout=10
    )


def test_a_company_outside_the_token_is_forbidden_and_an_unknown_one_not_found(sim):
    assert _error(get(sim, f"/companies/{APEX}/locations", "jaguar")) == (403, "forbidden")
    assert _error(get(sim, f"/companies/{APEX}/workorders/priorities", "jaguar")) == (
        403,
        "forbidden",
    )
    assert _error(get(sim, "/companies/000000000000000000000000/events")) == (404, "not_found")


def test_an_asset_of_another_company_is_forbidden_and_an_unknown_one_not_found(sim):
    apex_asset = components("vibration", "Apex")[0]["id"]
    params = window(SIM_NOW, days=1)

    assert _error(get(sim, f"/assets/{apex_asset}/vibration", "jaguar", params)) == (
        403,
        "forbidden",
    )
    assert _error(get(sim, "/assets/000000000000000000000000/vibration", params=params)) == (
        404,
        "not_found",
    )
    energy_asset = components("energy", "Apex")[0]["id"]
    assert _error(get(sim, f"/assets/{energy_asset}/vibration", params=params)) == (
        404,
        "not_found",
    )
    assert _error(get(sim, "/no/such/route")) == (404, "not_found")


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
        assert {
            "id",
            "type",
            "number",
            "createdAt",
            "assetId",
            "inspectionId",
            "description",
            "eventId",
        } <= set(insight)
        assert isinstance(insight["number"], int)
        assert _is_iso_z(insight["createdAt"])


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
    assert _is_iso_z(detail["referenceDate"])
    assert _is_iso_z(detail["updatedAt"])
    assert no_header.status_code == 422
    assert no_header.json()["detail"][0]["loc"] == ["header", "x-company-id"]
    assert _error(other_company) == (404, "not_found")
    assert _error(not_allowed) == (403, "forbidden")


def test_events_have_their_fields_and_filters(sim):
    path = f"/companies/{APEX}/events"
    every, _ = page_through(sim, path, limit=40)
    types = sorted({e["type"] for e in every})
    chosen, _ = page_through(sim, path, eventTypes=",".join(types[:2]))
    middle = every[len(every) // 2]
    created, _ = page_through(sim, path, createdAtStart=middle["createdAt"])
    started, _ = page_through(sim, path, startDateEnd=middle["startDate"])

    assert len(every) > 10
    assert set(types) <= EVENT_TYPES
    keys = [(e["createdAt"], e["id"]) for e in every]
    assert keys == sorted(keys)
    for event in every:
        assert event["companyId"] == APEX
        assert _is_iso_z(event["startDate"])
        assert {"assetId", "locationId", "description", "endDate", "createdByUserId"} <= set(event)
    assert chosen == [e for e in every if e["type"] in types[:2]]
    assert created == [e for e in every if e["createdAt"] >= middle["createdAt"]]
    assert started == [e for e in every if e["startDate"] < middle["startDate"]]
    assert get(sim, path, params={"deleted": "true"}).json()["total"] == 0
    assert get(sim, path, params={"eventTypes": "meteorStrike"}).status_code == 422


def test_work_orders_split_deleted_and_filter_on_updated_at(sim):
    path = f"/companies/{TOBIAS}/workorders"
    live, _ = page_through(sim, path, limit=50)
    deleted, _ = page_through(sim, path, limit=50, deleted="true")
    middle = sorted(w["updatedAt"] for w in live)[len(live) // 2]
    since, _ = page_through(sim, path, filter="updatedAt", start_date=middle, end_date=iso(SIM_NOW))

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


def test_priorities_are_a_bare_array_and_categories_a_page(sim):
    priorities = get(sim, f"/companies/{JAGUAR}/workorders/priorities").json()
    categories = get(sim, f"/companies/{JAGUAR}/workorders/categories").json()

    assert isinstance(priorities, list)
    assert priorities
    assert all({"id", "name", "color", "companyId", "order"} <= set(p) for p in priorities)
    assert {c["name"]: c["isPreventive"] for c in categories["data"]} == {
        "Corrective": False,
        "Preventive": True,
        "Predictive": False,
    }
    assert categories["total"] == 3
    assert categories["hasNextPage"] is False
