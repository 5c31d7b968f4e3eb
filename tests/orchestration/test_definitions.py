"""The whole Dagster graph against a reviewed snapshot, and the properties that must hold
whatever the snapshot says. Regenerate after an intended change with
`UPDATE_SNAPSHOTS=1 .venv/bin/pytest tests/orchestration/test_definitions.py`."""

import json
import os
from pathlib import Path

import dagster as dg
import pytest

from orchestration.definitions import build_definitions
from sources.warehouses import WarehouseConfigError
from transforms.lineage import INPUTS
from transforms.models import MODELS

SNAPSHOT = Path(__file__).parent / "snapshots" / "definitions.json"


@pytest.fixture(scope="module")
def defs():
    return build_definitions(["plant_a", "plant_b"], start_date="2025-01-01")


def _partitions(definition: object) -> str | None:
    if isinstance(definition, dg.MultiPartitionsDefinition):
        return " x ".join(d.name for d in definition.partitions_defs)
    if isinstance(definition, dg.StaticPartitionsDefinition):
        return "connection"
    return None


def _freshness(policy: object) -> str | None:
    if policy is None:
        return None
    warn, fail = policy.warn_window.to_timedelta(), policy.fail_window.to_timedelta()
    return f"warn after {warn}, fail after {fail}"


def _backfill(policy: dg.BackfillPolicy | None) -> str | None:
    return policy.policy_type.value if policy else None


def describe(defs: dg.Definitions) -> dict:
    repository = defs.get_repository_def()
    graph = repository.asset_graph
    assets = {}
    for key in sorted(graph.get_all_asset_keys()):
        node = graph.get(key)
        condition = node.automation_condition
        assets[key.to_user_string()] = {
            "group": node.group_name,
            "kinds": sorted(node.kinds),
            "owners": list(node.owners),
            "partitions": _partitions(node.partitions_def),
            "pools": sorted(node.pools or []),
            "automation": condition.get_label() if condition else None,
            "freshness": _freshness(node.freshness_policy),
            "backfill": _backfill(node.backfill_policy),
            "description": bool(node.description),
            "column_schema": "dagster/column_schema" in node.metadata,
            "deps": sorted(k.to_user_string() for k in node.parent_keys),
        }
    checks = sorted(
        f"{key.asset_key.to_user_string()}:{key.name}"
        + (" (blocking)" if graph.get_check_spec(key).blocking else "")
        for key in graph.asset_check_keys
    )
    return {
        "assets": assets,
        "checks": checks,
        "jobs": sorted(job.name for job in repository.get_all_jobs()),
        "schedules": {
            s.name: {"cron": s.cron_schedule, "job": s.job_name, "status": s.default_status.value}
            for s in repository.schedule_defs
        },
        "sensors": {
            s.name: {"status": s.default_status.value, "interval_s": s.minimum_interval_seconds}
            for s in repository.sensor_defs
        },
    }


def test_given_definitions_then_graph_matches_the_reviewed_snapshot(defs):
    current = describe(defs)
    if os.environ.get("UPDATE_SNAPSHOTS"):
        SNAPSHOT.parent.mkdir(exist_ok=True)
        SNAPSHOT.write_text(json.dumps(current, indent=2, sort_keys=True) + "\n")
    assert current == json.loads(SNAPSHOT.read_text())


def test_given_definitions_then_they_load_and_every_sensor_and_schedule_runs_by_default(defs):
    dg.Definitions.validate_loadable(defs)
    repository = defs.get_repository_def()
    assert {s.name for s in repository.sensor_defs} >= {
        "connection_health",
        "run_failure_alerts",
        "webhook_inbox",
        "transforms_after_inputs",
    }
    for sensor in repository.sensor_defs:
        assert sensor.default_status == dg.DefaultSensorStatus.RUNNING, sensor.name
    for schedule in repository.schedule_defs:
        assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING, schedule.name


def test_given_definitions_then_every_warehouse_writer_is_in_the_one_writer_pool(defs):
    graph = defs.get_repository_def().asset_graph
    for key in graph.get_all_asset_keys():
        assert graph.get(key).pools == {"duckdb_writer"}, key


def test_given_the_ducklake_backend_then_syncs_run_side_by_side_and_transforms_one_at_a_time(
    monkeypatch,
):
    monkeypatch.setenv("SOURCES__TRACTIAN__WAREHOUSE", "ducklake")
    graph = build_definitions(["plant_a"], start_date="2025-01-01").get_repository_def()
    for key in graph.asset_graph.get_all_asset_keys():
        expected = set() if key.path[0] == "tractian_raw" else {"tractian_transform"}
        assert set(graph.asset_graph.get(key).pools or ()) == expected, key


def test_given_an_unknown_backend_then_the_code_location_says_which_setting(monkeypatch):
    monkeypatch.setenv("SOURCES__TRACTIAN__WAREHOUSE", "motherduck")
    with pytest.raises(WarehouseConfigError, match=r"SOURCES__TRACTIAN__WAREHOUSE.*duckdb"):
        build_definitions(["plant_a"], start_date="2025-01-01")


def test_given_transform_models_then_every_table_is_an_asset_with_lineage():
    assert set(INPUTS) == set(MODELS)


def test_given_definitions_then_each_table_asset_depends_on_exactly_its_declared_inputs(defs):
    graph = defs.get_repository_def().asset_graph
    raw_keys = {key for key in graph.get_all_asset_keys() if key.path[0] == "tractian_raw"}
    for name, inputs in INPUTS.items():
        parents = graph.get(dg.AssetKey(name.split("."))).parent_keys
        expected = {dg.AssetKey(i.split(".")) for i in inputs}
        assert parents == expected, name
        # Raw inputs are the sync's assets, not stand-ins Dagster made up for unknown keys.
        assert {p for p in parents if p.path[0] == "tractian_raw"} <= raw_keys, name


def test_given_no_connection_configured_then_definitions_still_load():
    dg.Definitions.validate_loadable(build_definitions([], start_date="2025-01-01"))
