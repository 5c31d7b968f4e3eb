"""The stats, the fault settings' checks, the `/_sim` controls and the per-token rate
limiter, over real HTTP. The fault profiles themselves are in test_server_faults.py."""

import pytest
import requests

from simulator import SimConfig, Simulator
from tests.conftest import SIM_NOW
from tests.simulator.server_helpers import (
    company_id,
    components,
    error_code,
    get,
    pristine,
    window,
)

JAGUAR, APEX = company_id("Jaguar"), company_id("Apex")


@pytest.fixture(scope="module")
def shared():
    with Simulator(SimConfig(seed=7, days=3), now=SIM_NOW) as simulator:
        yield simulator


@pytest.fixture
def sim(shared):
    """The module's simulator, with no faults, fresh stats and the clock back at SIM_NOW."""
    with pristine(shared, SIM_NOW) as simulator:
        yield simulator


def test_stats_count_requests_by_route_token_and_answer(sim):
    get(sim, "/companies", "jaguar")
    get(sim, f"/companies/{JAGUAR}/locations", "jaguar")
    get(sim, f"/companies/{APEX}/locations", "jaguar")
    get(sim, "/companies", token=None)

    assert sim.stats() == {
        "requests": 4,
        "by_route": {"companies": 2, "locations": 2},
        "by_token": {"jaguar": 3, "unknown": 1},
        "by_status": {"200": 2, "403": 1, "401": 1},
    }


@pytest.mark.parametrize(
    ("name", "params", "named"),
    [
        ("meteor", {}, "meteor"),
        ("slow", {"seconds": -1}, "seconds"),
        ("server_errors", {"statuses": [418]}, "statuses"),
        ("resets", {"token": "nobody"}, "nobody"),
        ("resets", {"route": "nowhere"}, "nowhere"),
        ("resets", {"colour": "red"}, "colour"),
        ("rate_limited", {"http_date": "soon"}, "http_date"),
        ("resets", {"route": "active_power"}, "active_power"),
        ("server_errors", {"route": "connection"}, "never reaches route 'connection'"),
    ],
)
def test_bad_fault_settings_are_refused_naming_the_culprit(sim, name, params, named):
    with pytest.raises(ValueError, match=named):
        sim.set_fault(name, **params)


def test_controls_over_http_set_and_clear_faults_and_move_the_clock(sim):
    base = sim.base_url + "/_sim"

    by_spec = requests.post(base + "/faults", json={"spec": "server_errors:count=1,statuses=502"})
    failing = get(sim, "/companies")
    by_name = requests.post(base + "/faults", json={"name": "offline", "params": {"token": "apex"}})
    state = requests.get(base + "/state", timeout=5).json()
    bad = requests.post(base + "/faults", json={"spec": "meteor"})
    cleared = requests.delete(base + "/faults", timeout=5)
    moved = requests.post(base + "/clock", json={"advanceSeconds": 3600}, timeout=5)
    checked_at = get(sim, "/connection", "apex").json()

    assert by_spec.status_code == by_name.status_code == 200
    assert failing.status_code == 502
    assert {f["name"] for f in state["faults"]} == {"server_errors", "offline"}
    assert state["profile"] == "integration"
    assert set(state["tariffs"]) == {JAGUAR, APEX, company_id("Tobias")}
    assert state["connections"]["apex"]["status"] == "offline"
    assert state["tokens"] == sim.tokens
    assert error_code(bad) == (400, "invalid_request")
    assert cleared.json() == {"faults": []}
    assert moved.json()["now"] == "2025-06-02T13:00:00.000Z"
    assert (checked_at["status"], checked_at["checkedAt"]) == ("online", "2025-06-02T13:00:00.000Z")
    assert requests.get(base + "/stats", timeout=5).json()["by_status"] == {"502": 1, "200": 1}


def test_removing_an_asset_over_http_takes_it_out_of_the_api(simulator):
    asset = components("vibration", "Jaguar")[0]["id"]
    params = window(SIM_NOW, days=1)
    assert get(simulator, f"/assets/{asset}/vibration", params=params).status_code == 200

    removed = requests.delete(f"{simulator.base_url}/_sim/assets/{asset}", timeout=5)
    again = requests.delete(f"{simulator.base_url}/_sim/assets/{asset}", timeout=5)

    assert removed.status_code == 200
    assert again.status_code == 404
    assert error_code(get(simulator, f"/assets/{asset}/vibration", params=params)) == (
        404,
        "not_found",
    )
    listed = get(simulator, f"/companies/{JAGUAR}/assets").json()
    assert listed["total"] == 8
    assert asset not in {a["id"] for a in listed["data"]}


def test_the_rate_limit_is_per_token_with_a_burst(simulator_factory):
    sim = simulator_factory(SimConfig(days=1), rate_limit=0.05, burst=2)

    jaguar = [get(sim, "/companies", "jaguar") for _ in range(3)]
    apex = get(sim, "/companies", "apex")

    assert [r.status_code for r in jaguar[:2]] == [200, 200]
    assert error_code(jaguar[2]) == (429, "rate_limited")
    assert int(jaguar[2].headers["Retry-After"]) >= 1
    assert apex.status_code == 200
