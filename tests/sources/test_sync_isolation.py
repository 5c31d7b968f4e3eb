"""One endpoint, company or stream that keeps failing never sinks a sync: everything else
loads equal to ground truth, the sync says what failed, and the next healthy sync fills
the gap from the failed part's old state."""

from dataclasses import replace
from datetime import timedelta

import pytest

from simulator import SimConfig, Simulator
from sources import raw_schema as rs
from sources.pipeline import SyncFailed, sync
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
START = NOW - timedelta(hours=12)  # every stream has samples; what fails is the point
TELEMETRY = {t.name for t in rs.RAW_TABLES.values() if t.telemetry}
PERSISTENT = {"rate": 1.0, "count": 10**6}

# route kind failing -> the raw tables it feeds (an asset list that cannot be read hides
# the components, so their sensor types and telemetry wait too)
FEEDS = {
    "locations": {"locations"},
    "assets": {"assets", "asset_sensor_types", *TELEMETRY},
    "workorders": {"work_orders"},
    "workorder_priorities": {"work_order_priorities"},
    "workorder_categories": {"work_order_categories"},
    "events": {"events"},
    "insights": {"insights"},
    "insight": {"insights"},
    "rotation": {"rpm_samples"},
    "demand": {"energy_demand"},
}


@pytest.fixture(params=PROFILES)
def sim(request):
    with Simulator(SimConfig(seed=5, days=2), now=NOW, profile=request.param) as simulator:
        yield simulator


# Each route fails against the published API, the one a customer's token meets. Behind an
# integration layer the assets carry their sensor types (no probes), which changes what a
# failing asset list holds back, so that route fails there too.
ROUTE_CASES = pytest.mark.parametrize(
    ("sim", "route"),
    [("public", route) for route in sorted(FEEDS)] + [("integration", "assets")],
    indirect=["sim"],
)


def sync_tobias(sim, db):
    """Tobias: the company with every kind of record and both kinds of sensor."""
    connection = connection_for(sim, "tobias")
    client = fast_client(connection, page_limit=50)
    kwargs = published_clock(sim)
    return sync(connection, db, start=START, client=client, show_progress=False, **kwargs)


def truth(sim):
    return sim.ground_truth(token_companies(sim, "tobias"), START)


@ROUTE_CASES
def test_given_one_endpoint_failing_for_good_then_the_rest_loads_and_the_next_sync_fills_it(
    sim, tmp_path, route
):
    db = tmp_path / "w.duckdb"
    sim.set_fault("server_errors", route=route, **PERSISTENT)

    with pytest.raises(SyncFailed) as failed:
        sync_tobias(sim, db)

    expected = truth(sim)
    assert sim.stats()["by_status"].get("500", 0) + sim.stats()["by_status"].get("503", 0) > 0
    assert "gave up" in str(failed.value)  # the cause: retries exhausted
    healthy = {name: table for name, table in expected.items() if name not in FEEDS[route]}
    assert_matches_truth(db, healthy, "plant")
    for name in FEEDS[route]:
        assert raw_rows(db, name).num_rows < max(expected[name].num_rows, 1), name

    sim.clear_faults()
    sync_tobias(sim, db)

    assert_matches_truth(db, truth(sim), "plant")


def test_given_one_company_failing_for_good_then_the_others_load_and_the_next_sync_fills_it(
    sim, tmp_path
):
    db = tmp_path / "w.duckdb"
    jaguar, tobias = token_companies(sim, "jaguar")[0], token_companies(sim, "tobias")[0]
    connection = replace(connection_for(sim, "all"), company_ids=(jaguar, tobias))
    client = fast_client(connection, page_limit=50)

    def sync_both():
        kwargs = published_clock(sim)
        return sync(connection, db, start=START, client=client, show_progress=False, **kwargs)

    sim.set_fault("server_errors", company=jaguar, **PERSISTENT)
    with pytest.raises(SyncFailed) as failed:
        sync_both()

    assert jaguar in str(failed.value)
    assert tobias not in str(failed.value)
    expected = sim.ground_truth([tobias], START)
    loaded_companies = {
        name: set(raw_rows(db, name).column("company_id").to_pylist())
        for name in expected
        if name != "companies"
    }
    assert all(companies <= {tobias} for companies in loaded_companies.values())
    without_companies = {k: v for k, v in expected.items() if k != "companies"}
    assert_matches_truth(db, without_companies, "plant")

    sim.clear_faults()
    sync_both()

    assert_matches_truth(db, sim.ground_truth([jaguar, tobias], START), "plant")


def test_given_the_optional_companies_endpoint_failing_then_configured_companies_still_sync(
    tmp_path,
):
    """Behind an integration layer, /companies only names the configured companies."""
    with Simulator(SimConfig(seed=5, days=2), now=NOW, profile="integration") as sim:
        db = tmp_path / "w.duckdb"
        tobias = token_companies(sim, "tobias")[0]
        connection = replace(connection_for(sim, "tobias"), company_ids=(tobias,))
        client = fast_client(connection, page_limit=50)
        sync(connection, db, start=START, client=client, show_progress=False)
        sim.advance(timedelta(hours=6))
        sim.set_fault("server_errors", route="companies", **PERSISTENT)

        with pytest.raises(SyncFailed) as failed:
            sync(connection, db, start=START, client=client, show_progress=False)

        assert "optional /companies" in str(failed.value)
        assert_matches_truth(db, truth(sim), "plant")  # company names kept from before


@pytest.mark.parametrize(
    ("sim", "route"), [("public", r) for r in ("assets", "events", "rotation")], indirect=["sim"]
)
def test_given_a_body_missing_a_required_field_then_that_part_fails_and_the_rest_loads(
    sim, tmp_path, route
):
    db = tmp_path / "w.duckdb"
    sim.set_fault("malformed", route=route, **PERSISTENT)

    with pytest.raises(SyncFailed) as failed:
        sync_tobias(sim, db)

    assert "unexpected body" in str(failed.value)
    assert any(f["affected"] > 0 for f in sim.faults())
    healthy = {name: table for name, table in truth(sim).items() if name not in FEEDS[route]}
    assert_matches_truth(db, healthy, "plant")

    sim.clear_faults()
    sync_tobias(sim, db)

    assert_matches_truth(db, truth(sim), "plant")


def test_given_a_configured_company_the_token_may_not_read_then_it_fails_and_the_rest_loads(
    tmp_path,
):
    """A 4xx fails its part at once (no retries), with the API's reason: here a company
    listed by mistake, which the published API answers with 403."""
    with Simulator(SimConfig(seed=5, days=2), now=NOW, profile="public") as sim:
        db = tmp_path / "w.duckdb"
        jaguar, tobias = token_companies(sim, "jaguar")[0], token_companies(sim, "tobias")[0]
        connection = replace(connection_for(sim, "jaguar"), company_ids=(jaguar, tobias))
        client = fast_client(connection, page_limit=50)

        with pytest.raises(SyncFailed) as failed:
            sync(
                connection,
                db,
                start=START,
                client=client,
                show_progress=False,
                **published_clock(sim),
            )

        assert tobias in str(failed.value)
        assert jaguar not in str(failed.value)
        assert "HTTP 403" in str(failed.value)
        assert client.stats.retries == 0
        expected = sim.ground_truth([jaguar], START)
        assert_matches_truth(db, {k: v for k, v in expected.items() if k != "companies"}, "plant")
