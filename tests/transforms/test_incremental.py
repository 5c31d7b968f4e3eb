"""An incremental run after a sync with late data and edits equals a full rebuild, and
every raw row ends in exactly one place: its clean table or its quarantine."""

import json
import shutil

import duckdb
import pytest

from tests.transforms.conftest import assert_same_rows, records, run
from tests.transforms.plant import COMPANY, detection, interval_row, load_plant
from tests.transforms.rawdb import RawWarehouse, load_id_at, ts
from transforms.models import MODELS
from transforms.raw import RAW_TABLES
from transforms.warehouse.duckdb_io import RawTableError

FIRST = load_id_at("2024-03-03 06:00")
SECOND = load_id_at("2024-03-04 06:00")


def vib(asset: str, at: str, velocity: float = 1.0, **extra) -> dict:
    return {
        "company_id": COMPANY,
        "asset_id": asset,
        "sampled_at": ts(at),
        "powered": True,
        "vel_rms_x": velocity,
        "temperature": 40.0,
    } | extra


def energy(at: str, **extra) -> dict:
    return {
        "company_id": COMPANY,
        "asset_id": "E1",
        "quantity": "current",
        "sampled_at": ts(at),
        "average_a": 10.0,
    } | extra


def work_order(status: str, intervals: list[dict]) -> dict:
    return {
        "id": "W1",
        "company_id": COMPANY,
        "asset_id": "V1",
        "status": status,
        "category_ids": json.dumps(["K-cor"]),
        "created_at": ts("2024-03-01 06:00"),
        "elapsed_intervals": json.dumps(intervals),
        "is_deleted": False,
    }


def first_sync(raw: RawWarehouse) -> None:
    load_plant(raw, FIRST)
    raw.load(
        "work_order_categories",
        [{"id": "K-cor", "company_id": COMPANY, "name": "Corrective"}],
        FIRST,
    )
    raw.load(
        "vibration_samples",
        [
            *(vib("V1", f"2024-03-01 {h:02d}:00") for h in range(0, 24, 2)),
            *(vib("V1", f"2024-03-02 {h:02d}:00") for h in range(0, 24, 2)),
            *(vib("V3", f"2024-03-01 {h:02d}:00", 2.0) for h in range(24)),
            vib("V3", "2024-03-01 12:30", -1.0),
            vib("V9", "2024-03-01 10:00", 3.0),
            vib("V9", "2024-03-02 10:00", 3.0),
        ],
        FIRST,
    )
    raw.load(
        "vibration_samples",
        [vib("V1", "2024-03-02 04:00", 7.0, connection_name="b")],
        load_id_at("2024-03-03 05:00"),
    )
    raw.load(
        "energy_samples",
        [energy(f"2024-03-01 {h:02d}:00") for h in range(24)]
        + [energy("2024-03-01 10:00", asset_id="E9")]
        + [energy("2024-03-01 10:00", quantity="reactive-power", average_a=-500.0)],
        FIRST,
    )
    raw.load(
        "energy_demand",
        [
            interval_row("2024-03-01 00:00", demand=10.0),
            interval_row("2024-03-01 00:15", demand=-1.0),
            interval_row("2024-03-01 10:00", asset="E9", demand=5.0),
        ],
        FIRST,
    )
    raw.load(
        "energy_cost",
        [
            interval_row("2024-03-01 00:00", cost=1.0),
            interval_row("2024-03-05 00:00", True, cost=1.2),
        ],
        FIRST,
    )
    raw.load(
        "asset_sensor_types",
        [
            detection("E1", "energy", "asset"),
            detection("V9", "vibration"),
            detection("GHOST", "energy"),
        ],
        FIRST,
    )
    raw.load("work_orders", [work_order("inProgress", [])], FIRST)
    raw.load(
        "insights",
        [
            {
                "id": "I1",
                "company_id": COMPANY,
                "asset_id": "V1",
                "status": "pending",
                "created_at": ts("2024-03-01 10:00"),
            }
        ],
        FIRST,
    )


def second_sync(raw: RawWarehouse) -> None:
    """Late samples for 03-01, an edited sample of 03-02, a new day, new assets (V9 and E9,
    whose samples and detected sensor type were quarantined), a new day of demand, an
    edited cost, an edited work order and a checked insight."""
    raw.load(
        "vibration_samples",
        [
            vib("V1", "2024-03-01 01:00"),
            vib("V1", "2024-03-01 03:00"),
            vib("V1", "2024-03-02 10:00", 4.6),
            *(vib("V1", f"2024-03-04 {h:02d}:00") for h in range(6)),
        ],
        SECOND,
    )
    raw.load(
        "assets",
        [
            {
                "id": "V9",
                "company_id": COMPANY,
                "name": "New bearing",
                "parent_id": "M2",
                "sensor_type": "vibration",
                "sensor_id": "S9",
            },
            {
                "id": "E9",
                "company_id": COMPANY,
                "name": "New panel",
                "location_id": "L1",
                "sensor_type": "energy",
                "sensor_id": "S10",
            },
        ],
        SECOND,
    )
    raw.load("energy_samples", [energy(f"2024-03-04 0{h}:00") for h in range(6)], SECOND)
    raw.load("energy_demand", [interval_row("2024-03-04 00:00", demand=11.0)], SECOND)
    raw.load("energy_cost", [interval_row("2024-03-01 00:00", cost=1.5)], SECOND)
    interval = {
        "startedAt": "2024-03-01T08:00:00.000Z",
        "endedAt": "2024-03-01T10:00:00.000Z",
        "status": "inProgress",
        "durationInSeconds": 7200,
    }
    raw.load("work_orders", [work_order("done", [interval])], SECOND)
    raw.load(
        "insights",
        [
            {
                "id": "I1",
                "company_id": COMPANY,
                "asset_id": "V1",
                "status": "checked",
                "created_at": ts("2024-03-01 10:00"),
                "updated_at": ts("2024-03-03 12:00"),
            }
        ],
        SECOND,
    )


@pytest.fixture(scope="module")
def synced(tmp_path_factory):
    folder = tmp_path_factory.mktemp("incremental")
    raw = RawWarehouse(folder / "incremental.duckdb")
    first_sync(raw)
    first = run(raw)
    before = records(
        raw.path, "SELECT quarantined_at FROM quarantine.vibration_samples WHERE asset_id = 'V3'"
    )
    second_sync(raw)
    second = run(raw)
    rebuilt = RawWarehouse(folder / "full.duckdb")
    shutil.copyfile(raw.path, rebuilt.path)
    full = run(rebuilt, full=True)
    return raw, rebuilt, first, second, full, before


def _tables(db) -> list[str]:
    rows = records(
        db,
        "SELECT schema_name || '.' || table_name AS t FROM duckdb_tables() "
        "WHERE schema_name IN ('clean', 'marts', 'quarantine') "
        "AND table_name NOT LIKE '\\_%' ESCAPE '\\'",
    )
    return sorted(r["t"] for r in rows)


def test_incremental_run_equals_full_rebuild(synced):
    incremental, full = synced[0], synced[1]
    tables = _tables(incremental.path)
    assert tables == sorted(MODELS)
    assert_same_rows(incremental.path, full.path, tables)


def test_the_second_run_rebuilt_only_the_touched_partitions(synced):
    _, _, first, second, full, _ = synced
    assert first.full
    assert full.full
    assert not second.full
    assert second.new_loads == 1
    # vibration: (V1, 03-01), (V1, 03-02), (V1, 03-04) from the load, (V9, 03-01) and
    # (V9, 03-02) because V9 joined dim_asset; energy: (E1, 03-04) from the load and
    # (E9, 03-01) because E9 joined dim_asset; demand: (E1, 03-04) from the load and
    # (E9, 03-01) because E9 joined; cost: (E1, 03-01) from the load.
    assert second.rebuilt_partitions == 10


def test_an_untouched_partition_keeps_its_rows(synced):
    incremental, _, _, _, _, before = synced
    after = records(
        incremental.path,
        "SELECT quarantined_at FROM quarantine.vibration_samples WHERE asset_id = 'V3'",
    )
    assert after == before
    assert len(after) == 1


def test_late_edited_and_released_rows_are_in_the_clean_tables(synced):
    incremental = synced[0]
    v1 = records(
        incremental.path,
        "SELECT count(*) AS n FROM clean.fct_vibration "
        "WHERE asset_id = 'V1' AND sampled_at < '2024-03-02'",
    )
    assert v1 == [{"n": 14}]
    edited = records(
        incremental.path,
        "SELECT vel_rms_x_mm_s, iso_zone FROM clean.fct_vibration "
        "WHERE asset_id = 'V1' AND sampled_at = '2024-03-02 10:00:00+00'",
    )
    assert edited == [{"vel_rms_x_mm_s": 4.6, "iso_zone": "D"}]
    v9 = records(
        incremental.path, "SELECT count(*) AS n FROM clean.fct_vibration WHERE asset_id = 'V9'"
    )
    assert v9 == [{"n": 2}]
    assert (
        records(
            incremental.path, "SELECT * FROM quarantine.vibration_samples WHERE asset_id = 'V9'"
        )
        == []
    )
    e9 = records(
        incremental.path, "SELECT count(*) AS n FROM clean.fct_energy WHERE asset_id = 'E9'"
    )
    assert e9 == [{"n": 3}]
    older_copy = records(
        incremental.path,
        "SELECT vel_rms_x_mm_s FROM clean.fct_vibration WHERE "
        "asset_id = 'V1' AND sampled_at = '2024-03-02 04:00:00+00'",
    )
    assert older_copy == [{"vel_rms_x_mm_s": 1.0}]
    demand = records(
        incremental.path,
        "SELECT asset_id, strftime(sampled_at, '%m-%d %H:%M') AS t, demand_kw "
        "FROM clean.fct_energy_demand ORDER BY asset_id, t",
    )
    assert demand == [
        {"asset_id": "E1", "t": "03-01 00:00", "demand_kw": 10.0},
        {"asset_id": "E1", "t": "03-04 00:00", "demand_kw": 11.0},
        {"asset_id": "E9", "t": "03-01 10:00", "demand_kw": 5.0},
    ]
    cost = records(
        incremental.path, "SELECT cost, is_forecast FROM clean.fct_energy_cost ORDER BY sampled_at"
    )
    assert cost == [{"cost": 1.5, "is_forecast": False}, {"cost": 1.2, "is_forecast": True}]
    sensor = records(
        incremental.path,
        "SELECT sensor_type, sensor_type_source FROM clean.dim_asset WHERE asset_id = 'V9'",
    )
    assert sensor == [{"sensor_type": "vibration", "sensor_type_source": "asset"}]
    order = records(incremental.path, "SELECT status, repair_hours FROM clean.fct_work_order")
    assert order == [{"status": "done", "repair_hours": 2.0}]


def _keys(db, table: str, key: tuple[str, ...]) -> set[tuple]:
    columns = ", ".join(key)
    return {tuple(r.values()) for r in records(db, f"SELECT DISTINCT {columns} FROM {table}")}


CLEAN_KEYS = {
    "companies": ("clean.dim_company", ("company_id",)),
    "locations": ("clean.dim_location", ("location_id",)),
    "assets": ("clean.dim_asset", ("asset_id",)),
    "vibration_samples": ("clean.fct_vibration", ("asset_id", "sampled_at")),
    "rpm_samples": ("clean.fct_rpm", ("asset_id", "sampled_at")),
    # Clean quantities are the raw ones in snake_case.
    "energy_samples": (
        "clean.fct_energy",
        ("asset_id", "replace(quantity, '_', '-')", "sampled_at"),
    ),
    "energy_consumption": ("clean.fct_energy_consumption", ("asset_id", "sampled_at")),
    "energy_demand": ("clean.fct_energy_demand", ("asset_id", "sampled_at")),
    "energy_cost": ("clean.fct_energy_cost", ("asset_id", "sampled_at")),
    "asset_sensor_types": ("clean.dim_asset", ("asset_id",)),
    "insights": ("clean.fct_insight", ("insight_id",)),
    "events": ("clean.fct_event", ("event_id",)),
    "work_orders": ("clean.fct_work_order", ("work_order_id",)),
    "work_order_priorities": ("clean.dim_work_order_priority", ("priority_id",)),
    "work_order_categories": ("clean.dim_work_order_category", ("category_id",)),
}


def test_every_raw_key_is_either_clean_or_quarantined(synced):
    db = synced[0].path
    assert set(CLEAN_KEYS) == set(RAW_TABLES)
    present = {
        r["table_name"]
        for r in records(
            db, "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'tractian_raw'"
        )
    }
    for name, (clean, clean_key) in CLEAN_KEYS.items():
        key = RAW_TABLES[name].business_key
        raw_keys = _keys(db, f"tractian_raw.{name}", key) if name in present else set()
        clean_keys = _keys(db, clean, clean_key)
        quarantined = _keys(db, f"quarantine.{name}", key)
        assert not clean_keys & quarantined, name
        if clean == "clean.dim_asset" and name != "assets":
            # A detected sensor type is a column of its asset's row; not every asset has one.
            assert raw_keys <= clean_keys | quarantined, name
            assert raw_keys & quarantined == quarantined, name
        else:
            assert raw_keys == clean_keys | quarantined, name
    detections = records(db, "SELECT asset_id, rule FROM quarantine.asset_sensor_types")
    assert detections == [{"asset_id": "GHOST", "rule": "unknown_asset"}]


def test_a_changed_iso_configuration_rezones_only_that_machines_samples(raw, tmp_path):
    load_plant(raw, FIRST)
    raw.load(
        "vibration_samples",
        [vib("V1", "2024-03-01 10:00", 2.0), vib("V3", "2024-03-01 10:00", 2.0)],
        FIRST,
    )
    run(raw)
    config = tmp_path / "iso.csv"
    config.write_text("asset_id,machine_group,foundation\nM1,1,rigid\n")
    report = run(raw, iso_config=config)
    assert not report.up_to_date
    assert report.new_loads == 0
    assert report.rebuilt_partitions == 1  # (V1, 03-01): V2 under M1 has no samples
    assert report.recomputed_mart_rows is None  # ISO classes changed: every daily mart row
    zones = records(raw.path, "SELECT asset_id, iso_zone FROM clean.fct_vibration ORDER BY 1")
    assert zones == [{"asset_id": "V1", "iso_zone": "A"}, {"asset_id": "V3", "iso_zone": "B"}]
    assert run(raw, iso_config=config).up_to_date


def test_tables_with_an_outdated_layout_are_rebuilt_in_full(raw):
    load_plant(raw, FIRST)
    run(raw)
    conn = duckdb.connect(str(raw.path))
    conn.execute("ALTER TABLE clean.fct_rpm DROP COLUMN sample_id")
    conn.close()
    report = run(raw)
    assert report.full
    assert not report.up_to_date
    columns = records(
        raw.path,
        "SELECT column_name FROM duckdb_columns() "
        "WHERE table_name = 'fct_rpm' AND column_name = 'sample_id'",
    )
    assert columns == [{"column_name": "sample_id"}]


def test_a_failed_run_leaves_the_previous_state_and_no_stage_tables(raw):
    load_plant(raw, FIRST)
    raw.load("vibration_samples", [vib("V1", "2024-03-01 10:00")], FIRST)
    run(raw)
    conn = duckdb.connect(str(raw.path))  # a loader bug: rpm stored as text
    conn.execute(
        "CREATE TABLE tractian_raw.rpm_samples (connection_name VARCHAR, company_id VARCHAR, "
        "asset_id VARCHAR, sampled_at TIMESTAMPTZ, sample_id VARCHAR, rpm VARCHAR, "
        "_dlt_load_id VARCHAR)"
    )
    conn.execute(
        "INSERT INTO tractian_raw.rpm_samples VALUES "
        f"('main', 'c1', 'V1', '2024-03-01 10:00:00+00', 's1', 'fast', '{SECOND}')"
    )
    conn.close()
    raw.load("vibration_samples", [vib("V1", "2024-03-01 11:00")], SECOND)
    with pytest.raises(RawTableError, match=r"tractian_raw\.rpm_samples"):
        run(raw, full=True)
    assert records(raw.path, "SELECT max(run_id) AS r FROM clean._transform_runs") == [{"r": 1}]
    assert records(raw.path, "SELECT count(*) AS n FROM clean.fct_vibration") == [{"n": 1}]
    stages = records(
        raw.path,
        "SELECT table_name FROM duckdb_tables() WHERE table_name LIKE '%\\_\\_stage' ESCAPE '\\'",
    )
    assert stages == []
