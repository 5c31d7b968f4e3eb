"""Each sensor ticked against real runs, a real simulator and real alert deliveries."""

import json
from datetime import UTC, datetime

import duckdb
import pytest

from orchestration.partitions import telemetry_key
from orchestration.resources import TransformResource
from sources import raw_schema as rs
from tests.conftest import SIM_NOW
from tests.orchestration.conftest import CONNECTION, TOKEN, make_stack
from webhooks.signing import verify

REAUTH_ALERT = "tractian_elt.connection.reauthorization_required"
RESTORED_ALERT = "tractian_elt.connection.restored"
SYNC_FAILED_ALERT = "tractian_elt.sync.failed"
INCREMENTAL = {"tractian/sync_mode": "incremental"}
TODAY = telemetry_key(CONNECTION, SIM_NOW.date())


def failing_telemetry_run(stack):
    result = stack.run("telemetry_sync", TODAY, tags=INCREMENTAL, raise_on_error=False)
    assert not result.success
    return result


def failed_transform_check(stack, cursor: str, check: str, clean_table: str):
    """Run the transform (it must fail), tick the failure sensor; `check`'s evaluation."""
    result = stack.run_transform(raise_on_error=False)
    stack.tick("run_failure_alerts", cursor)
    assert not result.success
    return next(
        e.event_specific_data
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
        and e.event_specific_data.check_name == check
        and e.event_specific_data.asset_key.path == ["clean", clean_table]
    )


def test_given_reauthorization_when_a_run_fails_then_one_alert_syncs_pause_and_recovery_catches_up(
    stack,
):
    cursor = stack.tick("run_failure_alerts").cursor  # the first tick only sets the cursor
    stack.sim.set_fault("reauthorization_required", token=TOKEN)

    run = failing_telemetry_run(stack)
    cursor = stack.tick("run_failure_alerts", cursor).cursor

    [(kind, data)] = stack.alerts()
    assert (kind, data["connection"], data["reason"]) == (
        REAUTH_ALERT,
        CONNECTION,
        "reauthorization_required",
    )
    assert data["detected_by"] == f"run {run.run_id}"
    tags = stack.instance.get_run_by_id(run.run_id).tags
    assert tags["tractian/alert_reason"] == "reauthorization_required"

    health = stack.tick("connection_health")
    failing_telemetry_run(stack)
    stack.tick("run_failure_alerts", cursor)
    assert len(stack.alerts()) == 1, "the same reauthorization must alert only once"
    assert json.loads(health.cursor) == {CONNECTION: "reauthorization_required"}
    skipped = stack.schedule_tick("telemetry_every_15_minutes", SIM_NOW)
    assert skipped.run_requests == []
    assert CONNECTION in skipped.skip_message

    stack.sim.clear_faults("reauthorization_required")
    recovered = stack.tick("connection_health")

    assert [kind for kind, _ in stack.alerts()] == [REAUTH_ALERT, RESTORED_ALERT]
    today = datetime.now(UTC).date().isoformat()
    jobs = sorted((r.job_name, r.partition_key) for r in recovered.run_requests)
    assert jobs == [("catalog_sync", CONNECTION), ("telemetry_sync", f"{CONNECTION}|{today}")]
    catch_up = next(r for r in recovered.run_requests if r.job_name == "telemetry_sync")
    assert catch_up.tags["tractian/sync_mode"] == "incremental"
    assert stack.run("telemetry_sync", catch_up.partition_key, tags=catch_up.tags).success


def test_given_invalid_token_when_a_catalog_run_fails_then_alert_names_connection_and_reason(stack):
    cursor = stack.tick("run_failure_alerts").cursor
    stack.sim.set_fault("invalid_token", token=TOKEN)

    result = stack.run("catalog_sync", CONNECTION, raise_on_error=False)
    stack.tick("run_failure_alerts", cursor)

    assert not result.success
    [(kind, data)] = stack.alerts()
    assert (kind, data["connection"], data["reason"]) == (
        SYNC_FAILED_ALERT,
        CONNECTION,
        "invalid_token",
    )
    assert stack.sim.tokens[TOKEN] not in data["message"]


@pytest.fixture
def strict_stack(sim, tmp_path, monkeypatch, endpoint):
    strict = TransformResource(quarantine_max_fraction=0.001)
    yield from make_stack(sim, tmp_path, monkeypatch, endpoint, transform_settings=strict)


def test_given_out_of_range_readings_over_threshold_when_transform_runs_then_data_quality_alert(
    strict_stack,
):
    stack = strict_stack
    cursor = stack.tick("run_failure_alerts").cursor
    assert stack.run("telemetry_sync", TODAY, tags=INCREMENTAL).success
    assert stack.run("catalog_sync", CONNECTION).success
    with duckdb.connect(str(stack.db_path)) as conn:
        # A velocity RMS below 0 makes a sample unusable: plant three of them.
        conn.execute(
            "UPDATE tractian_raw.vibration_samples SET vel_rms_x = -1.0 WHERE sampled_at IN "
            "(SELECT sampled_at FROM tractian_raw.vibration_samples ORDER BY sampled_at LIMIT 3)"
        )
        out_of_range, total = conn.execute(
            "SELECT count(*) FILTER (WHERE vel_rms_x < 0 OR vel_rms_y < 0 OR vel_rms_z < 0), "
            "count(*) FROM tractian_raw.vibration_samples"
        ).fetchone()

    check = failed_transform_check(stack, cursor, "quarantine_under_threshold", "fct_vibration")
    assert not check.passed
    assert check.metadata["quarantined"].value == out_of_range >= 3
    assert check.metadata["fraction"].value == pytest.approx(out_of_range / total)
    [(kind, data)] = stack.alerts()
    assert (kind, data["connection"], data["reason"]) == (SYNC_FAILED_ALERT, "all", "data_quality")


def test_given_categories_no_map_knows_when_transform_runs_then_the_kpi_check_blocks(stack):
    """A plant renames its categories into words the default map does not know: the
    KPIs would lose every failure repair and PM, so the run fails and alerts."""
    cursor = stack.tick("run_failure_alerts").cursor
    assert stack.run("catalog_sync", CONNECTION).success
    with duckdb.connect(str(stack.db_path)) as conn:
        conn.execute(
            f"UPDATE {rs.DATASET}.work_order_categories "
            "SET name = 'Melhoria ' || id, type = NULL, is_preventive = false"
        )
        [(live,)] = conn.execute(
            f"SELECT count(*) FROM {rs.DATASET}.work_orders WHERE NOT coalesce(is_deleted, false) "
            "AND canceled_at IS NULL AND coalesce(status, '') <> 'canceled'"
        ).fetchall()

    check = failed_transform_check(stack, cursor, "work_orders_classified", "fct_work_order")
    assert not check.passed
    assert check.metadata["unclassified"].value == live > 0
    [(kind, data)] = stack.alerts()
    assert (kind, data["reason"]) == (SYNC_FAILED_ALERT, "data_quality")


def test_given_queued_alert_when_delivery_sensor_ticks_then_endpoint_gets_one_signed_event(stack):
    cursor = stack.tick("run_failure_alerts").cursor
    stack.sim.set_fault("invalid_token", token=TOKEN)
    stack.run("catalog_sync", CONNECTION, raise_on_error=False)
    stack.tick("run_failure_alerts", cursor)

    stack.tick("notification_delivery")

    [request] = stack.endpoint.requests
    assert verify([stack.notify_secret], request.headers, request.body).startswith("msg_")
    payload = json.loads(request.body)
    assert payload["type"] == SYNC_FAILED_ALERT
    assert payload["data"]["reason"] == "invalid_token"


def test_given_one_endpoint_failing_for_good_when_catalog_runs_then_the_rest_materializes(stack):
    cursor = stack.tick("run_failure_alerts").cursor
    stack.sim.set_fault("server_errors", route="events", rate=1.0, count=10**6)

    result = stack.run("catalog_sync", CONNECTION, raise_on_error=False)
    stack.tick("run_failure_alerts", cursor)

    assert not result.success
    materialized = {e.asset_key.path[-1] for e in result.get_asset_materialization_events()}
    assert {"assets", "locations", "work_orders", "insights"} <= materialized
    with duckdb.connect(str(stack.db_path), read_only=True) as conn:
        present = rs.present_tables(conn)
    assert "assets" in present
    assert "events" not in present  # the failed endpoint's rows wait for the next sync
    [(kind, data)] = stack.alerts()
    assert (kind, data["connection"]) == (SYNC_FAILED_ALERT, CONNECTION)
    assert data["reason"] == "transient"
    assert "events of company" in data["message"]
    assert "what to do" in data["message"]


def test_given_a_connection_never_synced_then_first_sync_runs_it_without_a_schedule_tick(stack):
    first = stack.tick("first_sync")
    again = stack.tick("first_sync", first.cursor)

    jobs = sorted((r.job_name, r.tags["tractian/connection"]) for r in first.run_requests)
    assert jobs == [("catalog_sync", CONNECTION), ("telemetry_sync", CONNECTION)]
    assert again.run_requests == []
    for request in first.run_requests:
        run = stack.run(request.job_name, request.partition_key, tags=request.tags)
        assert run.success
    with duckdb.connect(str(stack.db_path), read_only=True) as conn:
        present = rs.present_tables(conn)
    assert {"assets", "vibration_samples"} <= present
