"""What the endpoints serve agrees with the ground truth, in both API profiles, and late
samples appear only once their gateway reconnects."""

import json
import math
from datetime import timedelta

import pyarrow.compute as pc
import pytest

from simulator import SimConfig, Simulator
from tests.conftest import SIM_NOW
from tests.simulator.server_helpers import company_id, get, iso8601, page_through, parse_iso

TOBIAS = company_id("Tobias")
START = SIM_NOW - timedelta(days=2)
WINDOW = {"start": iso8601(START), "end": iso8601(SIM_NOW)}
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
    "active-power": "abc",
    "power-factor": "abc",
    "reactive-power": "abc",
}
SERIES = {
    "consumption": {
        "consumption": "consumption",
        "accumulatedConsumption": "accumulated_consumption",
    },
    "demand": {"demand": "demand"},
    "cost": {"cost": "cost"},
}
PROFILES = ("integration", "public")


@pytest.fixture(scope="module", params=PROFILES)
def sim(request):
    with Simulator(SimConfig(seed=7, days=3), now=SIM_NOW, profile=request.param) as simulator:
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
    assets = truth["asset_sensor_types"].filter(pc.field("sensor_type") == sensor_type)
    return assets.column("asset_id").to_pylist()[:few]


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


def test_energy_served_equals_ground_truth(sim, truth):
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
        for series, fields in SERIES.items():
            body = get(sim, f"/assets/{asset}/energy/{series}", params=WINDOW).json()
            columns = {column: body[field] for field, column in fields.items()}
            columns["forecast"] = body["forecast"]
            rows = _rows_of(truth[f"energy_{series}"], asset)
            assert rows
            _assert_columns(body["sampledAt"], columns, rows)


ASSET_FIELDS = {
    "id": "id",
    "companyId": "company_id",
    "name": "name",
    "locationId": "location_id",
    "parentId": "parent_id",
    "sensorId": "sensor_id",
    "sensorType": "sensor_type",
    "gatewayId": "gateway_id",
    "status": "status",
    "code": "code",
    "criticalityId": "criticality_id",
    "manufacturer": "manufacturer",
    "modelType": "model_type",
    "serialNumber": "serial_number",
}


def test_assets_and_companies_served_equal_ground_truth(sim, truth):
    served, _ = page_through(sim, f"/companies/{TOBIAS}/assets")
    rows = {r["id"]: r for r in truth["assets"].to_pylist()}

    assert sorted(rows) == sorted(a["id"] for a in served)
    for asset in served:
        row = rows[asset["id"]]
        for field, column in ASSET_FIELDS.items():
            assert asset.get(field) == row[column], field
        assert json.loads(row["sensors"]) == asset["sensors"]
        assert parse_iso(asset["createdAt"]) == row["created_at"]
        assert (asset["deleted"]["value"], asset["disabled"]["value"]) == (
            row["is_deleted"],
            row["is_disabled"],
        )
    names = truth["companies"].to_pylist()
    if sim.profile == "public":
        assert names == [{"id": TOBIAS, "name": None}]
    else:
        listed = get(sim, "/companies", "tobias").json()
        assert names == [{"id": c["id"], "name": c["name"]} for c in listed]


def test_sensor_types_are_what_the_asset_says_or_what_probing_finds(sim, truth):
    rows = truth["asset_sensor_types"].to_pylist()
    assert rows
    if sim.profile == "integration":
        served = get(sim, f"/companies/{TOBIAS}/assets", params={"limit": 1000}).json()["data"]
        said = {a["id"]: a["sensorType"] for a in served if a.get("sensorType")}
        assert {r["asset_id"]: r["sensor_type"] for r in rows} == said
        assert {r["detected_by"] for r in rows} == {"asset"}
        return
    assert {r["detected_by"] for r in rows} == {"probe"}
    some = [[r for r in rows if r["sensor_type"] == kind][:6] for kind in ("vibration", "energy")]
    assert all(some)
    for row in some[0] + some[1]:
        vibration = get(sim, f"/assets/{row['asset_id']}/vibration", params=WINDOW)
        current = get(sim, f"/assets/{row['asset_id']}/energy/current", params=WINDOW)
        answers = (vibration.status_code, current.status_code)
        assert answers == ((200, 204) if row["sensor_type"] == "vibration" else (204, 200))


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


@pytest.mark.parametrize("profile", PROFILES)
def test_late_samples_appear_only_after_their_gateway_reconnects(simulator_factory, profile):
    sim = simulator_factory(SimConfig(seed=7, days=3), profile=profile)
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
