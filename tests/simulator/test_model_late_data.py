"""Late data: samples taken while a gateway is offline appear only when it reconnects."""

import itertools

import numpy as np
import orjson

from tests.simulator.model_support import DAY, HOUR, START_MS, components, shared_world, times


def _outages_in_history(world, sensor_type):
    """(component, outage start, outage end) wholly inside history, for every component."""
    found = []
    for c in components(world, sensor_type):
        for s, e in world.gateway_outages(c.gateway_id, world.history_start_ms, START_MS):
            if world.history_start_ms < s and e < START_MS:
                found.append((c, s, e))
    return found


def test_outages_are_frequent_short_and_never_overlap():
    world = shared_world()
    total = 0
    for c in world.components():
        spans = world.gateway_outages(c.gateway_id, world.history_start_ms, START_MS)
        total += len(spans)
        for s, e in spans:
            assert HOUR <= e - s <= 40 * HOUR
        for (_, e1), (s2, _) in itertools.pairwise(spans):
            assert e1 <= s2
    assert total >= 50


def test_samples_taken_offline_are_invisible_until_the_reconnect():
    world = shared_world()
    c, s, e = _outages_in_history(world, "vibration")[0]
    window = (s - 6 * HOUR, e + 6 * HOUR)
    before = times(world.vibration(c.id, *window, e - 1))
    after = world.vibration(c.id, *window, e)
    at_reconnect = times(after)
    assert not np.any((before >= s) & (before < e))
    assert np.any(before < s)
    offline = at_reconnect[(at_reconnect >= s) & (at_reconnect < e)]
    assert len(offline) > 0
    assert set(at_reconnect) - set(before) == set(offline)
    # Everything before the reconnect is complete at the reconnect and never changes.
    settled = world.vibration(c.id, window[0], e, e)
    later = world.vibration(c.id, window[0], e, START_MS + 5 * DAY)
    opt = orjson.OPT_SERIALIZE_NUMPY
    assert orjson.dumps(later, option=opt) == orjson.dumps(settled, option=opt)


def test_energy_samples_follow_the_same_rule():
    world = shared_world()
    c, s, e = _outages_in_history(world, "energy")[0]
    seen_early = times(world.consumption(c.id, s - HOUR, e + HOUR, e - 1))
    seen_late = times(world.consumption(c.id, s - HOUR, e + HOUR, e))
    assert not np.any((seen_early >= s) & (seen_early < e))
    offline = seen_late[(seen_late >= s) & (seen_late < e)]
    assert set(seen_late) - set(seen_early) == set(offline)
    assert abs(len(offline) - (e - s) / (15 * 60_000)) <= 1


def test_reconnects_list_each_outage_end_once_in_its_interval():
    world = shared_world()
    after, until = START_MS - 3 * DAY, START_MS
    expected = {
        (c.gateway_id, e)
        for c in world.components()
        for _, e in world.gateway_outages(c.gateway_id, after - 2 * DAY, until + DAY)
        if after < e <= until
    }
    got = world.gateway_reconnects(after, until)
    assert set(got) == expected
    assert len(got) == len(expected)
    assert [t for _, t in got] == sorted(t for _, t in got)
    halves = world.gateway_reconnects(after, START_MS - DAY) + world.gateway_reconnects(
        START_MS - DAY, until
    )
    assert halves == got


def test_some_gateway_is_offline_at_the_start_clock():
    world = shared_world()
    offline = [
        c
        for c in world.components()
        if any(
            s <= START_MS < e
            for s, e in world.gateway_outages(c.gateway_id, START_MS, START_MS + 1)
        )
    ]
    assert offline
