"""Every asset materialized in this process against the simulator, twice: the second
run (the dagster-dlt failure case) works and changes nothing; row counts equal the
simulator's ground truth."""

from datetime import timedelta

import duckdb
import pyarrow.compute as pc

from orchestration.partitions import telemetry_key
from sources import raw_schema as rs
from tests.conftest import SIM_NOW
from tests.orchestration.conftest import CONNECTION, TRANSFORM_GROUPS, day
from transforms.lineage import INPUTS

TELEMETRY = [t.name for t in rs.RAW_TABLES.values() if t.telemetry]
CATALOG = [t.name for t in rs.RAW_TABLES.values() if not t.telemetry]
RANGE_TAGS = {
    "dagster/asset_partition_range_start": telemetry_key(CONNECTION, day(2025, 6, 1).date()),
    "dagster/asset_partition_range_end": telemetry_key(CONNECTION, day(2025, 6, 2).date()),
}


def materialized(result):
    """{asset key string: metadata values} of a run's materializations."""
    return {
        event.asset_key.to_user_string(): {
            k: v.value for k, v in event.step_materialization_data.materialization.metadata.items()
        }
        for event in result.get_asset_materialization_events()
    }


def check_outcomes(result):
    return {
        (e.event_specific_data.asset_key.to_user_string(), e.event_specific_data.check_name): (
            e.event_specific_data.passed
        )
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
    }


def expected_telemetry_rows(stack):
    """Ground-truth samples of 2025-06-01 and of 2025-06-02 up to the simulator's now."""
    truth = stack.sim.ground_truth(stack.company_ids(), day(2025, 6, 1), SIM_NOW)
    return {name: truth[name].num_rows for name in TELEMETRY}


def duplicate_keys(db_path, table):
    key = ", ".join(rs.RAW_TABLES[table].primary_key)
    with duckdb.connect(str(db_path), read_only=True) as conn:
        return conn.execute(
            f"SELECT count(*) - count(DISTINCT ({key})) FROM {rs.DATASET}.{table}"
        ).fetchone()[0]


def test_given_simulator_when_all_assets_materialize_twice_in_one_process_then_counts_match_truth(
    stack,
):
    expected_telemetry = expected_telemetry_rows(stack)
    truth = stack.truth()
    expected_catalog = {name: truth[name].num_rows for name in CATALOG}
    assert sum(expected_telemetry.values()) > 0, "the simulator produced no telemetry"

    for _ in range(2):
        telemetry = stack.run("telemetry_sync", tags=RANGE_TAGS)
        catalog = stack.run("catalog_sync", partition_key=CONNECTION)
        transform = stack.run_transform()

        assert telemetry.success
        assert catalog.success
        assert transform.success
        raw = materialized(telemetry) | materialized(catalog)
        for name, rows in {**expected_telemetry, **expected_catalog}.items():
            assert raw[f"{rs.DATASET}/{name}"]["dagster/row_count"] == rows, name
            assert duplicate_keys(stack.db_path, name) == 0, name
        assert raw[f"{rs.DATASET}/vibration_samples"]["windows"] == {
            CONNECTION: ["2025-06-01T00:00Z/2025-06-03T00:00Z"]
        }
        assert raw[f"{rs.DATASET}/assets"]["load_ids"], "a sync reports its dlt load ids"
        assert stack.sim.tokens["jaguar"] not in repr(raw)

        built = materialized(transform)
        assert {key.split("/")[0] for key in built} == set(TRANSFORM_GROUPS)
        assert set(built) == {name.replace(".", "/") for name in INPUTS}
        assert built["clean/dim_asset"]["dagster/row_count"] == expected_catalog["assets"]
        assert built["clean/dim_asset"]["rewritten"] is True  # after a catalog sync
        assert built["marts/asset_health_daily"]["summary"].startswith("**Ten worst assets")
        outcomes = check_outcomes(transform)
        assert len(outcomes) == 36
        assert all(outcomes.values()), [k for k, ok in outcomes.items() if not ok]

    # A telemetry-only sync (the 15-minute schedule's) leaves dimensions and records alone.
    partition = telemetry_key(CONNECTION, SIM_NOW.date())
    tags = {"tractian/sync_mode": "incremental"}
    assert stack.run("telemetry_sync", partition_key=partition, tags=tags).success
    again = materialized(stack.run_transform())
    assert again["clean/fct_vibration"]["incremental"] is True
    assert again["clean/dim_asset"]["rewritten"] is False
    assert again["clean/fct_work_order"]["rewritten"] is False
    assert again["clean/dim_asset"]["dagster/row_count"] == expected_catalog["assets"]
    assert "rewritten" not in again["clean/fct_vibration"]


def test_given_incremental_tag_when_telemetry_runs_then_it_syncs_from_state_up_to_now(stack):
    partition = telemetry_key(CONNECTION, SIM_NOW.date())

    result = stack.run(
        "telemetry_sync", partition_key=partition, tags={"tractian/sync_mode": "incremental"}
    )

    windows = materialized(result)[f"{rs.DATASET}/rpm_samples"]["windows"]
    assert windows == {CONNECTION: ["incremental up to 2025-06-02T12:00:00Z"]}
    truth = stack.sim.ground_truth(stack.company_ids(), SIM_NOW - timedelta(days=14), SIM_NOW)
    today = pc.greater_equal(truth["rpm_samples"]["sampled_at"], day(2025, 6, 2))
    held_today = materialized(result)[f"{rs.DATASET}/rpm_samples"]["dagster/row_count"]
    assert held_today == pc.sum(today).as_py()


def test_given_definitions_then_no_secret_reaches_metadata(stack):
    token = stack.sim.tokens["jaguar"]
    graph = stack.defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        assert token not in repr(graph.get(key).metadata)
    for resource in stack.resources.values():
        assert token not in repr(resource)
