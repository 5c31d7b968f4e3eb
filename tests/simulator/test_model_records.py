"""Insights, events and work orders as of a time: existence, numbering, edits, deletions,
schedules, priorities and categories, and records far past the start clock."""

import itertools
import re
from collections import defaultdict

from tests.simulator.model_support import DAY, ISO_PATTERN, START_MS, ms, shared_world

HEX24 = re.compile(r"^[0-9a-f]{24}$")


def _company(world, name):
    return next(c["id"] for c in world.companies if c["name"] == name)


def test_records_exist_only_from_their_creation_and_are_sorted():
    world = shared_world()
    cid = _company(world, "Apex")
    for as_of in (START_MS - 5 * DAY, START_MS):
        for listing in (world.insights(cid, as_of), world.events(cid, as_of)):
            keys = [(r["createdAt"], r["id"]) for r in listing]
            assert keys == sorted(keys)
            assert all(ms(r["createdAt"]) <= as_of for r in listing)
        assert all(ms(w["createdAt"]) <= as_of for w in world.work_orders(cid, as_of))
    assert len(world.work_orders(cid, START_MS - 5 * DAY)) < len(world.work_orders(cid, START_MS))


def test_numbers_count_up_per_company_in_creation_order():
    world = shared_world()
    for company in world.companies:
        for listing in (
            world.work_orders(company["id"], START_MS),
            world.insights(company["id"], START_MS),
        ):
            ordered = sorted(listing, key=lambda r: (r["createdAt"], r["id"]))
            assert [r["number"] for r in ordered] == list(range(1, len(ordered) + 1))


def test_record_ids_and_timestamps_have_the_published_shape():
    world = shared_world()
    cid = _company(world, "Tobias")
    for w in world.work_orders(cid, START_MS):
        assert HEX24.match(w["id"])
        assert HEX24.match(w["priorityId"])
        for field in ("createdAt", "updatedAt", "dueDate"):
            assert re.match(ISO_PATTERN, w[field])
        assert ms(w["createdAt"]) <= ms(w["updatedAt"]) <= START_MS
        assert w["status"] in {"open", "inProgress", "onHold", "done", "canceled"}
        assert isinstance(w["totalCost"]["total"], float)
    for e in world.events(cid, START_MS):
        assert e["companyId"] == cid
        assert HEX24.match(e["createdByUserId"])
        assert e["endDate"] is None or ms(e["endDate"]) <= ms(e["createdAt"])


def test_some_work_orders_are_edited_after_creation():
    world = shared_world()
    cid = _company(world, "Apex")
    now = {w["id"]: w for w in world.work_orders(cid, START_MS)}
    edited = []
    for w in now.values():
        first = next(x for x in world.work_orders(cid, ms(w["createdAt"])) if x["id"] == w["id"])
        changed = {f for f in ("title", "dueDate", "priorityId") if first[f] != w[f]}
        if changed:
            edited.append(changed)
            assert ms(w["updatedAt"]) > ms(w["createdAt"])
    kinds = set().union(*edited)
    assert kinds == {"title", "dueDate", "priorityId"}


def test_some_work_orders_are_deleted_after_creation_and_stay_listed():
    world = shared_world()
    cid = _company(world, "Apex")
    deleted = [w for w in world.work_orders(cid, START_MS) if w["deleted"]["value"]]
    assert len(deleted) >= 3
    for w in deleted:
        removed_at = ms(w["updatedAt"])
        assert removed_at > ms(w["createdAt"])
        before = next(x for x in world.work_orders(cid, removed_at - 1) if x["id"] == w["id"])
        assert before["deleted"]["value"] is False
        later = next(x for x in world.work_orders(cid, START_MS + 20 * DAY) if x["id"] == w["id"])
        assert later == w


def test_canceled_work_orders_carry_when_and_why():
    world = shared_world()
    canceled = [
        w
        for c in world.companies
        for w in world.work_orders(c["id"], START_MS)
        if w["status"] == "canceled"
    ]
    assert canceled
    for w in canceled:
        assert w["canceledAt"]
        assert w["canceledReason"]
        assert w["startedAt"] is None


def test_events_never_change_once_created():
    world = shared_world()
    cid = _company(world, "Apex")
    early = world.events(cid, START_MS - 3 * DAY)
    later = {e["id"]: e for e in world.events(cid, START_MS + 3 * DAY)}
    assert early
    assert all(later[e["id"]] == e for e in early)
    assert {e["type"] for e in later.values()} >= {"potentialFailure", "functionalFailure"}


def test_preventive_work_orders_follow_a_fixed_period_per_asset():
    world = shared_world()
    cid = _company(world, "Apex")
    preventive = next(c["id"] for c in world.work_order_categories(cid) if c["isPreventive"])
    due_by_asset = defaultdict(list)
    for w in world.work_orders(cid, START_MS + 70 * DAY):
        if w["categoryIds"] == [preventive]:
            due_by_asset[w["assetId"]].append(ms(w["dueDate"]))
    periods = set()
    for dues in due_by_asset.values():
        dues.sort()
        gaps = [b - a for a, b in itertools.pairwise(dues)]
        # A planner's edit moves one due date by a day; the schedule itself is fixed.
        typical = sorted(gaps)[len(gaps) // 2]
        assert typical in {7 * DAY, 14 * DAY, 30 * DAY}
        assert all(abs(g - typical) <= 2 * DAY for g in gaps)
        periods.add(typical)
    assert periods == {7 * DAY, 14 * DAY, 30 * DAY}


def test_records_keep_coming_long_after_the_start_clock():
    world = shared_world()
    cid = _company(world, "Apex")
    future = START_MS + 45 * DAY
    new = [w for w in world.work_orders(cid, future) if ms(w["createdAt"]) > START_MS + 30 * DAY]
    assert len(new) > 50
    assert any(i for i in world.insights(cid, future) if ms(i["createdAt"]) > START_MS + 30 * DAY)


def test_priorities_and_categories_per_company():
    world = shared_world()
    for company in world.companies:
        cid = company["id"]
        priorities = world.work_order_priorities(cid)
        assert [(p["name"], p["order"]) for p in priorities] == [
            ("Low", 1),
            ("Medium", 2),
            ("High", 3),
            ("Urgent", 4),
        ]
        categories = {c["name"]: c for c in world.work_order_categories(cid)}
        assert set(categories) == {"Corrective", "Preventive", "Predictive"}
        assert categories["Preventive"]["isPreventive"] is True
        assert categories["Corrective"]["isPreventive"] is False
        assert all(c["companyId"] == cid for c in categories.values())
    ids = [p["id"] for c in world.companies for p in world.work_order_priorities(c["id"])]
    assert len(set(ids)) == len(ids)


def test_all_work_order_kinds_occur():
    world = shared_world()
    cid = _company(world, "Apex")
    names = {c["id"]: c["name"] for c in world.work_order_categories(cid)}
    seen = {names[w["categoryIds"][0]] for w in world.work_orders(cid, START_MS)}
    assert seen == {"Corrective", "Preventive", "Predictive"}
