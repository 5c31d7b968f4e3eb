"""The webhook-inbox sensor fed by the real chain: the simulator posts signed events to
the real receiver, which stores them in the inbox the sensor reads."""

import contextlib
import sqlite3
import time
import uuid

import pytest
import requests

from tests.orchestration.conftest import CONNECTION, TOKEN, make_stack
from tests.webhooks.conftest import event_body, new_secret, running_receiver, signed_request

REAUTH_ALERT = "tractian_elt.connection.reauthorization_required"
RESTORED_ALERT = "tractian_elt.connection.restored"


@pytest.fixture
def wired(simulator_factory, tmp_path, monkeypatch, endpoint):
    from simulator import SimConfig

    secret = new_secret()
    inbox = tmp_path / "warehouse" / "webhooks_inbox.sqlite"
    with running_receiver(inbox, [secret]) as url:
        sim = simulator_factory(
            SimConfig(days=2), rate_limit=None, webhook_url=url, webhook_secret=secret
        )
        for stack in make_stack(sim, tmp_path, monkeypatch, endpoint):
            assert stack.resources["webhook_inbox"].path == str(inbox)
            yield stack, url, secret


def pending(stack):
    path = stack.resources["webhook_inbox"].path
    with contextlib.closing(sqlite3.connect(path)) as conn:
        rows = conn.execute("SELECT event_type FROM inbox_events WHERE processed_at IS NULL")
        return [row[0] for row in rows.fetchall()]


def wait_for_pending(stack, count, timeout_s=15.0):
    deadline = time.monotonic() + timeout_s
    while len(pending(stack)) < count:
        assert time.monotonic() < deadline, f"inbox holds {pending(stack)}, wanted {count}"
        time.sleep(0.05)
    return pending(stack)


def jaguar_connection_id(stack):
    return stack.sim.world.tokens[stack.sim.tokens[TOKEN]].connection_id


def test_given_platform_events_when_inbox_sensor_ticks_then_status_path_alerts_once_and_catches_up(
    wired,
):
    stack, _, _ = wired
    assert stack.tick("webhook_inbox").run_requests == []

    stack.sim.set_fault("reauthorization_required", token=TOKEN)
    assert wait_for_pending(stack, 1) == ["connection.reauthorization_required"]
    first = stack.tick("webhook_inbox")
    stack.tick("connection_health")

    assert [kind for kind, _ in stack.alerts()] == [REAUTH_ALERT]
    assert stack.alerts()[0][1]["connection"] == CONNECTION

    stack.sim.clear_faults("reauthorization_required")
    assert wait_for_pending(stack, 2)[-1] == "connection.status_changed"
    recovered = stack.tick("webhook_inbox", first.cursor)

    assert [kind for kind, _ in stack.alerts()] == [REAUTH_ALERT, RESTORED_ALERT]
    assert sorted(r.job_name for r in recovered.run_requests) == ["catalog_sync", "telemetry_sync"]
    stack.tick("webhook_inbox", recovered.cursor)
    assert pending(stack) == [], "handled events are marked processed on the next tick"


def test_given_sync_completed_event_when_inbox_sensor_ticks_then_that_connection_syncs(wired):
    stack, url, secret = wired
    body = event_body("sync.completed", connectionId=jaguar_connection_id(stack))
    webhook_id = f"msg_{uuid.uuid4().hex}"
    response = requests.post(url, data=body, headers=signed_request(secret, body, webhook_id))
    assert response.status_code == 200

    result = stack.tick("webhook_inbox")

    requested = {r.job_name: r for r in result.run_requests}
    assert set(requested) == {"catalog_sync", "telemetry_sync"}
    telemetry = requested["telemetry_sync"]
    assert telemetry.run_key == f"webhook:{webhook_id}:telemetry"
    assert telemetry.tags["tractian/connection"] == CONNECTION
    run = stack.run("telemetry_sync", telemetry.partition_key, tags=telemetry.tags)
    assert run.success


def test_given_event_for_unknown_connection_when_sensor_ticks_then_it_is_set_aside(wired):
    stack, url, secret = wired
    body = event_body("sync.completed", connectionId="not-ours")
    requests.post(url, data=body, headers=signed_request(secret, body))

    result = stack.tick("webhook_inbox")

    assert result.run_requests == []
    assert pending(stack) == []
    path = stack.resources["webhook_inbox"].path
    with contextlib.closing(sqlite3.connect(path)) as conn:
        [(error,)] = conn.execute("SELECT error FROM inbox_events").fetchall()
    assert "not-ours" in error
