"""Webhooks: state changes reach a real receiver, Standard Webhooks-signed, retried."""

import base64
import json
import os
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from simulator import SimConfig, Simulator
from tests.simulator.server_helpers import demo_dump, get

SECRET = "whsec_" + base64.b64encode(os.urandom(24)).decode()
FAST_RETRIES = (0.05, 0.05, 0.05)


class Receiver:
    """A webhook endpoint on 127.0.0.1 recording each delivery; fails the first `failures`."""

    def __init__(self, failures: int = 0) -> None:
        self.deliveries: list[tuple[dict[str, str], bytes]] = []
        self.failures = failures
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.deliveries.append(({k.lower(): v for k, v in self.headers.items()}, body))
                failing = len(receiver.deliveries) <= receiver.failures
                self.send_response(500 if failing else 204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def wait_for(self, count: int, timeout: float = 10.0) -> list[tuple[dict[str, str], bytes]]:
        deadline = time.monotonic() + timeout
        while len(self.deliveries) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return list(self.deliveries)

    def events(self, count: int) -> list[dict]:
        """The first `count` deliveries, each verified with the standardwebhooks library."""
        verifier = Webhook(SECRET)
        delivered = self.wait_for(count)
        assert len(delivered) >= count, f"{len(delivered)} deliveries, expected {count}"
        return [verifier.verify(body, headers) for headers, body in delivered[:count]]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    endpoint = Receiver()
    yield endpoint
    endpoint.stop()


@pytest.fixture
def sim(simulator_factory, receiver):
    return simulator_factory(
        SimConfig(days=2),
        webhook_url=receiver.url,
        webhook_secret=SECRET,
        webhook_retry_delays=FAST_RETRIES,
    )


def _connection_id(sim, token):
    return get(sim, "/connection", token).json()["connectionId"]


def test_reauthorization_then_reconnection_are_announced_signed(sim, receiver):
    tobias = _connection_id(sim, "tobias")

    sim.set_fault("reauthorization_required", token="tobias")
    sim.clear_faults()

    required, changed = receiver.events(2)
    assert required["type"] == "connection.reauthorization_required"
    assert required["data"]["connectionId"] == tobias
    assert changed["type"] == "connection.status_changed"
    assert changed["data"] == {**changed["data"], "connectionId": tobias, "status": "online"}
    assert set(required) == {"type", "timestamp", "data"}
    assert required["timestamp"] == "2025-06-02T12:00:00.000Z"


def test_reauthorization_from_request_n_is_announced_when_it_starts(sim, receiver):
    sim.set_fault("reauthorization_required", token="jaguar", after=1)
    assert receiver.wait_for(1, timeout=0.3) == []

    get(sim, "/companies", "jaguar")
    get(sim, "/companies", "jaguar")

    (event,) = receiver.events(1)
    assert event["type"] == "connection.reauthorization_required"
    assert event["data"]["connectionId"] == _connection_id(sim, "jaguar")


def test_offline_and_back_online_are_status_changes(sim, receiver):
    sim.set_fault("offline", token="apex")
    sim.clear_faults("offline")

    offline, online = receiver.events(2)
    apex = _connection_id(sim, "apex")
    assert (offline["type"], offline["data"]["status"]) == ("connection.status_changed", "offline")
    assert (online["data"]["status"], online["data"]["connectionId"]) == ("online", apex)


def test_a_server_error_burst_raises_system_error_for_every_connection(sim, receiver):
    sim.set_fault("server_errors", count=3)

    events = receiver.events(4)
    assert {e["type"] for e in events} == {"system.error"}
    assert {e["data"]["connectionId"] for e in events} == {
        _connection_id(sim, token) for token in ("all", "jaguar", "tobias", "apex")
    }


def test_passing_a_gateway_reconnect_announces_sync_completed(sim, receiver):
    now = sim.clock.now_ms()
    reconnects = sim.world.gateway_reconnects(now, now + 3_600_000)
    assert reconnects, "the model should reconnect some gateway within an hour"
    gateways_of = {
        company["id"]: {a.get("gatewayId") for a in demo_dump()[company["id"]]["assets"]}
        for company in demo_dump()["companies"]
    }

    sim.advance(timedelta(hours=1))

    # Each reconnect reaches two connections: its company's own and `all`.
    events = receiver.events(2 * len(reconnects))
    assert {e["type"] for e in events} == {"sync.completed"}
    assert {e["data"]["gatewayId"] for e in events} == {g for g, _ in reconnects}
    for event in events:
        assert event["data"]["gatewayId"] in gateways_of[event["data"]["companyId"]]
    by_connection = {e["data"]["connectionId"] for e in events}
    assert _connection_id(sim, "all") in by_connection


def test_a_failed_delivery_is_retried_with_the_same_id_and_a_fresh_signature(simulator_factory):
    receiver = Receiver(failures=2)
    try:
        sim = simulator_factory(
            SimConfig(days=2),
            webhook_url=receiver.url,
            webhook_secret=SECRET,
            webhook_retry_delays=FAST_RETRIES,
        )
        sim.set_fault("offline", token="jaguar")

        deliveries = receiver.wait_for(3)
        verifier = Webhook(SECRET)
        payloads = [verifier.verify(body, headers) for headers, body in deliveries]
    finally:
        receiver.stop()
    assert len({headers["webhook-id"] for headers, _ in deliveries}) == 1
    assert payloads[0] == payloads[2]
    assert sim.state()["webhooks"]["delivered"] == 1


def test_a_tampered_body_fails_verification(sim, receiver):
    sim.set_fault("offline", token="jaguar")

    headers, body = receiver.wait_for(1)[0]
    tampered = body.replace(b"offline", b"online!")

    with pytest.raises(WebhookVerificationError):
        Webhook(SECRET).verify(tampered, headers)
    assert json.loads(body)["data"]["status"] == "offline"


def test_a_webhook_url_needs_the_secret_from_the_environment(monkeypatch):
    monkeypatch.delenv("TRACTIAN_SIMULATOR_WEBHOOK_SECRET", raising=False)

    with pytest.raises(ValueError, match="TRACTIAN_SIMULATOR_WEBHOOK_SECRET"):
        Simulator(SimConfig(days=1), webhook_url="http://127.0.0.1:9/hooks")

    monkeypatch.setenv("TRACTIAN_SIMULATOR_WEBHOOK_SECRET", "whsec_not base64!")
    with pytest.raises(ValueError, match="not a valid") as caught:
        Simulator(SimConfig(days=1), webhook_url="http://127.0.0.1:9/hooks")
    assert "not base64" not in str(caught.value)


def test_the_secret_is_never_in_the_state_report(sim):
    assert SECRET not in json.dumps(sim.state())


@pytest.fixture
def public_sim(simulator_factory, receiver):
    return simulator_factory(
        SimConfig(days=2),
        profile="public",
        webhook_url=receiver.url,
        webhook_secret=SECRET,
        webhook_retry_delays=FAST_RETRIES,
    )


def test_the_public_profile_sends_the_same_webhooks(public_sim, receiver):
    """Webhooks belong to the simulator, not to the API profile: a public simulator
    still announces a reauthorization its 401s do not name, and late data."""
    sim = public_sim
    jaguar = next(c["id"] for c in demo_dump()["companies"] if c["name"] == "Jaguar")
    sim.set_fault("reauthorization_required", token="jaguar", after=1)
    path = f"/companies/{jaguar}/locations"

    answers = [get(sim, path, "jaguar").status_code for _ in range(2)]
    (required,) = receiver.events(1)
    now = sim.clock.now_ms()
    reconnects = sim.world.gateway_reconnects(now, now + 3_600_000)
    sim.advance(timedelta(hours=1))
    synced = receiver.events(1 + 2 * len(reconnects))[1:]

    assert answers == [200, 401]
    assert required["type"] == "connection.reauthorization_required"
    connection = sim.state()["connections"]["jaguar"]
    assert required["data"]["connectionId"] == connection["connectionId"]
    assert connection["status"] == "reauthorization_required"
    assert reconnects
    assert {e["type"] for e in synced} == {"sync.completed"}
    assert {e["data"]["gatewayId"] for e in synced} == {g for g, _ in reconnects}
