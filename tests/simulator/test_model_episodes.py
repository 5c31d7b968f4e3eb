"""Fault episodes: velocity climbs through ISO zones C and D along a P-F curve, the
temperature follows, records are raised in order, and the repair resets the machine."""

import numpy as np

from tests.simulator.model_support import (
    DAY,
    HOUR,
    START_MS,
    components,
    dominant_velocity,
    ms,
    shared_world,
    times,
)

LATE = START_MS + 10 * DAY


def _failed_episode(world):
    """A component and an episode reaching zone D, all of it inside history."""
    for c in components(world, "vibration"):
        for ep in world.episodes(c.id, world.history_start_ms, START_MS):
            inside = world.history_start_ms + DAY < ep.onset_ms and ep.end_ms < START_MS
            if inside and ep.functional_ms is not None:
                return c, ep
    raise AssertionError("no episode reaching zone D inside history")


def test_velocity_rises_through_zones_c_and_d_then_resets_after_repair():
    world = shared_world()
    c, ep = _failed_episode(world)
    body = world.vibration(c.id, ep.onset_ms - DAY, ep.repaired_ms + DAY, LATE)
    t, vel = times(body), dominant_velocity(body)
    running = np.asarray(body["powered"]) & ~np.isnan(vel)

    def during(a, b):
        return vel[running & (t >= a) & (t < b)]

    assert during(ep.onset_ms - DAY, ep.onset_ms).max() < 2.8
    assert during(ep.detected_ms, ep.detected_ms + 1).min() > 2.5
    assert during(ep.detected_ms, ep.repaired_ms).max() > 2.8
    assert during(ep.functional_ms, ep.repaired_ms).max() > 4.5
    assert during(ep.repaired_ms, ep.repaired_ms + DAY).max() < 2.8

    temp = np.asarray(body["temperature"], dtype=float)
    ok = running & (temp > -100)
    baseline = temp[ok & (t < ep.onset_ms)].mean()
    last_failing = ep.total_failure_ms or ep.wo_started_ms
    hot = temp[ok & (t >= last_failing - 6 * HOUR) & (t < last_failing)]
    assert hot.mean() > baseline + 5
    crest = np.asarray(body["vel"]["crestFactor"]["x"])
    assert np.nanmean(crest[running & (t >= ep.functional_ms) & (t < last_failing)]) > np.nanmean(
        crest[running & (t < ep.onset_ms)]
    )


def test_total_failure_stops_the_machine_until_repaired():
    world = shared_world()
    for c in components(world, "vibration"):
        stops = [
            e
            for e in world.episodes(c.id, world.history_start_ms, START_MS)
            if e.total_failure_ms and e.total_failure_ms > world.history_start_ms
        ]
        if stops:
            ep = stops[0]
            break
    else:
        raise AssertionError("no total failure inside history")
    body = world.vibration(c.id, ep.total_failure_ms, ep.repaired_ms, LATE)
    assert not any(body["powered"])
    assert np.all(np.diff(times(body)) == HOUR)


def test_episode_records_are_raised_in_order_and_follow_the_repair():
    world = shared_world()
    c, ep = _failed_episode(world)
    cid = c.company_id
    events = [e for e in world.events(cid, LATE) if e["assetId"] == c.id]
    potential = next(
        e
        for e in events
        if e["type"] == "potentialFailure" and ms(e["startDate"]) == ep.detected_ms
    )
    functional = next(
        e
        for e in events
        if e["type"] == "functionalFailure" and ms(e["startDate"]) == ep.functional_ms
    )
    assert ms(potential["createdAt"]) == ep.detected_ms
    assert potential["endDate"] is None
    assert ms(functional["createdAt"]) >= ep.detected_ms
    insight = next(i for i in world.insights(cid, LATE) if i["eventId"] == potential["id"])
    assert insight["assetId"] == c.id
    assert insight["type"] == "vibration"
    assert ms(insight["createdAt"]) >= ms(potential["createdAt"])
    corrective_id = _category(world, cid, "Corrective")
    wo = next(
        w
        for w in world.work_orders(cid, LATE)
        if w["assetId"] == c.id
        and w["categoryIds"] == [corrective_id]
        and ms(insight["createdAt"]) <= ms(w["createdAt"]) <= ms(insight["createdAt"]) + DAY
    )
    created, started = ms(wo["createdAt"]), ms(wo["startedAt"])
    done = ms(wo["elapsedIntervals"][-1]["endedAt"])
    assert created < started < done
    assert wo["status"] == "done"
    spent = sum(i["durationInSeconds"] for i in wo["elapsedIntervals"])
    assert abs(spent - (done - started) / 1000) <= len(wo["elapsedIntervals"])
    assert _wo_at(world, cid, wo["id"], created)["status"] == "open"
    assert _wo_at(world, cid, wo["id"], started)["status"] == "inProgress"
    assert _wo_at(world, cid, wo["id"], created - 1) is None
    statuses = [
        (d["status"], d["fixStatus"])
        for d in (world.insight_detail(insight["id"], t) for t in (created, started, done, LATE))
    ]
    assert statuses[0] == ("pending", "notFixed")
    assert statuses[1] == ("inspection", "notFixed")
    assert statuses[2][1] == "fixed"
    assert statuses[3] == ("checked", "fixed")
    assert world.insight_detail(insight["id"], ms(insight["createdAt"]) - 1) is None
    assert done == ep.repaired_ms


def _category(world, company_id, name):
    return next(c["id"] for c in world.work_order_categories(company_id) if c["name"] == name)


def _wo_at(world, company_id, wo_id, as_of):
    return next((w for w in world.work_orders(company_id, as_of) if w["id"] == wo_id), None)
