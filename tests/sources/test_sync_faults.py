"""The connector under every fault the simulator injects: the warehouse still ends exact,
against the published API alone and with the integration layer."""

from datetime import timedelta

import pytest

from simulator import SimConfig, Simulator
from sources.pipeline import ConnectionNeedsAttention, SyncFailed, sync
from tests.sources.conftest import (
    PROFILES,
    assert_matches_truth,
    connection_for,
    fast_client,
    published_clock,
    raw_rows,
    token_companies,
    utc,
)

NOW = utc(2026, 11, 20, 12, 0)
START = NOW - timedelta(days=2)


def company_ids(sim, token_name):
    return token_companies(sim, token_name)


def sync_with(sim, db, token_name="jaguar", name="plant", **kwargs):
    """Jaguar is the smallest company: 5 components, 9 assets, paged 3 at a time here."""
    connection = connection_for(sim, token_name, name)
    client = fast_client(connection, read_timeout_s=kwargs.pop("read_timeout_s", 5.0), page_limit=3)
    kwargs = published_clock(sim) | kwargs
    return sync(connection, db, start=START, client=client, show_progress=False, **kwargs)


@pytest.fixture(params=PROFILES)
def sim(request):
    with Simulator(SimConfig(seed=5, days=2), now=NOW, profile=request.param) as simulator:
        yield simulator


@pytest.fixture
def integration_sim():
    """Reauthorization is the integration layer's code: the published API has only 401."""
    with Simulator(SimConfig(seed=5, days=2), now=NOW, profile="integration") as simulator:
        yield simulator


# Transport faults meet the same client whichever API serves them: against the published
# one. Shifting pages also against the integration layer, whose lists differ.
TRANSPORT_FAULTS = [
    ("server_errors", {"count": 6, "rate": 0.2}),
    ("resets", {"count": 5, "rate": 0.2}),
    ("truncated", {"count": 5, "rate": 0.2}),
    ("truncated", {"count": 3, "rate": 0.2, "full_length": False}),
    ("slow", {"count": 2, "rate": 0.3, "seconds": 1.5}),
    ("rate_limited", {"count": 3, "rate": 0.3, "retry_after": 1}),
    ("rate_limited", {"count": 2, "rate": 0.3, "retry_after": 1, "http_date": True}),
]
PAGING_FAULTS = [
    ("shifting_pages", {"k": 2}),
    ("shifting_pages", {"k": 2, "route": "assets"}),  # the published list without total
]


@pytest.mark.parametrize(
    ("sim", "fault", "params"),
    [("public", *case) for case in TRANSPORT_FAULTS]
    + [(profile, *case) for profile in PROFILES for case in PAGING_FAULTS],
    indirect=["sim"],
)
def test_given_fault_when_sync_then_warehouse_equals_ground_truth(sim, tmp_path, fault, params):
    sim.set_fault(fault, **params)
    db = tmp_path / "w.duckdb"

    sync_with(sim, db, read_timeout_s=1.0)

    assert any(f["affected"] > 0 for f in sim.faults()), f"{fault} never fired"
    assert_matches_truth(db, sim.ground_truth(company_ids(sim, "jaguar"), START), "plant")


def test_given_persistent_server_errors_when_sync_then_exit_1_keeps_what_loaded(sim, tmp_path):
    db = tmp_path / "w.duckdb"
    sync_with(sim, db)
    loaded = raw_rows(db, "vibration_samples").num_rows
    sim.advance(timedelta(hours=6))
    sim.set_fault("server_errors", route="energy", rate=1.0)

    with pytest.raises(SyncFailed) as failed:
        sync_with(sim, db)

    assert "energy" in str(failed.value)
    assert raw_rows(db, "vibration_samples").num_rows > loaded  # the rest still loaded
    sim.clear_faults()
    sync_with(sim, db)
    assert_matches_truth(db, sim.ground_truth(company_ids(sim, "jaguar"), START), "plant")


def test_given_reauthorization_mid_sync_then_stops_keeps_state_and_resumes(
    integration_sim, tmp_path
):
    sim = integration_sim
    db = tmp_path / "w.duckdb"
    sync_with(sim, db, "tobias")
    committed = {t: raw_rows(db, t).num_rows for t in ("vibration_samples", "energy_samples")}
    sim.advance(timedelta(hours=12))
    sim.set_fault("reauthorization_required", token="tobias", after=40)
    served_before = sim.stats()["requests"]

    with pytest.raises(ConnectionNeedsAttention) as stopped:
        sync_with(sim, db, "tobias")

    message = str(stopped.value)
    assert "'plant'" in message
    assert "reauthorization_required" in message
    assert "reauthorize" in message
    # Stopped at once: no retry storm after the first 401.
    assert sim.stats()["requests"] - served_before < 40 + 2 * 8 + 5
    assert {t: raw_rows(db, t).num_rows for t in committed} == committed
    sim.clear_faults()
    sync_with(sim, db, "tobias")
    assert_matches_truth(db, sim.ground_truth(company_ids(sim, "tobias"), START), "plant")


def test_given_revoked_token_mid_sync_then_stops_at_once_keeps_state_and_resumes(sim, tmp_path):
    """On the published API a revoked token is a plain 401: `invalid_token`, no retries."""
    db = tmp_path / "w.duckdb"
    sync_with(sim, db, "tobias")
    committed = {t: raw_rows(db, t).num_rows for t in ("vibration_samples", "energy_samples")}
    sim.advance(timedelta(hours=12))
    sim.set_fault("invalid_token", token="tobias")
    served_before = sim.stats()["requests"]
    connection = connection_for(sim, "tobias", "plant")

    with pytest.raises(ConnectionNeedsAttention) as stopped:
        sync_with(sim, db, "tobias")

    assert stopped.value.cause.code == "invalid_token"
    message = str(stopped.value)
    assert "'plant'" in message
    assert "Tractian support" in message
    assert connection.token not in message
    assert sim.stats()["by_status"].get("401", 0) >= 1  # the 401 really was served
    assert sim.stats()["requests"] - served_before <= 2 * 8  # stopped at once, no retries
    assert {t: raw_rows(db, t).num_rows for t in committed} == committed
    sim.clear_faults()
    sync_with(sim, db, "tobias")
    assert_matches_truth(db, sim.ground_truth(company_ids(sim, "tobias"), START), "plant")


def test_two_connections_stay_isolated(integration_sim, tmp_path):
    sim = integration_sim
    db = tmp_path / "w.duckdb"
    sync_with(sim, db, token_name="tobias", name="north")
    sync_with(sim, db, token_name="jaguar", name="south")
    north_before = raw_rows(db, "vibration_samples", "north")
    sim.advance(timedelta(hours=6))
    sim.set_fault("reauthorization_required", token="tobias")

    with pytest.raises(ConnectionNeedsAttention):
        sync_with(sim, db, token_name="tobias", name="north")
    sync_with(sim, db, token_name="jaguar", name="south")

    assert raw_rows(db, "vibration_samples", "north").equals(north_before)
    assert_matches_truth(db, sim.ground_truth(company_ids(sim, "jaguar"), START), "south")
    tobias_truth = sim.ground_truth(company_ids(sim, "tobias"), START, as_of=NOW)
    assert_matches_truth(db, tobias_truth, "north")
