"""Checking stored tables against their models, for asset checks."""

import duckdb

from tests.transforms.conftest import run
from tests.transforms.plant import load_plant
from tests.transforms.rawdb import load_id_at, ts
from transforms.models import MODELS, table_schema
from transforms.warehouse.checks import check_table


def test_every_written_table_has_a_model_and_passes_it(raw):
    load_plant(raw, load_id_at("2024-03-02 00:00"))
    raw.load(
        "vibration_samples",
        [
            {
                "company_id": "c1",
                "asset_id": "V1",
                "sampled_at": ts("2024-03-01 10:00"),
                "vel_rms_x": 1.0,
            }
        ],
        load_id_at("2024-03-02 00:00"),
    )
    run(raw)
    conn = duckdb.connect(str(raw.path), read_only=True)
    try:
        for name in MODELS:
            result = check_table(conn, name, batch_rows=1)
            assert result.passed, (name, result.failure_counts)
            stored = [r[0] for r in conn.sql(f"DESCRIBE {name}").fetchall()]
            assert stored == list(table_schema(name)), name
    finally:
        conn.close()


def test_rows_that_reached_a_table_some_other_way_are_counted_with_examples(raw):
    load_plant(raw, load_id_at("2024-03-02 00:00"))
    run(raw)
    conn = duckdb.connect(str(raw.path))
    try:
        conn.execute(
            "INSERT INTO clean.fct_vibration (asset_id, sampled_at, temperature_c, "
            "vel_rms_x_mm_s, connection_name, _dlt_load_id) VALUES "
            "('V1', '2024-03-01 10:00:00+00', -300, 1.0, 'main', '1'), "
            "('V2', '2024-03-01 10:00:00+00', 20, -1.0, 'main', '1')"
        )
        result = check_table(conn, "clean.fct_vibration", batch_rows=1)
    finally:
        conn.close()
    assert (result.rows, result.failures, result.passed) == (2, 2, False)
    assert result.failure_counts == {
        "temperature_c: greater_than_or_equal_to(-40.0)": 1,
        "vel_rms_x_mm_s: greater_than_or_equal_to(0)": 1,
    }
    assert {e["failure_case"] for e in result.examples} == {"-300.0", "-1.0"}
