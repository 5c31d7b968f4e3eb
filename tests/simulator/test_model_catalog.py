"""The served asset tree against the demo dump, scaled clones, tokens and asset removal."""

import re

import pytest

from simulator.world import SimConfig, World
from tests.simulator.model_support import ISO_PATTERN, START_MS, demo_dump, ms, shared_world

HEX24 = re.compile(r"^[0-9a-f]{24}$")


def _served_assets(world: World) -> dict[str, dict]:
    return {a["id"]: a for c in world.companies for a in world.assets(c["id"])}


def test_counts_match_the_demo_dump():
    world = shared_world()
    assert [c["name"] for c in world.companies] == ["Jaguar", "Tobias", "Apex"]
    assert sum(len(world.locations(c["id"])) for c in world.companies) == 3834
    assert len(_served_assets(world)) == 14709
    assert len(world.components()) == 284


def test_every_dump_field_is_served_unchanged_including_stray_spaces():
    world = shared_world()
    served = _served_assets(world)
    dump = demo_dump()
    stray = 0
    for company in dump["companies"]:
        cid = company["id"]
        for asset in dump[cid]["assets"]:
            body = served[asset["id"]]
            assert {k: body[k] for k in asset} == asset
            assert body["companyId"] == cid
            stray += asset["name"] != asset["name"].strip()
        locations = {loc["id"]: loc for loc in world.locations(cid)}
        for loc in dump[cid]["locations"]:
            assert locations[loc["id"]] == {**loc, "companyId": cid}
    assert stray > 0


def test_filled_asset_fields_have_the_published_types_and_predate_history():
    world = shared_world()
    for asset in _served_assets(world).values():
        sensor = asset.get("sensorId")
        assert asset["sensors"] == ([sensor] if sensor else [])
        assert re.match(ISO_PATTERN, asset["createdAt"])
        assert ms(asset["createdAt"]) <= ms(asset["updatedAt"]) < world.history_start_ms
        assert asset["deleted"] == {"value": False}
        assert asset["disabled"] == {"value": False, "date": None}
        assert isinstance(asset["code"], str)
        assert HEX24.match(asset["criticalityId"])
        for field in ("manufacturer", "modelType", "serialNumber"):
            assert asset[field] is None or isinstance(asset[field], str)
        if sensor:
            assert isinstance(asset["manufacturer"], str)


def test_scale_three_adds_two_clones_of_every_component_with_their_own_ids():
    world = World(SimConfig(scale=3), START_MS)
    comps = world.components()
    assert len(comps) == 852
    served = _served_assets(world)
    assert len(served) == 14709 + 2 * 284
    originals = {c.id: c for c in comps if c.clone_of is None}
    clones = [c for c in comps if c.clone_of is not None]
    assert len(originals) == 284
    assert len(clones) == 568
    for clone in clones:
        source = served[clone.clone_of]
        body = served[clone.id]
        assert HEX24.match(clone.id)
        assert body["parentId"] == source["parentId"]
        assert body["locationId"] == source["locationId"]
        assert body["sensorType"] == source["sensorType"]
    assert len({c.sensor_id for c in comps}) == 852
    assert len({c.gateway_id for c in comps}) == 852
    assert World(SimConfig(scale=3), START_MS).components() == comps


def test_four_tokens_one_per_company_and_all_deterministic_from_the_seed():
    world = shared_world()
    by_name = {t.name: (value, t) for value, t in world.tokens.items()}
    assert set(by_name) == {"jaguar", "tobias", "apex", "all"}
    for name, (value, token) in by_name.items():
        assert re.match(rf"^tsim_{name}_[0-9a-f]{{16}}$", value)
        assert token.connection_id
    ids = [c["id"] for c in world.companies]
    assert by_name["all"][1].company_ids == tuple(ids)
    assert by_name["tobias"][1].company_ids == (ids[1],)
    assert World(SimConfig(seed=7), START_MS + 123).tokens == world.tokens
    assert set(World(SimConfig(seed=8), START_MS).tokens).isdisjoint(world.tokens)


def test_removed_asset_leaves_the_listing_and_its_telemetry():
    world = World(SimConfig(), START_MS)
    vib = next(c for c in world.components() if c.sensor_type == "vibration")
    before = len(world.assets(vib.company_id))
    world.remove_asset(vib.id)
    assert len(world.assets(vib.company_id)) == before - 1
    assert vib.id not in {a["id"] for a in world.assets(vib.company_id)}
    assert world.component(vib.id) is None
    with pytest.raises(KeyError):
        world.vibration(vib.id, START_MS - 3_600_000, START_MS, START_MS)
    with pytest.raises(KeyError, match="unknown asset"):
        world.remove_asset("0" * 24)


def test_unknown_company_is_a_key_error_naming_it():
    with pytest.raises(KeyError, match="unknown company"):
        shared_world().assets("nope")
