"""Which telemetry a monitored asset has, against the published API (no `sensorType`):
probed once, remembered, probed again only when the memory says so."""

from datetime import timedelta

import pytest

from simulator import SimConfig, Simulator
from sources.sensor_types import needs_probe, sensor_types
from tests.sources.conftest import connection_for, fast_client, utc

NOW = utc(2026, 11, 20, 12, 0)
SINCE = NOW - timedelta(days=2)  # what the simulator has: one 7-day probe window covers it
TELEMETRY_ROUTES = ("vibration", "energy")


@pytest.fixture(scope="module")
def sim():
    with Simulator(SimConfig(seed=5, days=2), now=NOW, profile="public") as simulator:
        yield simulator


@pytest.fixture(scope="module")
def jaguar(sim):
    """Jaguar's assets as the published API serves them, and its components' true types."""
    connection = connection_for(sim, "jaguar")
    client = fast_client(connection)
    assets = client.paginate(f"/companies/{connection.company_ids[0]}/assets")
    truth = {c.id: c.sensor_type for c in sim.world.components(connection.company_ids)}
    return client, assets, truth


def probes_sent(sim, before):
    by_route = sim.stats()["by_route"]
    return sum(by_route.get(route, 0) for route in TELEMETRY_ROUTES) - before


def telemetry_requests(sim):
    return probes_sent(sim, 0)


def test_published_assets_say_only_which_sensors_they_carry(jaguar):
    _, assets, truth = jaguar
    monitored = {a["id"] for a in assets if a.get("sensors")}
    assert monitored == set(truth)
    assert all("sensorType" not in a for a in assets)


def test_needs_probe_hand_worked():
    asset = {"id": "a1", "sensors": ["QHI640"]}
    day_ago = (NOW - timedelta(days=1)).isoformat()
    hour_ago = (NOW - timedelta(hours=1)).isoformat()
    week_ago = NOW - timedelta(days=7)

    def memory(kind, sensors, probed_at, probed_from=week_ago):
        probe = {"type": kind, "sensors": sensors, "probed_at": probed_at}
        return {"a1": probe | {"probed_from": probed_from.isoformat()}}

    assert needs_probe(asset, {}, week_ago, NOW)  # never probed
    assert not needs_probe(asset, memory("energy", ["QHI640"], day_ago), week_ago, NOW)
    swapped = memory("energy", ["OLD001"], hour_ago)
    assert needs_probe(asset, swapped, week_ago, NOW)  # its sensor changed
    quiet = memory(None, ["QHI640"], hour_ago)
    assert not needs_probe(asset, quiet, week_ago, NOW)  # answered neither an hour ago
    assert needs_probe(asset, quiet, week_ago - timedelta(days=7), NOW)  # ... a week back
    assert needs_probe(asset, memory(None, ["QHI640"], day_ago), week_ago, NOW)  # a day ago


def test_first_probe_finds_every_type_and_the_memory_saves_every_later_probe(sim, jaguar):
    client, assets, truth = jaguar
    memory: dict = {}
    before = telemetry_requests(sim)

    found = sensor_types(client, assets, memory, SINCE, NOW, failures=[])

    assert {(t.asset_id, t.sensor_type, t.detected_by) for t in found} == {
        (asset_id, kind, "probe") for asset_id, kind in truth.items()
    }
    # vibration answers the first probe; an energy meter answers the second
    expected = sum(1 if kind == "vibration" else 2 for kind in truth.values())
    assert probes_sent(sim, before) == expected
    before = telemetry_requests(sim)
    again = sensor_types(client, assets, memory, SINCE, NOW + timedelta(hours=1), failures=[])
    assert probes_sent(sim, before) == 0
    assert again == found


def test_an_asset_that_answered_neither_is_probed_again_after_a_day(sim, jaguar):
    client, assets, truth = jaguar
    asset_id = next(iter(truth))
    sensors = next(a["sensors"] for a in assets if a["id"] == asset_id)
    probed = {"probed_from": SINCE.isoformat(), "probed_at": NOW.isoformat()}
    memory = {
        a["id"]: {"type": kind, "sensors": a["sensors"], **probed}
        for a in assets
        for kind in [truth.get(a["id"])]
        if a.get("sensors")
    }
    memory[asset_id] = {"type": None, "sensors": sensors, **probed}

    before = telemetry_requests(sim)
    soon = sensor_types(client, assets, memory, SINCE, NOW + timedelta(hours=2), failures=[])
    assert probes_sent(sim, before) == 0
    assert asset_id not in {t.asset_id for t in soon}

    later = sensor_types(client, assets, memory, SINCE, NOW + timedelta(days=1), failures=[])
    assert probes_sent(sim, before) >= 1
    assert (asset_id, truth[asset_id]) in {(t.asset_id, t.sensor_type) for t in later}
    assert memory[asset_id]["type"] == truth[asset_id]


def test_a_failing_probe_is_a_failure_of_that_asset_and_is_retried_next_sync(sim, jaguar):
    client, assets, truth = jaguar
    memory: dict = {}
    failures: list[str] = []
    sim.set_fault("server_errors", route="vibration", rate=1.0, count=1000)
    try:
        found = sensor_types(client, assets, memory, SINCE, NOW, failures=failures)
    finally:
        sim.clear_faults()

    assert len(failures) == len(truth)  # every asset's first probe failed for good
    assert found == []
    assert memory == {}  # nothing remembered: the next sync probes them all again
    found = sensor_types(client, assets, memory, SINCE, NOW, failures=[])
    assert {t.asset_id for t in found} == set(truth)


def test_a_sensor_quiet_this_week_is_found_in_the_older_weeks_the_sync_reads(sim, jaguar):
    client, assets, truth = jaguar
    later = NOW + timedelta(days=8)  # the newest 7 days hold no sample at all
    before = telemetry_requests(sim)

    found = sensor_types(client, assets, {}, NOW - timedelta(days=6), later, failures=[])

    assert {(t.asset_id, t.sensor_type) for t in found} == set(truth.items())
    # the empty week costs both probes; then the week before answers as usual
    expected = sum(2 + (1 if kind == "vibration" else 2) for kind in truth.values())
    assert probes_sent(sim, before) == expected
