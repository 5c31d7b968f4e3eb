"""The connector against the simulator over real HTTP: the warehouse equals ground truth,
against the published API alone and with the integration layer in front of it."""

from datetime import UTC, datetime, timedelta

import duckdb
import pyarrow.compute as pc
import pytest

from simulator import SimConfig, Simulator
from sources import raw_schema as rs
from sources.connections import Connection, ConnectionConfigError
from sources.pipeline import sync
from tests.sources.conftest import (
    FILE_TARGETS,
    PROFILES,
    SYNC_TARGETS,
    assert_matches_truth,
    connection_for,
    fast_client,
    published_clock,
    raw_rows,
    token_companies,
    utc,
)

NOW = utc(2026, 11, 20, 12, 0)
START = NOW - timedelta(days=14)  # the connector's default backfill


TELEMETRY_ROUTES = ("vibration", "rotation", "energy", "consumption", "demand", "cost")
# Streams per component: vibration + rotation; 5 energy quantities + consumption, demand, cost.
STREAMS = {"vibration": 2, "energy": 8}


@pytest.fixture(params=PROFILES)
def sim(request):
    with Simulator(SimConfig(seed=11, days=3), now=NOW, profile=request.param) as simulator:
        yield simulator


@pytest.fixture
def public_sim():
    """No rate limit: these tests count requests, and a 429's retry would count twice."""
    config = SimConfig(seed=11, days=3)
    with Simulator(config, now=NOW, profile="public", rate_limit=None) as simulator:
        yield simulator


@pytest.fixture
def db(tmp_path):
    return tmp_path / "warehouse" / "tractian.duckdb"


def run_sync(sim, db, token_name="all", name="plant", **kwargs):
    connection = connection_for(sim, token_name, name)
    client = fast_client(connection, page_limit=500)  # Apex has 14,709 assets
    kwargs = published_clock(sim) | kwargs
    return sync(connection, db, client=client, show_progress=False, **kwargs)


def company_ids(sim, token_name):
    return token_companies(sim, token_name)


def truth(sim, token_name="all"):
    return sim.ground_truth(token_companies(sim, token_name), START)


def telemetry_requests(sim):
    by_route = sim.stats()["by_route"]
    return sum(by_route.get(route, 0) for route in TELEMETRY_ROUTES)


@SYNC_TARGETS
def test_first_sync_loads_exactly_the_ground_truth(sim, warehouse):
    # Every company into the DuckDB file (Apex's 14,709 assets page through the API);
    # Tobias into the other backends, whose SQL does not depend on the API's size.
    token = "all" if warehouse.db_path is not None else "tobias"
    report = run_sync(sim, warehouse, token)

    assert report.failures == []
    assert_matches_truth(warehouse, truth(sim, token), "plant")
    assert raw_rows(warehouse, "vibration_samples").num_rows > 10_000


def test_a_new_warehouse_file_is_written_in_duckdb_1_5_s_format(public_sim, db):
    run_sync(public_sim, db, "jaguar")
    with duckdb.connect(str(db), read_only=True) as conn:
        tags = conn.execute(
            "SELECT tags FROM duckdb_databases() WHERE database_name = 'tractian'"
        ).fetchall()[0][0]
    # Checkpoints after deletes stay cheap as the tables grow (bench/ B7); readers get the
    # v1.0.0 read copy (tests/transforms/test_publish.py).
    assert tags["storage_version"].startswith("v1.5.0")


@SYNC_TARGETS
def test_second_sync_without_changes_adds_nothing_and_reads_only_its_windows(sim, warehouse):
    run_sync(sim, warehouse, "tobias")
    before = {name: raw_rows(warehouse, name).num_rows for name in rs.RAW_TABLES}
    sim.reset_stats()

    run_sync(sim, warehouse, "tobias")

    after = {name: raw_rows(warehouse, name).num_rows for name in rs.RAW_TABLES}
    assert after == before
    components = sim.world.components(company_ids(sim, "tobias"))
    # Every stream re-reads one window (committed end - 48 h lookback, up to now), and no
    # asset is probed again: what the first sync's probes found is in the state.
    expected_windows = sum(STREAMS[c.sensor_type] for c in components)
    assert telemetry_requests(sim) == expected_windows


def test_first_sync_against_the_published_api_probes_each_monitored_asset_once(public_sim, db):
    sim = public_sim
    components = sim.world.components(company_ids(sim, "tobias"))

    run_sync(sim, db, "tobias")

    # 14 days of backfill = 2 windows of 7 days per stream, plus the probes: a vibration
    # sensor answers the first probe (vibration), an energy meter the second.
    windows = 2 * sum(STREAMS[c.sensor_type] for c in components)
    probes = sum(1 if c.sensor_type == "vibration" else 2 for c in components)
    assert telemetry_requests(sim) == windows + probes
    kinds = raw_rows(db, "asset_sensor_types").to_pylist()
    assert {(k["asset_id"], k["sensor_type"], k["detected_by"]) for k in kinds} == {
        (c.id, c.sensor_type, "probe") for c in components
    }


def test_given_no_companies_configured_against_the_published_api_then_error_before_any_request(
    public_sim, db
):
    sim = public_sim
    connection = Connection("plant_a", sim.base_url, sim.tokens["all"])

    with pytest.raises(ConnectionConfigError) as refused:
        sync(connection, db, client=fast_client(connection), show_progress=False)

    message = str(refused.value)
    assert "sources.tractian.connections.plant_a.companies" in message
    assert "SOURCES__TRACTIAN__CONNECTIONS__PLANT_A__COMPANIES" in message
    assert sim.stats()["requests"] == 0  # no data request: only the 404s of absent endpoints
    assert not db.exists() or raw_rows(db, "assets").num_rows == 0


@FILE_TARGETS
def test_late_samples_arrive_after_their_gateway_reconnects(sim, warehouse):
    component, reconnect = _component_offline_at(sim, NOW, company_ids(sim, "tobias"))
    run_sync(sim, warehouse, "tobias")
    before = _samples_of(warehouse, component.id)

    sim.set_now(reconnect + timedelta(minutes=1))
    run_sync(sim, warehouse, "tobias")

    assert _samples_of(warehouse, component.id) > before
    assert_matches_truth(warehouse, truth(sim, "tobias"), "plant")


def _component_offline_at(sim, moment, companies):
    """A component whose gateway is offline at `moment`, and when it reconnects."""
    ms = int(moment.timestamp() * 1000)
    for component in sim.world.components(companies):
        for begin, end in sim.world.gateway_outages(component.gateway_id, ms - 1, ms + 1):
            if begin <= ms < end:
                return component, datetime.fromtimestamp(end / 1000, UTC)
    pytest.fail("no gateway offline at the test's clock: pick another seed")


def _samples_of(db, asset_id):
    table = "vibration_samples" if _is_vibration(db, asset_id) else "energy_consumption"
    rows = raw_rows(db, table).filter(pc.field("asset_id") == asset_id)
    return rows.num_rows


def _is_vibration(db, asset_id):
    kinds = raw_rows(db, "asset_sensor_types").filter(pc.field("asset_id") == asset_id)
    return kinds.column("sensor_type").to_pylist() == ["vibration"]


@SYNC_TARGETS
def test_work_order_edits_and_deletes_propagate_and_vanished_assets_are_marked(sim, warehouse):
    run_sync(sim, warehouse, "tobias")
    wo_before = raw_rows(warehouse, "work_orders")
    removed = sim.world.components(company_ids(sim, "tobias"))[0]
    sim.remove_asset(removed.id)
    sim.advance(timedelta(days=2))

    report = run_sync(sim, warehouse, "tobias")

    expected = {k: v for k, v in truth(sim, "tobias").items() if k != "assets"}
    assert_matches_truth(warehouse, expected, "plant", ignore_asset=removed.id)
    # The removed asset's telemetry loaded before its removal is kept, not dropped.
    assert _samples_of(warehouse, removed.id) > 0
    wo_after = raw_rows(warehouse, "work_orders")
    edited = _changed_rows(wo_before, wo_after)
    assert edited, "no work order changed in two simulated days"
    assets = raw_rows(warehouse, "assets").filter(pc.field("missing_since").is_valid())
    assert assets.column("id").to_pylist() == [removed.id]
    assert assets.column("missing_since").to_pylist() == [NOW + timedelta(days=2)]
    assert report.marked_missing == {"assets": 1}
    assert pc.sum(wo_after.column("is_deleted")).as_py() > 0


def _changed_rows(before, after):
    old = {r["id"]: r for r in before.to_pylist()}
    return [r["id"] for r in after.to_pylist() if r["id"] in old and old[r["id"]] != r]


def test_a_company_configured_twice_syncs_once(public_sim, db):
    sim = public_sim
    tobias = company_ids(sim, "tobias")[0]
    connection = Connection("plant", sim.base_url, sim.tokens["tobias"], (tobias, tobias))

    sync(
        connection,
        db,
        client=fast_client(connection, page_limit=500),
        show_progress=False,
        **published_clock(sim),
    )

    assert_matches_truth(db, truth(sim, "tobias"), "plant")


def test_a_stateless_backfill_probes_over_its_own_range_and_remembers_nothing(public_sim, db):
    sim = public_sim
    components = sim.world.components(company_ids(sim, "tobias"))
    probes = sum(1 if c.sensor_type == "vibration" else 2 for c in components)
    day_before = NOW - timedelta(days=1)
    run_sync(sim, db, "tobias", start=day_before - timedelta(days=1), end=day_before)
    sim.reset_stats()

    run_sync(sim, db, "tobias")

    # the incremental sync probes again: the backfill's findings were not kept
    windows = 2 * sum(STREAMS[c.sensor_type] for c in components)
    assert telemetry_requests(sim) == windows + probes
    assert_matches_truth(db, truth(sim, "tobias"), "plant")
