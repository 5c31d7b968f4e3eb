"""The public profile over real HTTP: exactly the published API (contract v2, (P) lines)
and nothing of the integration layer. Every expectation here comes from the contract:
what is absent, how errors look, how paging defaults, what a wrong probe answers."""

import pytest
import requests

from simulator import SimConfig, Simulator
from tests.conftest import SIM_NOW
from tests.simulator.server_helpers import (
    company_id,
    components,
    demo_dump,
    get,
    pristine,
    window,
)

JAGUAR, TOBIAS, APEX = company_id("Jaguar"), company_id("Tobias"), company_id("Apex")
UNPUBLISHED = {"sensorType", "sensorId", "gatewayId", "status"}
TELEMETRY = (
    "vibration",
    "vibration/rotation",
    "energy/current",
    "energy/voltage",
    "energy/active-power",
    "energy/power-factor",
    "energy/reactive-power",
    "energy/consumption",
    "energy/demand",
    "energy/cost",
)


@pytest.fixture(scope="module")
def shared():
    with Simulator(SimConfig(seed=7, days=3), now=SIM_NOW, profile="public") as simulator:
        yield simulator


@pytest.fixture
def sim(shared):
    with pristine(shared) as simulator:
        yield simulator


def _detail(response):
    """(status, detail) of a FastAPI-style error: a body of exactly one string `detail`."""
    body = response.json()
    assert set(body) == {"detail"}, body
    assert isinstance(body["detail"], str)
    return response.status_code, body["detail"]


def test_the_profile_is_reported_by_the_object_and_the_state_control(sim):
    state = requests.get(sim.base_url + "/_sim/state", timeout=5).json()

    assert sim.profile == "public"
    assert state["profile"] == "public"


@pytest.mark.parametrize("path", ["/connection", "/companies", "/health"])
@pytest.mark.parametrize("token", ["all", None])
def test_the_integration_layer_endpoints_do_not_exist(sim, path, token):
    response = get(sim, path, token)

    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}


def test_assets_have_no_sensor_fields_but_keep_their_sensor_ids(sim):
    body = get(sim, f"/companies/{TOBIAS}/assets", params={"limit": 1000}).json()

    dumped = {a["id"]: a for a in demo_dump()[TOBIAS]["assets"]}
    assert {a["id"] for a in body["data"]} == set(dumped)
    for asset in body["data"]:
        assert not UNPUBLISHED & set(asset)
        sensor = dumped[asset["id"]].get("sensorId")
        assert asset["sensors"] == ([sensor] if sensor else [])
        assert {"id", "name", "companyId"} <= set(asset)
    assert any(a["sensors"] for a in body["data"])


def test_asset_pages_have_no_total_while_the_other_lists_keep_theirs(sim):
    assets = get(sim, f"/companies/{APEX}/assets").json()
    others = [
        get(sim, f"/companies/{APEX}/{path}").json()
        for path in ("locations", "insights", "events", "workorders")
    ]
    others += [
        get(sim, f"/companies/{APEX}/workorders/{p}").json() for p in ("priorities", "categories")
    ]

    assert set(assets) == {"data", "page", "limit", "hasNextPage"}
    for body in others:
        assert set(body) == {"data", "page", "limit", "total", "hasNextPage"}


def test_limit_defaults_to_ten(sim):
    first = get(sim, f"/companies/{APEX}/locations").json()
    second = get(sim, f"/companies/{APEX}/locations", params={"page": 2}).json()
    wide = get(sim, f"/companies/{APEX}/locations", params={"limit": 20}).json()
    assets = get(sim, f"/companies/{APEX}/assets").json()
    priorities = get(sim, f"/companies/{APEX}/workorders/priorities").json()

    assert (first["limit"], len(first["data"]), first["hasNextPage"]) == (10, 10, True)
    assert wide["data"] == first["data"] + second["data"]
    assert (assets["limit"], len(assets["data"]), assets["hasNextPage"]) == (10, 10, True)
    assert (priorities["limit"], len(priorities["data"]), priorities["hasNextPage"]) == (
        10,
        4,
        False,
    )


def test_errors_are_fastapi_detail_strings(sim):
    asset = components("vibration", "Apex")[0]["id"]
    params = window(SIM_NOW, days=1)

    assert _detail(get(sim, f"/companies/{APEX}/locations", "jaguar"))[0] == 403
    assert _detail(get(sim, "/companies/000000000000000000000000/events"))[0] == 404
    assert _detail(get(sim, f"/assets/{asset}/vibration", "jaguar", params))[0] == 403
    assert _detail(get(sim, "/assets/000000000000000000000000/vibration", params=params))[0] == 404
    insight = f"/insights/{'0' * 24}"
    assert _detail(get(sim, insight, headers={"x-company-id": APEX}))[0] == 404
    assert _detail(get(sim, "/no/such/route")) == (404, "Not Found")


def test_validation_errors_stay_lists_of_loc_msg_type(sim):
    asset = components("energy", "Apex")[0]["id"]

    bad_window = get(sim, f"/assets/{asset}/energy/demand", params={"start": "soon"})
    bad_limit = get(sim, f"/companies/{APEX}/assets", params={"limit": 0})
    old_name = get(sim, f"/assets/{asset}/energy/active_power", params=window(SIM_NOW, days=1))

    for response in (bad_window, bad_limit, old_name):
        assert response.status_code == 422
        assert all({"loc", "msg", "type"} <= set(d) for d in response.json()["detail"])
    assert old_name.json()["detail"][0]["loc"] == ["path", "quantity"]


def test_a_missing_unknown_or_revoked_token_is_a_plain_401(sim):
    path = f"/companies/{JAGUAR}/assets"
    missing = get(sim, path, token=None)
    unknown = get(sim, path, token=None, headers={"Authorization": "Bearer not-a-token"})
    sim.set_fault("invalid_token", token="jaguar")
    revoked = get(sim, path, "jaguar")
    others = get(sim, path, "all")

    for response in (missing, unknown, revoked):
        assert _detail(response)[0] == 401
    assert "not-a-token" not in unknown.text
    assert others.status_code == 200


def test_a_reauthorization_fault_is_an_ordinary_401_without_any_code(sim):
    sim.set_fault("reauthorization_required", token="tobias", after=1)

    first = get(sim, f"/companies/{TOBIAS}/locations", "tobias")
    second = get(sim, f"/companies/{TOBIAS}/locations", "tobias")
    revoked = get(sim, f"/companies/{TOBIAS}/locations", "all")
    sim.set_fault("invalid_token", token="all")
    invalid = get(sim, f"/companies/{TOBIAS}/locations", "all")

    assert first.status_code == 200
    status, detail = _detail(second)
    assert status == 401
    assert "reauthoriz" not in second.text.lower()
    assert (revoked.status_code, _detail(invalid)) == (200, (401, detail))
    assert sim.connection_status("tobias") == "reauthorization_required"


@pytest.mark.parametrize("path", TELEMETRY)
def test_telemetry_of_the_wrong_kind_of_sensor_answers_204(sim, path):
    """A client without sensor types probes: an asset answers 204 where it has no data."""
    vibration = components("vibration", "Jaguar")[0]["id"]
    energy = components("energy", "Jaguar")[0]["id"]
    plain = next(a["id"] for a in demo_dump()[JAGUAR]["assets"] if not a.get("sensorId"))
    own = vibration if path.startswith("vibration") else energy
    other = energy if path.startswith("vibration") else vibration
    params = window(SIM_NOW, days=1)

    assert get(sim, f"/assets/{own}/{path}", params=params).status_code == 200
    for asset in (other, plain):
        response = get(sim, f"/assets/{asset}/{path}", params=params)
        assert (response.status_code, response.content) == (204, b"")


def test_telemetry_bodies_have_the_published_required_fields(sim):
    vibration = components("vibration", "Jaguar")[0]["id"]
    energy = components("energy", "Jaguar")[0]["id"]
    params = window(SIM_NOW, days=1)

    vib = get(sim, f"/assets/{vibration}/vibration", params=params).json()
    rpm = get(sim, f"/assets/{vibration}/vibration/rotation", params=params).json()
    power = get(sim, f"/assets/{energy}/energy/active-power", params=params).json()

    assert {"companyId", "sampledAt", "temperature", "powered", "accel", "vel"} <= set(vib)
    assert {"companyId", "sampledAt", "rpm"} <= set(rpm)
    assert {"companyId", "sampledAt", "average", "maximum", "minimum"} == set(power)
    assert {vib["companyId"], rpm["companyId"], power["companyId"]} == {JAGUAR}


def test_429_keeps_retry_after(sim):
    sim.set_fault("rate_limited", retry_after=2)

    limited = get(sim, f"/companies/{APEX}/locations")

    assert _detail(limited)[0] == 429
    assert limited.headers["Retry-After"] == "2"


def test_faults_stats_and_controls_work_as_on_the_integration_profile(sim):
    energy = components("energy", "Apex")[0]["id"]
    sim.set_fault("server_errors", count=1, statuses=[503], route="demand")
    params = window(SIM_NOW, days=1)

    failed = get(sim, f"/assets/{energy}/energy/demand", params=params)
    recovered = get(sim, f"/assets/{energy}/energy/demand", params=params)
    cost = get(sim, f"/assets/{energy}/energy/cost", params=params)
    bad_control = requests.post(sim.base_url + "/_sim/faults", json={"spec": "meteor"}, timeout=5)

    assert _detail(failed)[0] == 503
    assert (recovered.status_code, cost.status_code) == (200, 200)
    assert sim.stats()["by_route"] == {"demand": 2, "cost": 1}
    assert bad_control.json()["error"]["code"] == "invalid_request"


def test_the_profile_defaults_to_integration_and_an_unknown_one_is_refused():
    assert Simulator(SimConfig(days=1), now=SIM_NOW).profile == "integration"
    with pytest.raises(ValueError, match="partner"):
        Simulator(SimConfig(days=1), now=SIM_NOW, profile="partner")
