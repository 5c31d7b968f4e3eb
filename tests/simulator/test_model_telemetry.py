"""Telemetry: pure and deterministic, window semantics, sampling grids, plausible values
and rare bad readings. The energy physics and units are in test_model_energy.py."""

import numpy as np
import orjson
import pytest

from simulator.world import SimConfig, World
from tests.simulator.model_support import (
    DAY,
    HOUR,
    MINUTE,
    START_MS,
    components,
    dominant_velocity,
    shared_world,
    times,
)

LATE = START_MS + 10 * DAY  # long after every gateway reconnected
OPT = orjson.OPT_SERIALIZE_NUMPY


def _json(body: dict | None) -> bytes:
    return orjson.dumps(body, option=OPT)


def _reads(world: World, asset_id: str, sensor_type: str):
    if sensor_type == "vibration":
        return [
            lambda s, e, a: world.vibration(asset_id, s, e, a),
            lambda s, e, a: world.rotation(asset_id, s, e, a),
        ]
    return [
        lambda s, e, a: world.consumption(asset_id, s, e, a),
        lambda s, e, a: world.demand(asset_id, s, e, a),
        lambda s, e, a: world.cost(asset_id, s, e, a),
        *(
            lambda s, e, a, q=q: world.energy(asset_id, q, s, e, a)
            for q in ("current", "voltage", "active-power", "power-factor", "reactive-power")
        ),
    ]


def _concat(a: dict, b: dict) -> dict:
    """Two bodies of consecutive windows joined array by array."""
    if isinstance(a, dict):
        return {k: _concat(a[k], b[k]) for k in a}
    if isinstance(a, str):
        assert a == b
        return a
    return list(a) + list(b)


def _plain(body: dict) -> object:
    return orjson.loads(_json(body))


@pytest.mark.parametrize("sensor_type", ["vibration", "energy"])
def test_same_window_twice_and_in_another_world_gives_identical_bodies(sensor_type):
    world = shared_world()
    other = World(SimConfig(), START_MS)
    c = components(world, sensor_type)[3]
    for read, read_other in zip(
        _reads(world, c.id, sensor_type), _reads(other, c.id, sensor_type), strict=True
    ):
        first = _json(read(START_MS - 7 * DAY, START_MS, START_MS))
        assert first == _json(read(START_MS - 7 * DAY, START_MS, START_MS))
        assert first == _json(read_other(START_MS - 7 * DAY, START_MS, START_MS))


@pytest.mark.parametrize("sensor_type", ["vibration", "energy"])
def test_window_split_in_two_is_the_union_of_its_halves(sensor_type):
    world = shared_world()
    c = components(world, sensor_type)[5]
    start, middle, end = START_MS - 6 * DAY, START_MS - 2 * DAY - 7 * MINUTE, START_MS
    for read in _reads(world, c.id, sensor_type):
        whole = _plain(read(start, end, LATE))
        halves = _concat(_plain(read(start, middle, LATE)), _plain(read(middle, end, LATE)))
        assert whole == halves


def test_window_includes_its_start_and_excludes_its_end():
    world = shared_world()
    c = components(world, "vibration")[0]
    body = world.vibration(c.id, START_MS - DAY, START_MS, LATE)
    t = times(body)
    inner = world.vibration(c.id, int(t[3]), int(t[8]), LATE)
    assert list(times(inner)) == list(t[3:8])


def test_no_samples_before_history_start_or_after_as_of():
    world = shared_world()
    c = components(world, "energy")[0]
    assert (
        world.consumption(c.id, world.history_start_ms - 5 * DAY, world.history_start_ms, LATE)
        is None
    )
    body = world.consumption(c.id, START_MS - DAY, START_MS + DAY, START_MS)
    assert times(body).max() <= START_MS


def test_vibration_samples_every_ten_minutes_running_and_hourly_stopped():
    world = shared_world()
    both_running = both_stopped = 0
    for c in components(world, "vibration")[:30]:
        body = world.vibration(c.id, START_MS - 7 * DAY, START_MS, LATE)
        t, powered = times(body), np.asarray(body["powered"])
        gaps = np.diff(t)
        assert np.all(gaps % (10 * MINUTE) == 0)
        running = powered[1:] & powered[:-1]
        stopped = ~powered[1:] & ~powered[:-1]
        assert np.all(gaps[running] == 10 * MINUTE)
        assert np.all(gaps[stopped] == HOUR)
        both_running += running.sum()
        both_stopped += stopped.sum()
        rpm = np.asarray(world.rotation(c.id, START_MS - 7 * DAY, START_MS, LATE)["rpm"])
        assert np.all(rpm[~powered] == 0)
        assert np.nanmin(rpm[powered]) > 500
    assert both_running > 1000
    assert both_stopped > 100


def test_energy_samples_every_fifteen_minutes_and_timestamps_not_aligned_across_components():
    world = shared_world()
    offsets = set()
    for c in components(world, "energy")[:20]:
        t = times(world.consumption(c.id, START_MS - 7 * DAY, START_MS, LATE))
        assert len(t) == 7 * 96
        assert np.all(np.diff(t) == 15 * MINUTE)
        offsets.add(int(t[0] % (15 * MINUTE)))
    assert len(offsets) > 15


def test_baseline_velocity_sits_in_iso_zones_a_and_b():
    world = shared_world()
    inside = total = 0
    for c in components(world, "vibration"):
        quiet = [
            (e.onset_ms, e.repaired_ms) for e in world.episodes(c.id, START_MS - 7 * DAY, START_MS)
        ]
        body = world.vibration(c.id, START_MS - 7 * DAY, START_MS, LATE)
        t, vel = times(body), dominant_velocity(body)
        keep = np.asarray(body["powered"]) & ~np.isnan(vel)
        for onset, repaired in quiet:
            keep &= (t < onset) | (t >= repaired)
        inside += int((vel[keep] < 2.8).sum())
        total += int(keep.sum())
        assert np.all(vel[keep] > 0.3)
    assert total > 50_000
    assert inside / total > 0.99


def test_vibration_values_are_consistent_and_plausible():
    world = shared_world()
    for c in components(world, "vibration")[:20]:
        body = world.vibration(c.id, START_MS - 7 * DAY, START_MS, LATE)
        temp = np.asarray(body["temperature"], dtype=float)
        real = temp[(temp != -273.15) & ~np.isnan(temp)]
        assert real.min() > 10
        assert real.max() < 110
        for family in ("vel", "accel"):
            w = body[family]
            for axis in "xyz":
                cf, db = np.asarray(w["crestFactor"][axis]), np.asarray(w["crestFactorDb"][axis])
                ok = ~np.isnan(cf) & ~np.isnan(db)
                assert np.allclose(db[ok], 20 * np.log10(cf[ok]), atol=0.002)
                rms, peak = np.asarray(w["rms"][axis]), np.asarray(w["peak"][axis])
                p2p = np.asarray(w["peakToPeak"][axis])
                ok &= ~np.isnan(rms) & ~np.isnan(peak) & ~np.isnan(p2p)
                assert np.allclose(peak[ok], rms[ok] * cf[ok], rtol=0.01, atol=2e-4)
                assert np.all((p2p[ok] > 1.8 * peak[ok]) & (p2p[ok] <= 2.0 * peak[ok] + 1e-4))


def test_rare_bad_readings_are_nulls_disconnected_probes_and_dead_phases():
    world = shared_world()
    nulls = probes = dead = cells = 0
    for c in components(world, "vibration"):
        body = _plain(world.vibration(c.id, START_MS - 7 * DAY, START_MS, LATE))
        temps = body["temperature"]
        probes += temps.count(-273.15)
        arrays = [temps] + [body[f][m][a] for f in ("accel", "vel") for m in body[f] for a in "xyz"]
        nulls += sum(arr.count(None) for arr in arrays)
        cells += len(temps)
    for c in components(world, "energy"):
        volts = _plain(world.energy(c.id, "voltage", START_MS - 7 * DAY, START_MS, LATE))
        dead += sum(volts["average"][ph].count(0.0) for ph in ("ab", "bc", "ac"))
        cells += len(volts["sampledAt"])
    assert probes > 0
    assert nulls > 0
    assert dead > 0
    assert 0.0005 < (nulls + probes + dead) / cells < 0.005


def test_rotation_ids_are_unique_24_hex_strings():
    world = shared_world()
    c = components(world, "vibration")[1]
    ids = world.rotation(c.id, START_MS - 7 * DAY, START_MS, LATE)["id"]
    assert len(set(ids)) == len(ids)
    assert all(len(i) == 24 and int(i, 16) >= 0 for i in ids)


def test_wrong_sensor_type_is_a_key_error_and_unknown_quantity_a_value_error():
    world = shared_world()
    vib, en = components(world, "vibration")[0], components(world, "energy")[0]
    with pytest.raises(KeyError):
        world.energy(vib.id, "current", START_MS - DAY, START_MS, START_MS)
    with pytest.raises(KeyError):
        world.rotation(en.id, START_MS - DAY, START_MS, START_MS)
    with pytest.raises(KeyError):
        world.demand(vib.id, START_MS - DAY, START_MS, START_MS)
    for quantity in ("frequency", "active_power", "power_factor"):
        with pytest.raises(ValueError, match=quantity):
            world.energy(en.id, quantity, START_MS - DAY, START_MS, START_MS)


def test_nan_serializes_as_null_and_timestamps_in_the_api_format():
    world = shared_world()
    c = components(world, "vibration")[0]
    text = _json(world.vibration(c.id, START_MS - HOUR, START_MS, LATE)).decode()
    assert "NaN" not in text
    assert orjson.dumps({"a": np.array([1.5, np.nan])}, option=OPT) == b'{"a":[1.5,null]}'
    assert orjson.loads(text)["sampledAt"][0].endswith("Z")
