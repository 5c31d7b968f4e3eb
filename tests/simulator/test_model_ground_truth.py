"""Ground truth against the World's served bodies: schemas, row counts and values agree
along two independent paths (model arrays -> Arrow, and served JSON -> parsed)."""

from datetime import UTC, datetime

import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from simulator.ground_truth import ground_truth
from simulator.world import SimConfig, World
from sources.raw_schema import RAW_TABLES
from tests.simulator.model_support import DAY, HOUR, START_MS, demo_dump, ms, shared_world

WINDOW_START = START_MS - 3 * DAY
QUANTITIES = ("current", "voltage", "active-power", "power-factor", "reactive-power")
SERIES = {"energy_consumption": "consumption", "energy_demand": "demand", "energy_cost": "cost"}
# Asset columns only the integration profile fills (the demo dump's fields).
UNPUBLISHED_COLUMNS = ("sensor_id", "sensor_type", "gateway_id", "status")


def _served(body: dict | None) -> dict | None:
    """A served body as the client sees it: serialised, then parsed."""
    return (
        None
        if body is None
        else orjson.loads(orjson.dumps(body, option=orjson.OPT_SERIALIZE_NUMPY))
    )


@pytest.fixture(scope="module")
def small():
    """Jaguar and Tobias over three days, as of the start clock."""
    world = shared_world()
    companies = [c["id"] for c in world.companies[:2]]
    return world, companies, ground_truth(world, companies, WINDOW_START, START_MS)


def _rows(table: pa.Table, asset_id: str, **equal: str) -> list[dict]:
    wanted = pc.field("asset_id") == asset_id
    for column, value in equal.items():
        wanted &= pc.field(column) == value
    return table.filter(wanted).to_pylist()


def test_every_table_has_the_raw_schema_minus_connection_name(small):
    _, _, gt = small
    assert list(gt) == list(RAW_TABLES)
    for name, table in gt.items():
        expected = [f for f in RAW_TABLES[name].schema if f.name != "connection_name"]
        assert list(table.schema) == expected, name


def test_telemetry_row_counts_agree_with_the_served_windows(small):
    world, companies, gt = small
    counts = dict.fromkeys(("vibration_samples", "rpm_samples", "energy_samples", *SERIES), 0)
    for c in world.components(companies):
        # Two windows instead of GT's one: the split must not matter.
        for start, end in ((WINDOW_START, START_MS - DAY), (START_MS - DAY, START_MS)):
            if c.sensor_type == "vibration":
                reads = {
                    "vibration_samples": [world.vibration(c.id, start, end, START_MS)],
                    "rpm_samples": [world.rotation(c.id, start, end, START_MS)],
                }
            else:
                reads = {
                    "energy_samples": [
                        world.energy(c.id, q, start, end, START_MS) for q in QUANTITIES
                    ],
                    "energy_consumption": [world.consumption(c.id, start, end, START_MS)],
                    "energy_demand": [world.demand(c.id, start, end, START_MS)],
                    "energy_cost": [world.cost(c.id, start, end, START_MS)],
                }
            for table, bodies in reads.items():
                counts[table] += sum(len(b["sampledAt"]) for b in bodies if b is not None)
    for table, count in counts.items():
        assert gt[table].num_rows == count, table
        assert count > 0


def test_vibration_and_rpm_values_equal_the_served_json(small):
    world, companies, gt = small
    c = next(c for c in world.components(companies) if c.sensor_type == "vibration")
    body = _served(world.vibration(c.id, WINDOW_START, START_MS, START_MS))
    rows = _rows(gt["vibration_samples"], c.id)
    assert [r["sampled_at"] for r in rows] == [_dt(t) for t in body["sampledAt"]]
    assert [r["temperature"] for r in rows] == body["temperature"]
    assert [r["powered"] for r in rows] == body["powered"]
    camel = {
        "peak_to_peak": "peakToPeak",
        "crest_factor": "crestFactor",
        "crest_factor_db": "crestFactorDb",
    }
    for family in ("accel", "vel"):
        for measure in ("rms", "peak", "peak_to_peak", "crest_factor", "crest_factor_db"):
            for axis in "xyz":
                served = body[family][camel.get(measure, measure)][axis]
                assert [r[f"{family}_{measure}_{axis}"] for r in rows] == served
    rotation = _served(world.rotation(c.id, WINDOW_START, START_MS, START_MS))
    rpm_rows = _rows(gt["rpm_samples"], c.id)
    assert [r["sample_id"] for r in rpm_rows] == rotation["id"]
    assert [r["rpm"] for r in rpm_rows] == rotation["rpm"]
    assert all(r["company_id"] == c.company_id for r in rows + rpm_rows)


def test_energy_values_equal_the_served_json_with_other_phases_null(small):
    world, companies, gt = small
    c = next(c for c in world.components(companies) if c.sensor_type == "energy")
    for quantity in QUANTITIES:
        body = _served(world.energy(c.id, quantity, WINDOW_START, START_MS, START_MS))
        rows = _rows(gt["energy_samples"], c.id, quantity=quantity)
        assert [r["sampled_at"] for r in rows] == [_dt(t) for t in body["sampledAt"]]
        own = set(body["average"])
        for stat in ("average", "minimum", "maximum"):
            for phase in ("a", "b", "c", "ab", "bc", "ac"):
                column = [r[f"{stat}_{phase}"] for r in rows]
                assert column == (body[stat][phase] if phase in own else [None] * len(rows))
    body = _served(world.consumption(c.id, WINDOW_START, START_MS, START_MS))
    rows = _rows(gt["energy_consumption"], c.id)
    assert [r["consumption"] for r in rows] == body["consumption"]
    assert [r["accumulated_consumption"] for r in rows] == body["accumulatedConsumption"]
    assert [r["forecast"] for r in rows] == body["forecast"]
    for table, read in (("energy_demand", world.demand), ("energy_cost", world.cost)):
        body = _served(read(c.id, WINDOW_START, START_MS, START_MS))
        rows = _rows(gt[table], c.id)
        assert [r["sampled_at"] for r in rows] == [_dt(t) for t in body["sampledAt"]]
        assert [r[SERIES[table]] for r in rows] == body[SERIES[table]]
        assert [r["forecast"] for r in rows] == body["forecast"]
        assert all(r["company_id"] == c.company_id for r in rows)


def test_records_match_the_listings_filtered_by_their_windows(small):
    world, companies, gt = small
    expected_insights, expected_events, expected_wos = {}, set(), {}
    for cid in companies:
        for i in world.insights(cid, START_MS):
            if WINDOW_START <= ms(i["createdAt"]) < START_MS:
                expected_insights[i["id"]] = world.insight_detail(i["id"], START_MS)
        expected_events |= {
            e["id"]
            for e in world.events(cid, START_MS)
            if WINDOW_START <= ms(e["createdAt"]) < START_MS
        }
        for w in world.work_orders(cid, START_MS):
            if WINDOW_START <= ms(w["updatedAt"]) < START_MS:
                expected_wos[w["id"]] = w
    insights = {r["id"]: r for r in gt["insights"].to_pylist()}
    assert set(insights) == set(expected_insights)
    for iid, detail in expected_insights.items():
        assert (insights[iid]["status"], insights[iid]["fix_status"]) == (
            detail["status"],
            detail["fixStatus"],
        )
        assert insights[iid]["updated_at"] == _dt(detail["updatedAt"])
    assert set(gt["events"].column("id").to_pylist()) == expected_events
    wos = {r["id"]: r for r in gt["work_orders"].to_pylist()}
    assert set(wos) == set(expected_wos)
    assert expected_wos
    for wid, w in expected_wos.items():
        row = wos[wid]
        assert row["elapsed_intervals"] == orjson.dumps(w["elapsedIntervals"]).decode()
        assert row["category_ids"] == orjson.dumps(w["categoryIds"]).decode()
        assert row["is_deleted"] == w["deleted"]["value"]
        assert row["total_cost"] == w["totalCost"]["total"]
        assert row["due_date"] == _dt(w["dueDate"])


def _dumped_assets(companies):
    return {a["id"]: a for cid in companies for a in demo_dump()[cid]["assets"]}


def test_catalog_tables_hold_the_current_snapshot(small):
    world, companies, gt = small
    assert gt["companies"].column("name").to_pylist() == ["Jaguar", "Tobias"]
    assert gt["locations"].num_rows == sum(len(world.locations(c)) for c in companies)
    assets = gt["assets"].to_pylist()
    assert len(assets) == 9 + 83
    dumped = _dumped_assets(companies)
    for row in assets:
        assert (
            row["sensors"] == orjson.dumps([row["sensor_id"]] if row["sensor_id"] else []).decode()
        )
        assert row["sensor_type"] == dumped[row["id"]].get("sensorType")
        assert row["gateway_id"] == dumped[row["id"]].get("gatewayId")
        assert row["missing_since"] is None
    assert gt["work_order_priorities"].num_rows == 8
    assert gt["work_order_categories"].num_rows == 6


def _dump_components(companies):
    return {
        a["id"]: (cid, a["sensorType"])
        for cid in companies
        for a in demo_dump()[cid]["assets"]
        if a.get("sensorType")
    }


@pytest.fixture(scope="module")
def public_small(small):
    world, companies, _ = small
    return ground_truth(world, companies, WINDOW_START, START_MS, profile="public")


@pytest.mark.parametrize(
    ("profile", "detected_by"), [("integration", "asset"), ("public", "probe")]
)
def test_asset_sensor_types_are_the_components_the_asset_or_a_probe_told(
    small, public_small, profile, detected_by
):
    _, companies, gt = small
    truth = public_small if profile == "public" else gt
    rows = truth["asset_sensor_types"].to_pylist()
    assert {r["asset_id"]: (r["company_id"], r["sensor_type"]) for r in rows} == (
        _dump_components(companies)
    )
    assert len(rows) == len(_dump_components(companies))
    assert {r["detected_by"] for r in rows} == {detected_by}


def test_public_ground_truth_knows_no_company_names_nor_asset_sensor_fields(small, public_small):
    _, companies, gt = small
    assert public_small["companies"].to_pylist() == [{"id": c, "name": None} for c in companies]
    for column in UNPUBLISHED_COLUMNS:
        assert public_small["assets"].column(column).null_count == public_small["assets"].num_rows
    dumped = _dumped_assets(companies)
    for row in public_small["assets"].to_pylist():
        sensor = dumped[row["id"]].get("sensorId")
        assert row["sensors"] == orjson.dumps([sensor] if sensor else []).decode()
    keep = [c for c in gt["assets"].column_names if c not in UNPUBLISHED_COLUMNS]
    assert public_small["assets"].select(keep).equals(gt["assets"].select(keep))


def test_telemetry_and_records_do_not_depend_on_the_profile(small, public_small):
    _, _, gt = small
    same = set(RAW_TABLES) - {"companies", "assets", "asset_sensor_types"}
    for name in same:
        assert public_small[name].equals(gt[name]), name


def test_an_unknown_profile_is_refused():
    with pytest.raises(ValueError, match="partner"):
        ground_truth(shared_world(), [], START_MS - DAY, START_MS, profile="partner")


def test_late_samples_join_the_ground_truth_after_the_reconnect():
    world = shared_world()
    for c in world.components():
        spans = world.gateway_outages(c.gateway_id, START_MS - 2 * DAY, START_MS - DAY)
        if spans and spans[0][0] > START_MS - 2 * DAY:
            s, e = spans[0]
            break
    else:
        raise AssertionError("no outage starting two days before the start clock")
    table = "vibration_samples" if c.sensor_type == "vibration" else "energy_consumption"
    during = ground_truth(world, [c.company_id], START_MS - 3 * DAY, e - 1)[table]
    after = ground_truth(world, [c.company_id], START_MS - 3 * DAY, e)[table]
    mine = [r["sampled_at"] for r in after.to_pylist() if r["asset_id"] == c.id]
    seen = [r["sampled_at"] for r in during.to_pylist() if r["asset_id"] == c.id]
    offline = [t for t in mine if _ms(s) <= t < _ms(e)]
    assert offline
    assert not [t for t in seen if _ms(s) <= t < _ms(e)]
    assert after.num_rows >= during.num_rows + len(offline)


def test_a_probe_cannot_find_a_component_whose_gateway_is_offline_through_the_range():
    world = shared_world()
    for c in world.components():
        spans = world.gateway_outages(c.gateway_id, START_MS - 2 * DAY, START_MS - DAY)
        if spans and spans[0][1] - spans[0][0] > HOUR:
            s, e = spans[0]
            break
    else:
        raise AssertionError("no outage of more than an hour two days before the start clock")

    def known(as_of: int, profile: str) -> bool:
        truth = ground_truth(world, [c.company_id], s, as_of, profile=profile)
        return c.id in truth["asset_sensor_types"].column("asset_id").to_pylist()

    assert not known(e - 1, "public")  # every sample of [s, e - 1) is still held back
    assert known(e - 1, "integration")  # the asset itself says
    assert known(e, "public")  # the reconnect delivers them


def test_removed_assets_leave_the_ground_truth():
    world = World(SimConfig(), START_MS)
    jaguar = world.companies[0]["id"]
    c = next(c for c in world.components([jaguar]) if c.sensor_type == "vibration")
    world.remove_asset(c.id)
    gt = ground_truth(world, [jaguar], START_MS - HOUR * 6, START_MS)
    assert c.id not in gt["assets"].column("id").to_pylist()
    assert c.id not in gt["vibration_samples"].column("asset_id").to_pylist()
    assert c.id not in gt["asset_sensor_types"].column("asset_id").to_pylist()
    assert gt["assets"].num_rows == 8


def _dt(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _ms(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1000, UTC)


def test_a_record_created_exactly_at_as_of_is_not_yet_synced():
    world = shared_world()
    tobias = world.companies[1]["id"]
    event = world.events(tobias, START_MS)[-1]
    created = ms(event["createdAt"])
    at = ground_truth(world, [tobias], created - DAY, created)["events"]
    just_after = ground_truth(world, [tobias], created - DAY, created + 1)["events"]
    assert event["id"] not in at.column("id").to_pylist()
    assert event["id"] in just_after.column("id").to_pylist()
