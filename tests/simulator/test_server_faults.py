"""Each fault profile over real HTTP (integration profile; the public one is checked in
test_server_public.py). Controls, stats and the rate limiter: test_server_controls.py."""

import json
import re
import socket
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import pytest
import requests

from simulator import SimConfig, Simulator
from tests.conftest import SIM_NOW
from tests.simulator.server_helpers import (
    company_id,
    components,
    demo_dump,
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


def test_server_errors_burst_then_recovery(sim):
    sim.set_fault("server_errors", count=2, statuses=[503])

    answers = [get(sim, "/companies") for _ in range(3)]

    assert [error_code(r) for r in answers[:2]] == [(503, "service_unavailable")] * 2
    assert answers[2].status_code == 200
    assert sim.faults()[0]["affected"] == 2


def test_server_errors_at_a_rate_hit_the_same_requests_on_every_run(sim):
    def run():
        sim.set_fault("server_errors", rate=0.3)
        return [get(sim, "/companies").status_code for _ in range(40)]

    first, second = run(), run()

    assert first == second
    assert 0 < sum(s != 200 for s in first) < 40
    assert {s for s in first if s != 200} <= {500, 502, 503, 504}


def test_faults_leave_health_and_controls_alone(sim):
    sim.set_fault("server_errors", rate=1.0)

    assert get(sim, "/health", token=None).status_code == 200
    assert requests.get(sim.base_url + "/_sim/state", timeout=5).status_code == 200
    assert get(sim, "/companies").status_code >= 500
    assert sim.stats()["requests"] == 1


@pytest.mark.parametrize("route", ["demand", "cost", "consumption", "energy"])
def test_faults_can_target_each_energy_route_kind(sim, route):
    asset = components("energy", "Jaguar")[0]["id"]
    paths = {
        "demand": "energy/demand",
        "cost": "energy/cost",
        "consumption": "energy/consumption",
        "energy": "energy/reactive-power",
    }
    sim.set_fault("server_errors", route=route, rate=1.0)
    params = window(SIM_NOW, days=1)

    answers = {
        kind: get(sim, f"/assets/{asset}/{path}", params=params) for kind, path in paths.items()
    }

    assert {k for k, r in answers.items() if r.status_code >= 500} == {route}
    assert sim.stats()["by_route"] == dict.fromkeys(paths, 1)


def test_a_fault_limited_to_a_route_spares_the_others(sim):
    asset = components("vibration", "Jaguar")[0]["id"]
    sim.set_fault("server_errors", route="vibration", count=1)

    companies = get(sim, "/companies")
    vibration = get(sim, f"/assets/{asset}/vibration", params=window(SIM_NOW, days=1))

    assert companies.status_code == 200
    assert vibration.status_code >= 500


def test_a_fault_limited_to_a_company_spares_the_others(sim):
    jaguar_asset = components("vibration", "Jaguar")[0]["id"]
    apex_asset = components("vibration", "Apex")[0]["id"]
    sim.set_fault("server_errors", company=JAGUAR, rate=1.0)

    answers = {
        "jaguar locations": get(sim, f"/companies/{JAGUAR}/locations"),
        "jaguar vibration": get(
            sim, f"/assets/{jaguar_asset}/vibration", params=window(SIM_NOW, days=1)
        ),
        "apex locations": get(sim, f"/companies/{APEX}/locations"),
        "apex vibration": get(
            sim, f"/assets/{apex_asset}/vibration", params=window(SIM_NOW, days=1)
        ),
        "companies": get(sim, "/companies"),  # about no company: spared
    }

    assert {k: r.status_code >= 500 for k, r in answers.items()} == {
        "jaguar locations": True,
        "jaguar vibration": True,
        "apex locations": False,
        "apex vibration": False,
        "companies": False,
    }
    with pytest.raises(ValueError, match="unknown company"):
        sim.set_fault("server_errors", company="nope")


def test_malformed_fault_drops_a_required_field(sim):
    asset = components("vibration", "Jaguar")[0]["id"]
    sim.set_fault("malformed", count=2)

    locations = get(sim, f"/companies/{JAGUAR}/locations").json()
    vibration = get(sim, f"/assets/{asset}/vibration", params=window(SIM_NOW, days=1)).json()
    intact = get(sim, f"/companies/{JAGUAR}/locations").json()

    assert "id" not in locations["data"][0]
    assert all("id" in record for record in locations["data"][1:])
    assert "sampledAt" not in vibration
    assert "vel" in vibration
    assert all("id" in record for record in intact["data"])


def test_resets_abort_the_connection_without_an_answer(sim):
    sim.set_fault("resets", count=1)

    with pytest.raises(requests.ConnectionError):
        get(sim, "/companies")
    assert get(sim, "/companies").status_code == 200
    assert sim.stats()["by_status"] == {"reset": 1, "200": 1}


def _raw_get(sim, path):
    """Status line headers and body bytes of one GET, read until the server closes."""
    host, port = sim.base_url.removeprefix("http://").split(":")
    request = (
        f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {sim.tokens['all']}\r\n"
        "Connection: close\r\n\r\n"
    )
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(request.encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return lines[0], {k.lower(): v for k, v in headers.items()}, body


def test_truncated_sends_part_of_a_body_announced_whole(sim):
    sim.set_fault("truncated", count=2)

    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        get(sim, f"/companies/{JAGUAR}/assets")
    status, headers, body = _raw_get(sim, f"/companies/{JAGUAR}/assets")

    assert status.startswith("HTTP/1.1 200")
    assert 0 < len(body) < int(headers["content-length"])
    with pytest.raises(json.JSONDecodeError):
        json.loads(body)
    assert get(sim, f"/companies/{JAGUAR}/assets").json()["total"] == 9


def test_truncated_without_full_length_is_a_complete_answer_of_invalid_json(sim):
    sim.set_fault("truncated", full_length=False, fraction=0.3)

    response = get(sim, f"/companies/{JAGUAR}/assets")

    assert response.status_code == 200
    assert int(response.headers["Content-Length"]) == len(response.content)
    with pytest.raises(requests.JSONDecodeError):
        response.json()


def test_slow_answers_outlast_a_client_read_timeout(sim):
    sim.set_fault("slow", seconds=1.5, count=1)

    with pytest.raises(requests.exceptions.ReadTimeout):
        get(sim, "/companies", timeout=0.3)
    assert get(sim, "/companies", timeout=5).status_code == 200


def test_shifting_pages_make_a_pager_see_repeats_or_skips(sim):
    path = f"/companies/{APEX}/locations"

    def collect():
        sim.set_fault("shifting_pages", k=5)
        ids = []
        for page in range(1, 40):
            body = get(sim, path, params={"page": page, "limit": 100}).json()
            ids += [r["id"] for r in body["data"]]
            if not body["hasNextPage"]:
                break
        return ids

    first, second = collect(), collect()

    true_ids = {r["id"] for r in demo_dump()[APEX]["locations"]}
    repeats = len(first) - len(set(first))
    skips = len(true_ids - set(first))
    assert len(true_ids) == 3792
    assert repeats + skips > 0
    assert first == second


def test_rate_limited_fault_answers_429_with_retry_after(sim):
    sim.set_fault("rate_limited", retry_after=2, count=1)

    limited = get(sim, "/companies")

    assert error_code(limited) == (429, "rate_limited")
    assert limited.headers["Retry-After"] == "2"
    assert get(sim, "/companies").status_code == 200


def test_rate_limited_fault_can_send_retry_after_as_an_http_date(sim):
    """RFC 9110's IMF-fixdate, `retry_after` seconds after the real clock (which is what a
    client compares it with), rounded up to the second."""
    sim.set_fault("rate_limited", retry_after=3, http_date=True)

    before = datetime.now(UTC)
    limited = get(sim, "/companies")
    after = datetime.now(UTC)

    assert error_code(limited) == (429, "rate_limited")
    value = limited.headers["Retry-After"]
    assert re.fullmatch(r"[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT", value)
    when = parsedate_to_datetime(value)
    assert before + timedelta(seconds=3) <= when <= after + timedelta(seconds=4)
    assert get(sim, "/companies").status_code == 200


def test_reauthorization_from_request_n_on_for_one_token(sim):
    sim.set_fault("reauthorization_required", token="tobias", after=2)

    tobias = [get(sim, "/companies", "tobias") for _ in range(4)]
    connection = get(sim, "/connection", "tobias").json()
    jaguar = get(sim, "/companies", "jaguar")
    sim.clear_faults("reauthorization_required")
    reconnected = get(sim, "/companies", "tobias")

    assert [r.status_code for r in tobias[:2]] == [200, 200]
    assert [error_code(r) for r in tobias[2:]] == [(401, "reauthorization_required")] * 2
    assert (connection["status"], connection["reauthorizationRequired"]) == (
        "reauthorization_required",
        True,
    )
    assert jaguar.status_code == 200
    assert get(sim, "/connection", "jaguar").json()["status"] == "online"
    assert reconnected.status_code == 200
    assert get(sim, "/connection", "tobias").json()["status"] == "online"


def test_reauthorization_without_after_shows_at_once(sim):
    sim.set_fault("reauthorization_required")

    assert get(sim, "/connection", "apex").json()["status"] == "reauthorization_required"
    assert error_code(get(sim, "/companies", "apex")) == (401, "reauthorization_required")


def test_invalid_token_fault_rejects_every_token(sim):
    sim.set_fault("invalid_token")

    answers = [
        get(sim, path, token) for path in ("/companies", "/connection") for token in sim.tokens
    ]
    sim.clear_faults()

    assert {error_code(r) for r in answers} == {(401, "invalid_token")}
    assert get(sim, "/companies").status_code == 200


def test_an_offline_connection_reports_offline_and_still_serves(sim):
    sim.set_fault("offline", token="jaguar")

    connection = get(sim, "/connection", "jaguar").json()

    assert (connection["status"], connection["reauthorizationRequired"]) == ("offline", False)
    assert get(sim, "/connection", "all").json()["status"] == "online"
    assert get(sim, f"/companies/{JAGUAR}/locations", "jaguar").status_code == 200
