"""An incremental run rebuilds the dimensions and maintenance records only when their
inputs changed: a new load holding rows of a raw table that is not telemetry (the
hourly catalog sync), or the configuration. After a telemetry-only sync (every 15
minutes) it leaves them as they are, and still equals a full rebuild."""

import shutil

from tests.transforms.conftest import assert_same_rows, records, run
from tests.transforms.plant import COMPANY, detection, load_plant
from tests.transforms.rawdb import RawWarehouse, load_id_at, ts
from transforms.models import MODELS
from transforms.warehouse.read_copy import default_read_copy

FIRST = load_id_at("2024-03-03 06:00")
SECOND = load_id_at("2024-03-03 06:15")


def vib(asset: str, at: str) -> dict:
    return {
        "company_id": COMPANY,
        "asset_id": asset,
        "sampled_at": ts(at),
        "powered": True,
        "vel_rms_x": 1.0,
    }


def first_sync(raw: RawWarehouse, *, published: bool = False) -> None:
    """The plant, a location whose parent is unknown (quarantined), one sample."""
    load_plant(raw, FIRST, published=published)
    orphan = {"id": "L9", "company_id": COMPANY, "name": "Annex", "parent_id": "L404"}
    raw.load("locations", [orphan], FIRST)
    raw.load("vibration_samples", [vib("V1", "2024-03-03 05:00")], FIRST)
    run(raw, full=True, publish=True)


def _stamps(raw: RawWarehouse) -> list[dict]:
    return records(raw.path, "SELECT id, quarantined_at FROM quarantine.locations")


def _equals_a_full_rebuild(raw: RawWarehouse, tmp_path) -> None:
    rebuilt = tmp_path / "rebuilt.duckdb"
    shutil.copyfile(raw.path, rebuilt)
    run(RawWarehouse(rebuilt), full=True)
    assert_same_rows(raw.path, rebuilt, list(MODELS))


def test_a_telemetry_only_load_leaves_the_whole_tables_as_they_were(raw, tmp_path):
    first_sync(raw)
    stamped = _stamps(raw)
    assert [row["id"] for row in stamped] == ["L9"]
    raw.load("vibration_samples", [vib("V1", "2024-03-03 06:00")], SECOND)
    published = default_read_copy(raw.path)
    last_run = "SELECT max(run_id) AS run FROM clean._transform_runs"
    assert records(published, last_run) == [{"run": 1}]  # the copy is updated, not rebuilt
    report = run(raw, publish=True)
    assert report.whole_tables_kept
    assert "dimensions and records unchanged" in report.summary()
    # A rebuilt quarantine would hold this run's time: the table was not rewritten.
    assert _stamps(raw) == stamped
    samples = records(raw.path, "SELECT sampled_at FROM clean.fct_vibration ORDER BY 1")
    assert [row["sampled_at"] for row in samples] == [
        ts("2024-03-03 05:00"),
        ts("2024-03-03 06:00"),
    ]
    _equals_a_full_rebuild(raw, tmp_path)
    assert records(published, last_run) == [{"run": 2}]
    assert_same_rows(raw.path, published, list(MODELS))


def test_a_load_of_sensor_type_detections_alone_rebuilds_the_assets(raw, tmp_path):
    """The published API's sensor types come from detections, a raw table of their own."""
    first_sync(raw, published=True)
    raw.load("asset_sensor_types", [detection("M2", "vibration")], SECOND)
    report = run(raw)
    assert not report.whole_tables_kept
    m2 = records(raw.path, "SELECT sensor_type FROM clean.dim_asset WHERE asset_id = 'M2'")
    assert m2 == [{"sensor_type": "vibration"}]
    _equals_a_full_rebuild(raw, tmp_path)


def test_a_load_of_a_work_order_alone_rebuilds_the_records(raw, tmp_path):
    first_sync(raw)
    order = {
        "id": "W1",
        "company_id": COMPANY,
        "asset_id": "V1",
        "status": "open",
        "created_at": ts("2024-03-03 06:05"),
        "is_deleted": False,
    }
    raw.load("work_orders", [order], SECOND)
    report = run(raw)
    assert not report.whole_tables_kept
    assert records(raw.path, "SELECT work_order_id FROM clean.fct_work_order") == [
        {"work_order_id": "W1"}
    ]
    _equals_a_full_rebuild(raw, tmp_path)
