"""What the endpoints serve agrees with the ground truth, and late samples appear only once
their gateway reconnects."""

import math
from datetime import timedelta

import pyarrow.compute as pc
import pytest

from sources.simulator import SimConfig, Simulator
from tests.conftest import SIM_NOW
from tests.simulator.server_helpers import company_id, get, iso, page_through, parse_iso

TOBIAS = company_id("Tobias")
START = SIM_NOW - timedelta(days=2)
WINDOW = {"start": iso(START), "end": iso(SIM_NOW)}
CAMEL = {
    "rms": "rms",
    "peak": "peak",
    "peak_to_peak": "peakToPeak",
    "crest_factor": "crestFactor",
    "crest_factor_db": "crestFactorDb",
}
PHASES = {
    "current": "abc",
    "voltage": ("ab", "bc", "ac"),
    "active_power": "abc",
    "power_factor": "abc",
}


@pytest.fixture(scope="module")
def sim():
    with Simulator(SimConfig(seed=7, days=3), now=SIM_NOW) as simulator:
        yield simulator


@pytest.fixture(scope="module")
def truth(sim):
    return sim.ground_truth([TOBIAS], START)


def _rows_of(table, asset_id, **equal):
    """The truth rows of one asset (and equal columns), as dicts."""
    condition = pc.field("asset_id") == asset_id
    for name, value in equal.items():
        condition &= pc.field(name) == value
    return table.filter(condition).to_pylist()


def _same(served, expected):
    if served is None or expected is None:
        return (served is None or math.isnan(served)) and (expected is None or math.isnan(expected))
    return served == expected


def _assert_columns(served_times, columns, rows):
    """Served columnar arrays equal the truth rows, sample by sample, column by column."""
    assert [parse_iso(t) for t in served_times] == [r["sampled_at"] for r in rows]
    for name, values in columns.items():
        expected = [r[name] for r in rows]
        assert all(map(_same, values, expected)), name


def _components(truth, sensor_type, few=5):
    assets = truth["assets"].filter(pc.field("sensor_type") == sensor_type)
    return assets.column("id").to_pylist()[:few]


def test_vibration_and_rotation_served_equal_ground_truth(sim, truth):
    assets = _components(truth, "vibration")
    assert assets
    for asset in assets:
        body = get(sim, f"/assets/{asset}/vibration", params=WINDOW).json()
        rotation = get(sim, f"/assets/{asset}/vibration/rotation", params=WINDOW).json()

        columns = {"temperature": body["temperature"], "powered": body["powered"]}
        for family in ("accel", "vel"):
            for measure, camel in CAMEL.items():
                for axis in "xyz":
                    columns[f"{family}_{measure}_{axis}"] = body[family][camel][axis]
        _assert_columns(body["sampledAt"], columns, _rows_of(truth["vibration_samples"], asset))
        _assert_columns(
            rotation["sampledAt"],
            {"rpm": rotation["rpm"], "sample_id": rotation["id"]},
            _rows_of(truth["rpm_samples"], asset),
        )


def test_energy_and_consumption_served_equal_ground_truth(sim, truth):
    assets = _components(truth, "energy")
    assert assets
    for asset in assets:
        for quantity, phases in PHASES.items():
            body = get(sim, f"/assets/{asset}/energy/{quantity}", params=WINDOW).json()
            columns = {
                f"{stat}_{phase}": body[stat][phase]
                for stat in ("average", "minimum", "maximum")
                for phase in phases
            }
            rows = _rows_of(truth["energy_samples"], asset, quantity=quantity)
            _assert_columns(body["sampledAt"], columns, rows)
        body = get(sim, f"/assets/{asset}/energy/consumption", params=WINDOW).json()
        columns = {
            "consumption": body["consumption"],
            "accumulated_consumption": body["accumulatedConsumption"],
            "forecast": body["forecast"],
        }
        _assert_columns(body["sampledAt"], columns, _rows_of(truth["energy_consumption"], asset))


def _ids(table):
    return sorted(table.column("id").to_pylist())


def test_records_served_equal_ground_truth(sim, truth):
    base = f"/companies/{TOBIAS}"
    insights, _ = page_through(sim, base + "/insights", referenceDateStart=WINDOW["start"])
    events, _ = page_through(sim, base + "/events", createdAtStart=WINDOW["start"])
    by_update = {"filter": "updatedAt", "start_date": WINDOW["start"], "end_date": WINDOW["end"]}
    live, _ = page_through(sim, base + "/workorders", **by_update)
    deleted, _ = page_through(sim, base + "/workorders", deleted="true", **by_update)
    assets, _ = page_through(sim, base + "/assets")
    locations, _ = page_through(sim, base + "/locations")

    assert _ids(truth["insights"]) == sorted(r["id"] for r in insights)
    assert _ids(truth["events"]) == sorted(r["id"] for r in events)
    assert _ids(truth["work_orders"]) == sorted(r["id"] for r in live + deleted)
    assert _ids(truth["assets"]) == sorted(r["id"] for r in assets)
    assert _ids(truth["locations"]) == sorted(r["id"] for r in locations)
    assert len(truth["work_orders"]) > 0
    assert len(truth["events"]) > 0


def _late_case(sim):
    """A vibration component of Tobias whose gateway reconnects within 48 h of now."""
    now = sim.clock.now_ms()
    vibration = {
        c.gateway_id: c.id for c in sim.world.components([TOBIAS]) if c.sensor_type == "vibration"
    }
    for gateway, at_ms in sim.world.gateway_reconnects(now, now + 48 * 3_600_000):
        if gateway in vibration:
            return vibration[gateway], at_ms
    pytest.fail("no Tobias vibration gateway reconnects within 48 h: pick another seed")


def _samples(sim, asset):
    response = get(sim, f"/assets/{asset}/vibration", params=WINDOW)
    if response.status_code == 204:
        return {}
    body = response.json()
    return {t: body["vel"]["rms"]["x"][i] for i, t in enumerate(body["sampledAt"])}


def test_late_samples_appear_only_after_their_gateway_reconnects(simulator_factory):
    sim = simulator_factory(SimConfig(seed=7, days=3))
    asset, reconnect_ms = _late_case(sim)

    before = _samples(sim, asset)
    sim.set_now(reconnect_ms - 60_000)
    just_before = _samples(sim, asset)
    sim.set_now(reconnect_ms + 60_000)
    after = _samples(sim, asset)

    assert just_before == before
    assert len(after) > len(before)
    assert {t: after[t] for t in before} == before
    truth = sim.ground_truth([TOBIAS], START, as_of=reconnect_ms + 60_000)
    in_window = [
        r["sampled_at"]
        for r in _rows_of(truth["vibration_samples"], asset)
        if r["sampled_at"] < SIM_NOW
    ]
    assert sorted(parse_iso(t) for t in after) == in_window
