"""Telemetry facts: ISO zones at the limits, quarantine rules, dedupe across connections."""

import pytest

from tests.transforms.conftest import records, run
from tests.transforms.plant import load_plant
from tests.transforms.rawdb import RawWarehouse, load_id_at, ts

LOAD = load_id_at("2024-03-02 00:00")
EARLIER = load_id_at("2024-03-01 12:00")


def vib(
    asset: str,
    at: str,
    x: float | None = 0.1,
    y: float | None = 0.1,
    z: float | None = 0.1,
    **extra,
) -> dict:
    row = {
        "company_id": "c1",
        "asset_id": asset,
        "sampled_at": ts(at),
        "temperature": 40.0,
        "powered": True,
        "vel_rms_x": x,
        "vel_rms_y": y,
        "vel_rms_z": z,
    }
    return row | extra


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> RawWarehouse:
    folder = tmp_path_factory.mktemp("telemetry")
    raw = RawWarehouse(folder / "w.duckdb")
    load_plant(raw, LOAD)
    zones = [
        (1.4, "00:00"),
        (1.41, "00:10"),
        (2.8, "00:20"),
        (2.81, "00:30"),
        (4.5, "00:40"),
        (4.51, "00:50"),
    ]
    rows = [vib("V1", f"2024-03-01 {at}", x=v) for v, at in zones]
    rows += [
        vib("V3", f"2024-03-01 {at}", y=v)
        for v, at in [(3.5, "00:00"), (3.51, "00:10"), (11.0, "00:20"), (11.01, "00:30")]
    ]
    rows += [
        vib("V1", "2024-03-01 01:00", None, None, None),
        vib("V1", "2024-03-01 01:10", 0.3, None, 0.9),
        vib("V1", "2024-03-01 01:20", temperature=float("nan")),
        vib("V1", "2024-03-01 02:00", temperature=-273.15),
        vib("V1", "2024-03-01 02:10", temperature=200.0),
        vib("V1", "2024-03-01 02:20", temperature=200.5),
        vib("V1", "2024-03-01 02:30", temperature=-40.0),
        vib("V1", "2024-03-01 02:40", temperature=-40.01),
        vib("V1", "2024-03-01 02:50", y=-0.1),
        vib("V1", "2024-03-01 03:00", accel_peak_x=-1.0),
        vib("V1", "2024-03-01 03:10", accel_crest_factor_db_x=-2.0),
        vib("GHOST", "2024-03-01 03:00", temperature=-273.15),
        vib("V1", "1999-12-31 23:50"),
        vib("V1", "2024-03-02 00:15"),
        vib("V1", "2024-03-02 00:15:01"),
    ]
    raw.load("vibration_samples", rows, LOAD)
    # Another connection reads the same company: an older copy of V1 00:00 (ignored) and
    # a newer copy of V2 05:00 (kept).
    raw.load(
        "vibration_samples", [vib("V1", "2024-03-01 00:00", x=9.0, connection_name="b")], EARLIER
    )
    raw.load("vibration_samples", [vib("V2", "2024-03-01 05:00", x=0.5)], EARLIER)
    raw.load("vibration_samples", [vib("V2", "2024-03-01 05:00", x=0.7, connection_name="b")], LOAD)
    raw.load(
        "rpm_samples",
        [
            {
                "company_id": "c1",
                "asset_id": "V1",
                "sampled_at": ts("2024-03-01 00:00"),
                "rpm": 1780.0,
            },
            {
                "company_id": "c1",
                "asset_id": "V1",
                "sampled_at": ts("2024-03-01 00:10"),
                "rpm": -5.0,
            },
        ],
        LOAD,
    )
    config = folder / "iso.csv"
    config.write_text("asset_id,machine_group,foundation\nM2,1,flexible\n")
    run(raw, iso_config=config)
    return raw


def _clean(raw: RawWarehouse, asset: str) -> dict:
    rows = records(raw.path, f"SELECT * FROM clean.fct_vibration WHERE asset_id = '{asset}'")
    return {r["sampled_at"].strftime("%Y-%m-%d %H:%M:%S"): r for r in rows}


def test_iso_zones_put_each_limit_in_the_lower_zone(warehouse):
    v1 = _clean(warehouse, "V1")
    got = [v1[f"2024-03-01 00:{m}0:00"]["iso_zone"] for m in range(6)]
    assert got == ["A", "B", "B", "C", "C", "D"]


def test_a_configured_machine_class_applies_to_the_components_below_it(warehouse):
    v3 = _clean(warehouse, "V3")
    assert [v3[f"2024-03-01 00:{m}0:00"]["iso_zone"] for m in range(4)] == ["A", "B", "C", "D"]
    config = records(warehouse.path, "SELECT * FROM clean.asset_iso_config WHERE asset_id = 'V3'")
    assert config[0]["machine_group"] == 1
    assert config[0]["foundation"] == "flexible"
    assert config[0]["configured_on"] == "M2"
    assert (config[0]["zone_a_max_mm_s"], config[0]["zone_c_max_mm_s"]) == (3.5, 11.0)


def test_velocity_max_is_the_largest_axis_ignoring_missing_ones(warehouse):
    v1 = _clean(warehouse, "V1")
    assert v1["2024-03-01 01:10:00"]["vel_rms_max_mm_s"] == 0.9
    assert v1["2024-03-01 01:00:00"]["vel_rms_max_mm_s"] is None
    assert v1["2024-03-01 01:00:00"]["iso_zone"] is None


def test_nan_readings_become_null(warehouse):
    assert _clean(warehouse, "V1")["2024-03-01 01:20:00"]["temperature_c"] is None


def test_each_quarantine_rule_catches_its_rows(warehouse):
    rows = records(
        warehouse.path, "SELECT asset_id, sampled_at, rule, rules FROM quarantine.vibration_samples"
    )
    got = {
        (r["asset_id"], r["sampled_at"].strftime("%Y-%m-%d %H:%M:%S")): (r["rule"], r["rules"])
        for r in rows
    }
    assert got == {
        ("V1", "2024-03-01 02:50:00"): ("negative_reading", "negative_reading"),
        ("GHOST", "2024-03-01 03:00:00"): ("unknown_asset", "unknown_asset"),
        ("V1", "1999-12-31 23:50:00"): ("timestamp_before_2000", "timestamp_before_2000"),
        ("V1", "2024-03-02 00:15:01"): ("timestamp_in_future", "timestamp_in_future"),
    }


def test_out_of_range_side_values_are_nulled_on_kept_rows(warehouse):
    """Temperature outside [-40, 200] °C and a negative peak: the velocity stays."""
    v1 = _clean(warehouse, "V1")
    for at in ("02:00", "02:20", "02:40"):
        row = v1[f"2024-03-01 {at}:00"]
        assert (row["temperature_c"], row["nulled_fields"]) == (None, "temperature_c")
        assert row["vel_rms_max_mm_s"] == 0.1
    row = v1["2024-03-01 03:00:00"]
    assert (row["accel_peak_x_g"], row["nulled_fields"]) == (None, "accel_peak_x_g")


def test_readings_at_the_range_limits_and_dB_crest_factors_stay_clean(warehouse):
    v1 = _clean(warehouse, "V1")
    assert v1["2024-03-01 02:10:00"]["temperature_c"] == 200.0
    assert v1["2024-03-01 02:30:00"]["temperature_c"] == -40.0
    assert "2024-03-01 03:10:00" in v1
    assert "2024-03-02 00:15:00" in v1  # within 15 minutes of its load: clock skew


def test_quarantined_rows_keep_their_raw_values_and_load(warehouse):
    row = records(
        warehouse.path,
        "SELECT * FROM quarantine.vibration_samples "
        "WHERE rule = 'negative_reading' AND vel_rms_y < 0",
    )[0]
    assert row["vel_rms_y"] == -0.1
    assert row["_dlt_load_id"] == LOAD
    assert row["connection_name"] == "main"
    assert row["quarantined_at"] is not None


def test_the_most_recently_loaded_copy_of_a_sample_wins(warehouse):
    assert _clean(warehouse, "V1")["2024-03-01 00:00:00"]["vel_rms_x_mm_s"] == 1.4
    v2 = _clean(warehouse, "V2")["2024-03-01 05:00:00"]
    assert (v2["vel_rms_x_mm_s"], v2["connection_name"]) == (0.7, "b")


def test_rpm_rules(warehouse):
    clean = records(warehouse.path, "SELECT rpm FROM clean.fct_rpm")
    bad = records(warehouse.path, "SELECT rpm, rule FROM quarantine.rpm_samples")
    assert clean == [{"rpm": 1780.0}]
    assert bad == [{"rpm": -5.0, "rule": "negative_reading"}]


def test_crest_factor_db_is_not_kept_in_the_clean_table(warehouse):
    columns = {
        r["column_name"]
        for r in records(
            warehouse.path,
            "SELECT column_name FROM duckdb_columns() "
            "WHERE table_name = 'fct_vibration' AND schema_name = 'clean'",
        )
    }
    assert "accel_crest_factor_x" in columns
    assert not any("crest_factor_db" in c for c in columns)


def test_now_is_capped_at_the_latest_load_when_a_clock_runs_ahead(warehouse):
    runs = records(warehouse.path, "SELECT as_of FROM clean._transform_runs")
    assert runs == [{"as_of": ts("2024-03-02 00:00")}]  # a clean sample says 03-02 00:15


def test_a_slipped_duplicate_of_one_connection_neither_blocks_nor_reaches_the_clean_table(raw):
    """Telemetry is appended: a resumed load can leave a key twice in one connection."""
    load_plant(raw, LOAD)
    first = [vib("V1", "2024-03-01 00:00", x=1.0), vib("V1", "2024-03-01 00:10", x=2.0)]
    raw.append("vibration_samples", first, EARLIER)
    raw.append("vibration_samples", [vib("V1", "2024-03-01 00:10", x=2.0)], EARLIER)
    assert raw.sql("SELECT count(*) FROM tractian_raw.vibration_samples WHERE asset_id = 'V1'") == [
        (3,)
    ]

    run(raw, full=True)  # a failed check would raise (and roll back) here ...
    raw.append("vibration_samples", [vib("V1", "2024-03-01 00:00", x=1.0)], LOAD)
    run(raw)  # ... or here
    rows = records(
        raw.path,
        "SELECT sampled_at, vel_rms_x_mm_s FROM clean.fct_vibration "
        "WHERE asset_id = 'V1' ORDER BY sampled_at",
    )
    assert [r["vel_rms_x_mm_s"] for r in rows] == [1.0, 2.0]
    quarantined = records(raw.path, "SELECT count(*) AS n FROM quarantine.vibration_samples")
    assert quarantined == [{"n": 0}]
