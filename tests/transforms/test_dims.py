"""Dimensions: paths, depths, inherited locations, deleted flags, tree quarantine, and
sensor types from either API profile."""

import json
from importlib import resources

import pytest

from tests.transforms.conftest import records, run
from tests.transforms.plant import detection, load_plant
from tests.transforms.rawdb import RawWarehouse, load_id_at, ts

L1 = load_id_at("2024-03-02 00:00")


@pytest.fixture(scope="module")
def plant(tmp_path_factory) -> RawWarehouse:
    raw = RawWarehouse(tmp_path_factory.mktemp("dims") / "w.duckdb")
    load_plant(raw, L1)
    raw.load(
        "locations",
        [
            {
                "id": "L3",
                "company_id": "c1",
                "name": "Old hall",
                "parent_id": "L1",
                "missing_since": ts("2024-02-01 00:00"),
            },
            {"id": "L8", "company_id": "c1", "name": "Orphan", "parent_id": "NOPE"},
            {"id": "L9", "company_id": "c1", "name": "Under orphan", "parent_id": "L8"},
            {"id": "LA", "company_id": "c1", "name": "Loop A", "parent_id": "LB"},
            {"id": "LB", "company_id": "c1", "name": "Loop B", "parent_id": "LA"},
        ],
        L1,
    )
    raw.load(
        "assets",
        [
            {
                "id": "D1",
                "company_id": "c1",
                "name": "Deleted pump",
                "location_id": "L3",
                "is_deleted": True,
            },
            {
                "id": "D2",
                "company_id": "c1",
                "name": "Vanished fan",
                "location_id": "L2",
                "missing_since": ts("2024-02-15 00:00"),
            },
            {"id": "X1", "company_id": "c1", "name": "Lost", "location_id": "L9"},
            {"id": "X2", "company_id": "c1", "name": "Child of lost", "parent_id": "X1"},
            {"id": "X3", "company_id": "c1", "name": "No parent", "parent_id": "GONE"},
            {"id": "X4", "company_id": "c1", "name": "Nowhere", "location_id": "NOWHERE"},
            {"id": "F1", "company_id": "c1", "name": " Free standing "},
        ],
        L1,
    )
    run(raw)
    return raw


def _by_id(raw: RawWarehouse, table: str, key: str) -> dict[str, dict]:
    return {r[key]: r for r in records(raw.path, f"SELECT * FROM {table}")}


def test_asset_paths_join_trimmed_names_from_the_root_location(plant):
    assets = _by_id(plant, "clean.dim_asset", "asset_id")
    assert assets["V1"]["path"] == "Plant / Line 1 / Motor A / Bearing DE"
    assert assets["V1"]["depth"] == 3
    assert assets["M1"]["path"] == "Plant / Line 1 / Motor A"
    assert assets["M1"]["depth"] == 2
    assert assets["E1"]["path"] == "Plant / Panel"
    assert assets["F1"]["path"] == "Free standing"
    assert assets["F1"]["depth"] == 0
    assert assets["F1"]["name"] == " Free standing "


def test_components_inherit_their_parents_location_and_are_kinded(plant):
    assets = _by_id(plant, "clean.dim_asset", "asset_id")
    assert assets["V1"]["location_id"] == "L2"
    assert assets["V1"]["parent_asset_id"] == "M1"
    assert (assets["V1"]["kind"], assets["M1"]["kind"], assets["E1"]["kind"]) == (
        "component",
        "asset",
        "component",
    )
    assert assets["F1"]["location_id"] is None


def test_location_paths_and_depths(plant):
    locations = _by_id(plant, "clean.dim_location", "location_id")
    assert (locations["L1"]["path"], locations["L1"]["depth"]) == ("Plant", 0)
    assert (locations["L2"]["path"], locations["L2"]["depth"]) == ("Plant / Line 1", 1)
    assert locations["L1"]["name"] == " Plant "


def test_deleted_means_the_api_flag_or_vanished_from_the_snapshot(plant):
    assets = _by_id(plant, "clean.dim_asset", "asset_id")
    locations = _by_id(plant, "clean.dim_location", "location_id")
    assert assets["D1"]["is_deleted"]
    assert assets["D2"]["is_deleted"]
    assert not assets["M1"]["is_deleted"]
    assert locations["L3"]["is_deleted"]
    assert not locations["L1"]["is_deleted"]
    assert assets["D1"]["path"] == "Plant / Old hall / Deleted pump"


def test_broken_trees_go_to_quarantine_with_their_rule(plant):
    locations = {
        r["id"]: r["rule"] for r in records(plant.path, "SELECT * FROM quarantine.locations")
    }
    assets = {r["id"]: r["rules"] for r in records(plant.path, "SELECT * FROM quarantine.assets")}
    assert locations == {
        "L8": "unknown_parent",
        "L9": "unknown_parent",
        "LA": "cycle",
        "LB": "cycle",
    }
    assert assets == {
        "X1": "unknown_location",
        "X2": "unknown_location",
        "X3": "unknown_parent",
        "X4": "unknown_location",
    }


def test_the_bridge_lists_every_ancestor_asset_with_its_distance(plant):
    pairs = records(
        plant.path,
        "SELECT ancestor_asset_id, distance FROM clean.bridge_asset_ancestor "
        "WHERE asset_id = 'V1' ORDER BY distance",
    )
    assert pairs == [
        {"ancestor_asset_id": "V1", "distance": 0},
        {"ancestor_asset_id": "M1", "distance": 1},
    ]


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> RawWarehouse:
    """The plant as Tractian's published API gives it, plus: P1, monitored (a non-empty
    `sensors`) but with no detected type yet; P2, whose own sensor type wins over the
    detected one; Q1 with a blank `sensors` list and Q2 with a malformed one; a detection
    for an asset that does not exist and one for an asset that is quarantined."""
    raw = RawWarehouse(tmp_path_factory.mktemp("published") / "w.duckdb")
    load_plant(raw, L1, published=True)
    asset = {"company_id": "c1"}
    raw.load(
        "assets",
        [
            {**asset, "id": "P1", "name": "Bearing", "parent_id": "M2"}
            | {"sensors": ' [ "S9", "S10" ] '},
            {**asset, "id": "P2", "name": "Fan", "location_id": "L1"}
            | {"sensors": '["S11"]', "sensor_type": "vibration", "sensor_id": "OWN"},
            {**asset, "id": "Q1", "name": "Pump", "location_id": "L1", "sensors": "[ ]"},
            {**asset, "id": "Q2", "name": "Valve", "location_id": "L1", "sensors": '["S12"'},
            {**asset, "id": "X4", "name": "Nowhere", "location_id": "NOWHERE", "sensors": "[]"},
        ],
        L1,
    )
    raw.load(
        "asset_sensor_types",
        [detection("P2", "energy"), detection("GHOST", "vibration"), detection("X4", "energy")],
        L1,
    )
    run(raw)
    return raw


def _sensor_columns(raw: RawWarehouse) -> dict[str, tuple]:
    return {
        r["asset_id"]: (r["kind"], r["sensor_type"], r["sensor_type_source"], r["sensor_id"])
        for r in records(raw.path, "SELECT * FROM clean.dim_asset")
    }


def test_published_api_sensor_types_come_from_what_the_connector_detected(published):
    assets = _sensor_columns(published)
    assert assets["V1"] == ("component", "vibration", "probe", "S1")
    assert assets["E1"] == ("component", "energy", "probe", "S4")
    assert assets["M1"] == ("asset", None, None, None)


def test_a_non_empty_sensors_list_makes_a_component_even_without_a_type(published):
    assets = _sensor_columns(published)
    assert assets["P1"] == ("component", None, None, "S9")
    assert assets["Q1"] == ("asset", None, None, None)


def test_a_malformed_sensors_list_counts_as_empty(published):
    assert _sensor_columns(published)["Q2"] == ("asset", None, None, None)


def test_the_assets_own_sensor_type_and_id_win_over_the_detected_ones(published):
    assert _sensor_columns(published)["P2"] == ("component", "vibration", "asset", "OWN")


def test_the_integration_profiles_sensor_type_is_the_assets_own(plant):
    assets = _sensor_columns(plant)
    assert assets["V1"] == ("component", "vibration", "asset", "S1")
    assert assets["F1"] == ("asset", None, None, None)


def test_detections_of_assets_not_in_dim_asset_are_quarantined(published):
    rows = records(
        published.path,
        "SELECT asset_id, sensor_type, rule FROM quarantine.asset_sensor_types ORDER BY 1",
    )
    assert rows == [
        {"asset_id": "GHOST", "sensor_type": "vibration", "rule": "unknown_asset"},
        {"asset_id": "X4", "sensor_type": "energy", "rule": "unknown_asset"},
    ]


def test_a_company_without_a_name_is_kept(published):
    companies = records(published.path, "SELECT company_id, name FROM clean.dim_company")
    assert companies == [{"company_id": "c1", "name": None}]


def _demo_rows(published: bool) -> tuple[list[dict], ...]:
    """companies, locations, assets, asset_sensor_types from the demo dump, as the
    integration profile serves them or as the published API and the connector's probes
    give them (no sensor fields but the `sensors` list, no company names)."""
    path = resources.files("simulator") / "data" / "tractian-demo-api.json"
    dump = json.loads(path.read_text())
    companies = [
        {"id": c["id"], "name": None if published else c["name"]} for c in dump["companies"]
    ]
    locations, assets, detected = [], [], []
    for company in companies:
        tree = dump[company["id"]]
        for loc in tree["locations"]:
            locations.append(
                {
                    "id": loc["id"],
                    "company_id": company["id"],
                    "name": loc["name"],
                    "parent_id": loc["parentId"],
                }
            )
        for a in tree["assets"]:
            asset = {
                "id": a["id"],
                "company_id": company["id"],
                "name": a["name"],
                "location_id": a["locationId"],
                "parent_id": a["parentId"],
            }
            if not published:
                asset |= {
                    "sensor_id": a.get("sensorId"),
                    "sensor_type": a.get("sensorType"),
                    "gateway_id": a.get("gatewayId"),
                    "status": a.get("status"),
                }
            elif a.get("sensorId"):
                asset["sensors"] = json.dumps([a["sensorId"]])
                detected.append(
                    {
                        "asset_id": a["id"],
                        "company_id": company["id"],
                        "sensor_type": a["sensorType"],
                        "detected_by": "probe",
                    }
                )
            else:
                asset["sensors"] = "[]"
            assets.append(asset)
    return companies, locations, assets, detected


@pytest.mark.parametrize("published", [False, True], ids=["integration", "published"])
def test_paths_of_real_assets_from_the_demo_dump(raw, published):
    companies, locations, assets, detected = _demo_rows(published)
    raw.load("companies", companies, L1)
    raw.load("locations", locations, L1)
    raw.load("assets", assets, L1)
    if detected:
        raw.load("asset_sensor_types", detected, L1)
    report = run(raw)
    assert report.rows["clean.dim_location"] == 3834
    assert report.rows["clean.dim_asset"] == 14709
    assert "assets" not in report.quarantined
    assert "locations" not in report.quarantined
    assert "asset_sensor_types" not in report.quarantined
    got = _by_id(raw, "clean.dim_asset", "asset_id")
    expected = {
        "656a07cdc50ec9001e84167b": (
            "PRODUCTION AREA - RAW MATERIAL / CHARCOAL STORAGE SECTOR / CONVEYOR BELT ASSEMBLY"
            " / MOTOR TC01 COAL UNLOADING AF02 / MOTOR RT COAL AF01",
            4,
            "656a07b3f2d4a1001e2144bf",
        ),
        "6567340c1f4664001f29622e": (
            "Machinery house / Motors H12D / Motor H12D- Stage 1",
            2,
            "656733b1664c41001e91d9ed",
        ),
        "656734821f4664001f296973": ("Fan - External", 0, None),
        "6a9b477aa2555c0067916bbd": (
            "Distillery Unit 1 / Processing Unit 1 / Asset 27",
            2,
            "6a9b31a1b62cbf0062dd8a89",
        ),
        "60fc712595ad84001e95b4dc": (
            "Location 1 / Location 184 / Location 46 / Location 48 / Location 3729"
            " / Location 2660 / Sensor 6 - vibration",
            6,
            "60fc711b9299ff001e4c7c68",
        ),
    }
    for asset_id, (path, depth, location) in expected.items():
        row = got[asset_id]
        assert (row["path"], row["depth"], row["location_id"]) == (path, depth, location)
    assert got["6a9b477aa2555c0067916bbd"]["name"] == "Asset 27 "
    assert sum(1 for r in got.values() if r["kind"] == "component") == 284
    fan, motor = got["656734821f4664001f296973"], got["656a07cdc50ec9001e84167b"]
    assert (fan["sensor_type"], fan["sensor_id"]) == ("energy", "MTC052")
    assert (motor["sensor_type"], motor["sensor_id"]) == ("vibration", "FIJ309")
