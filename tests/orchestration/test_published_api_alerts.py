"""Against the published API there is no `/connection` to ask: a revoked token shows
only as a 401 on data requests, and the Dagster layer treats it as `invalid_token`."""

import json

import pytest

from tests.orchestration.conftest import CONNECTION, TOKEN, make_stack

SYNC_FAILED_ALERT = "tractian_elt.sync.failed"
RESTORED_ALERT = "tractian_elt.connection.restored"


@pytest.fixture
def public_stack(simulator_factory, tmp_path, monkeypatch, endpoint):
    from simulator import SimConfig

    sim = simulator_factory(SimConfig(days=2), rate_limit=None, profile="public")
    jaguar = sim.world.tokens[sim.tokens[TOKEN]].company_ids[0]
    monkeypatch.setenv(f"SOURCES__TRACTIAN__CONNECTIONS__{CONNECTION.upper()}__COMPANIES", jaguar)
    yield from make_stack(sim, tmp_path, monkeypatch, endpoint)


def test_given_revoked_token_on_the_published_api_then_one_invalid_token_alert_and_recovery(
    public_stack,
):
    stack = public_stack
    assert stack.run("catalog_sync", CONNECTION).success  # the configured company syncs
    cursor = stack.tick("run_failure_alerts").cursor
    stack.sim.set_fault("invalid_token", token=TOKEN)

    failed = stack.run("catalog_sync", CONNECTION, raise_on_error=False)
    stack.tick("run_failure_alerts", cursor)
    health = stack.tick("connection_health")

    assert not failed.success
    assert stack.sim.stats()["by_status"].get("401", 0) >= 1
    [(kind, data)] = stack.alerts()  # the run and the probe saw one transition: one alert
    assert (kind, data["connection"], data["reason"]) == (
        SYNC_FAILED_ALERT,
        CONNECTION,
        "invalid_token",
    )
    assert "Tractian support" in data["message"]
    assert stack.sim.tokens[TOKEN] not in json.dumps(data)
    assert json.loads(health.cursor) == {CONNECTION: "invalid_token"}

    stack.sim.clear_faults("invalid_token")
    recovered = stack.tick("connection_health")

    assert [kind for kind, _ in stack.alerts()] == [SYNC_FAILED_ALERT, RESTORED_ALERT]
    assert sorted(r.job_name for r in recovered.run_requests) == ["catalog_sync", "telemetry_sync"]


def test_given_no_companies_on_the_published_api_then_misconfigured_not_a_token_alert(
    simulator_factory, tmp_path, monkeypatch, endpoint
):
    from simulator import SimConfig

    sim = simulator_factory(SimConfig(days=2), rate_limit=None, profile="public")
    for stack in make_stack(sim, tmp_path, monkeypatch, endpoint):  # no COMPANIES setting
        health = stack.tick("connection_health")

        assert json.loads(health.cursor) == {CONNECTION: "misconfigured"}
        [(kind, data)] = stack.alerts()
        assert (kind, data["status"]) == (SYNC_FAILED_ALERT, "misconfigured")
        assert "SOURCES__TRACTIAN__CONNECTIONS__PLANT__COMPANIES" in data["message"]
        assert sim.stats()["requests"] == 0  # no data request was sent
