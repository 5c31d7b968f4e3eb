"""Automation over a simulated day: schedule ticks every 15 minutes against the recorded
connection status, and the transform's automation condition against real runs."""

from datetime import timedelta
from itertools import takewhile

import dagster as dg
import pytest
from dagster._utils.schedules import cron_string_iterator

from orchestration.connection_status import ConnectionStatusStore
from orchestration.definitions import build_definitions
from orchestration.partitions import telemetry_key
from orchestration.resources import default_resources
from tests.conftest import SIM_NOW
from tests.orchestration.conftest import (
    CONNECTION,
    POOLS,
    START_DATE,
    TRANSFORM_GROUPS,
    day,
    schedule_tick,
)
from transforms.lineage import INPUTS

DAY = day(2025, 6, 2)
CONNECTIONS = ["north", "south"]


@pytest.fixture
def two_connections(tmp_path):
    resources = default_resources(CONNECTIONS, tmp_path / "warehouse")
    defs = build_definitions(CONNECTIONS, resources=resources, start_date=START_DATE)
    (tmp_path / "dagster").mkdir()
    with dg.instance_for_test(temp_dir=str(tmp_path / "dagster"), overrides=POOLS) as instance:
        yield defs, resources, instance


def cron_ticks(definition):
    """The times the daemon ticks `definition` on DAY (its own cron iterator)."""
    start = (DAY - timedelta(seconds=1)).timestamp()
    ticks = cron_string_iterator(start, definition.cron_schedule, definition.execution_timezone)
    return list(takewhile(lambda t: t < DAY + timedelta(days=1), ticks))


def run_day(defs, resources, instance, schedule, on_tick=None):
    """Every tick of `schedule` on DAY: {connection: [requests]}."""
    definition = defs.resolve_schedule_def(schedule)
    requested = {name: [] for name in CONNECTIONS}
    for tick in cron_ticks(definition):
        if on_tick:
            on_tick(tick)
        result = schedule_tick(defs, instance, resources, schedule, tick)
        for request in result.run_requests or []:
            requested[request.tags["tractian/connection"]].append(request)
    return requested


def test_given_one_connection_reauthorizing_from_6_to_12_when_a_day_passes_then_it_is_skipped(
    two_connections,
):
    defs, resources, instance = two_connections

    def status_at(moment):
        with ConnectionStatusStore(resources["connection_status"].path) as store:
            if moment == DAY.replace(hour=6):
                store.record("south", "reauthorization_required")
            if moment == DAY.replace(hour=12):
                store.record("south", "online")

    telemetry = run_day(defs, resources, instance, "telemetry_every_15_minutes", status_at)
    catalogs = run_day(defs, resources, instance, "catalogs_hourly")

    assert len(telemetry["north"]) == 96
    assert len(telemetry["south"]) == 96 - 24  # 06:00 to 11:45 skipped
    assert len(catalogs["north"]) == len(catalogs["south"]) == 24
    first = telemetry["north"][0]
    assert first.partition_key == telemetry_key("north", DAY.date())
    assert first.tags["tractian/sync_mode"] == "incremental"
    assert len({r.run_key for r in telemetry["north"]}) == 96


def test_given_a_connections_sync_still_running_when_the_schedule_ticks_then_it_waits(
    two_connections,
):
    """A tick does not queue a second sync of the same job behind one still running for
    that connection (the other connection syncs); the tick after it finished does."""
    defs, resources, instance = two_connections
    running = dg.DagsterRun(
        job_name="telemetry_sync",
        status=dg.DagsterRunStatus.STARTED,
        tags={"tractian/connection": "south"},
    )
    instance.add_run(running)
    tick = DAY.replace(hour=6)

    while_running = schedule_tick(defs, instance, resources, "telemetry_every_15_minutes", tick)
    instance.report_run_failed(running)
    after = schedule_tick(
        defs, instance, resources, "telemetry_every_15_minutes", tick + timedelta(minutes=15)
    )

    def connections(result):
        return sorted(r.tags["tractian/connection"] for r in result.run_requests)

    assert connections(while_running) == ["north"]
    assert connections(after) == ["north", "south"]


def transform_requested(stack, cursor):
    """Transform tables the automation sensor would request now, and its next cursor."""
    keys = stack.defs.resolve_assets_def(["clean", "dim_asset"]).keys
    result = dg.evaluate_automation_conditions(
        stack.defs,
        stack.instance,
        asset_selection=dg.AssetSelection.groups(*TRANSFORM_GROUPS),
        evaluation_time=SIM_NOW,
        cursor=cursor,
    )
    return {k.to_user_string() for k in keys if result.get_num_requested(k)}, result.cursor


def test_given_a_sync_when_automation_evaluates_then_the_transform_runs_once_after_it(stack):
    requested, cursor = transform_requested(stack, None)
    assert requested == set(), "nothing to transform before the first sync"

    partition = telemetry_key(CONNECTION, SIM_NOW.date())
    assert stack.run(
        "telemetry_sync", partition, tags={"tractian/sync_mode": "incremental"}
    ).success
    requested, cursor = transform_requested(stack, cursor)
    # One transform run rebuilds every table, so all of them are requested together.
    assert requested == {name.replace(".", "/") for name in INPUTS}

    requested, cursor = transform_requested(stack, cursor)
    assert requested == set(), "one sync asks for one transform"
