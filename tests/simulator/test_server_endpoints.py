"""The catalog endpoints over real HTTP (integration profile): health, connection and
companies, the asset trees per the demo dump, paging, and the error bodies. Telemetry
and records have their own modules; the public profile is in test_server_public.py."""

import pytest

from simulator import SimConfig, Simulator
from tests.conftest import SIM_NOW
from tests.simulator.server_helpers import (
    company_id,
    components,
    demo_dump,
    error_code,
    get,
    is_iso_z,
    page_through,
    window,
)

JAGUAR, TOBIAS, APEX = company_id("Jaguar"), company_id("Tobias"), company_id("Apex")


@pytest.fixture(scope="module")
def sim():
    with Simulator(SimConfig(seed=7, days=14), now=SIM_NOW) as simulator:
        yield simulator


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
        assert is_iso_z(asset["createdAt"])
        assert is_iso_z(asset["updatedAt"])
        assert isinstance(asset["deleted"]["value"], bool)
        assert isinstance(asset["disabled"]["value"], bool)
        assert asset["disabled"]["date"] is None or is_iso_z(asset["disabled"]["date"])


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


def test_tokens_are_checked_before_anything_else(sim):
    missing = get(sim, f"/companies/{JAGUAR}/assets", token=None)
    wrong = get(
        sim, f"/companies/{JAGUAR}/assets", None, headers={"Authorization": "Bearer not-a-token"}
    )

    assert error_code(missing) == (401, "invalid_token")
    assert error_code(wrong) == (401, "invalid_token")
    assert "not-a-token" not in wrong.text


def test_a_company_outside_the_token_is_forbidden_and_an_unknown_one_not_found(sim):
    assert error_code(get(sim, f"/companies/{APEX}/locations", "jaguar")) == (403, "forbidden")
    assert error_code(get(sim, f"/companies/{APEX}/workorders/priorities", "jaguar")) == (
        403,
        "forbidden",
    )
    assert error_code(get(sim, "/companies/000000000000000000000000/events")) == (404, "not_found")


def test_an_asset_of_another_company_is_forbidden_and_an_unknown_one_not_found(sim):
    apex_asset = components("vibration", "Apex")[0]["id"]
    params = window(SIM_NOW, days=1)

    assert error_code(get(sim, f"/assets/{apex_asset}/vibration", "jaguar", params)) == (
        403,
        "forbidden",
    )
    assert error_code(get(sim, "/assets/000000000000000000000000/vibration", params=params)) == (
        404,
        "not_found",
    )
    energy_asset = components("energy", "Apex")[0]["id"]
    assert error_code(get(sim, f"/assets/{energy_asset}/vibration", params=params)) == (
        404,
        "not_found",
    )
    plain = next(a["id"] for a in demo_dump()[APEX]["assets"] if not a.get("sensorId"))
    assert error_code(get(sim, f"/assets/{plain}/energy/demand", params=params)) == (
        404,
        "not_found",
    )
    assert error_code(get(sim, "/no/such/route")) == (404, "not_found")
