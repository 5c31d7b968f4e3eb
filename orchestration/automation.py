"""Jobs, schedules and declarative automation; all running by default.

Raw syncs run on schedules, not automation conditions, because each tick must consult
the connection status record and leave a connection that needs reauthorization alone
(and a connection whose previous sync is still queued or running). Clean tables and
marts follow their inputs through automation conditions evaluated by one sensor.
"""

from datetime import UTC, date

import dagster as dg

from orchestration.assets_raw import (
    CATALOG_GROUP,
    CONNECTION_TAG,
    INCREMENTAL,
    SYNC_MODE_TAG,
    TELEMETRY_GROUP,
)
from orchestration.partitions import telemetry_key
from orchestration.resources import ConnectionsResource, ConnectionStatusResource

TELEMETRY_JOB, CATALOG_JOB = "telemetry_sync", "catalog_sync"
REQUESTED_BY_TAG = "tractian/requested_by"
TRANSFORM_GROUPS = ("clean", "quarantine", "marts")
_IN_PROGRESS = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]


# Partitions come from the assets when the code location loads.
telemetry_job = dg.define_asset_job(
    TELEMETRY_JOB,
    selection=dg.AssetSelection.groups(TELEMETRY_GROUP),
    description="Sync telemetry of one connection (incremental when tagged so, "
    "else a stateless re-read of the partitions' days).",
)
catalog_job = dg.define_asset_job(
    CATALOG_JOB,
    selection=dg.AssetSelection.groups(CATALOG_GROUP),
    description="Sync the asset tree, work orders, events and insights of one connection.",
)
JOBS = [telemetry_job, catalog_job]


def telemetry_request(
    connection: str, day: date, requested_by: str, run_key: str | None = None
) -> dg.RunRequest:
    """An incremental telemetry sync of `connection`, filed under `day`'s partition."""
    return dg.RunRequest(
        job_name=TELEMETRY_JOB,
        partition_key=telemetry_key(connection, day),
        run_key=run_key,
        tags=_tags(connection, requested_by) | {SYNC_MODE_TAG: INCREMENTAL},
    )


def catalog_request(
    connection: str, requested_by: str, run_key: str | None = None
) -> dg.RunRequest:
    return dg.RunRequest(
        job_name=CATALOG_JOB,
        partition_key=connection,
        run_key=run_key,
        tags=_tags(connection, requested_by),
    )


def sync_requests(
    connection: str, day: date, requested_by: str, run_key: str | None = None
) -> list[dg.RunRequest]:
    """A full incremental sync of one connection: catalogs and telemetry."""
    keys = (f"{run_key}:catalog", f"{run_key}:telemetry") if run_key else (None, None)
    return [
        catalog_request(connection, requested_by, keys[0]),
        telemetry_request(connection, day, requested_by, keys[1]),
    ]


def _tags(connection: str, requested_by: str) -> dict[str, str]:
    return {CONNECTION_TAG: connection, REQUESTED_BY_TAG: requested_by}


def runnable_connections(
    instance: dg.DagsterInstance,
    job_name: str,
    names: list[str],
    status: ConnectionStatusResource,
) -> tuple[list[str], dict[str, str]]:
    """Connections to sync now, and why each other one is skipped."""
    with status.open() as store:
        blocked = {
            name: state.status for name, state in store.all().items() if state.needs_attention
        }
    runnable, skipped = [], {}
    for name in names:
        if name in blocked:
            skipped[name] = f"{blocked[name]} (waiting for the connection to be fixed)"
        elif instance.get_run_records(
            dg.RunsFilter(job_name=job_name, tags={CONNECTION_TAG: name}, statuses=_IN_PROGRESS),
            limit=1,
        ):
            skipped[name] = "its previous sync is still queued or running"
        else:
            runnable.append(name)
    return runnable, skipped


def _scheduled(
    context: dg.ScheduleEvaluationContext,
    job_name: str,
    connections: ConnectionsResource,
    status: ConnectionStatusResource,
) -> list[dg.RunRequest] | dg.SkipReason:
    moment = context.scheduled_execution_time.astimezone(UTC)
    runnable, skipped = runnable_connections(context.instance, job_name, connections.names, status)
    for name, why in skipped.items():
        context.log.info(f"skipping connection {name!r}: {why}")
    if not runnable:
        return dg.SkipReason(f"no connection to sync: {skipped or 'none configured'}")
    stamp = f"{moment:%Y-%m-%dT%H:%M}"
    if job_name == TELEMETRY_JOB:
        return [telemetry_request(n, moment.date(), "schedule", f"{n}:{stamp}") for n in runnable]
    return [catalog_request(n, "schedule", f"{n}:{stamp}") for n in runnable]


@dg.schedule(
    name="telemetry_every_15_minutes",
    job=telemetry_job,
    cron_schedule="*/15 * * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Incremental telemetry sync of every healthy connection.",
)
def telemetry_schedule(
    context: dg.ScheduleEvaluationContext,
    connections: ConnectionsResource,
    connection_status: ConnectionStatusResource,
) -> list[dg.RunRequest] | dg.SkipReason:
    return _scheduled(context, TELEMETRY_JOB, connections, connection_status)


@dg.schedule(
    name="catalogs_hourly",
    job=catalog_job,
    cron_schedule="0 * * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Asset tree, work orders, events and insights of every healthy connection.",
)
def catalog_schedule(
    context: dg.ScheduleEvaluationContext,
    connections: ConnectionsResource,
    connection_status: ConnectionStatusResource,
) -> list[dg.RunRequest] | dg.SkipReason:
    return _scheduled(context, CATALOG_JOB, connections, connection_status)


SCHEDULES = [telemetry_schedule, catalog_schedule]


def after_inputs() -> dg.AutomationCondition:
    """Run once an input changed, when neither an input nor the table is being written.

    Like `eager()`, without its two waits on missing data: a never-synced day of some
    input does not hold the tables back, and nothing runs before the first sync.
    """
    return (
        dg.AutomationCondition.any_deps_updated().since_last_handled()
        & ~dg.AutomationCondition.any_deps_in_progress()
        & ~dg.AutomationCondition.in_progress()
    ).with_label("after_inputs")


transforms_after_inputs = dg.AutomationConditionSensorDefinition(
    "transforms_after_inputs",
    target=dg.AssetSelection.groups(*TRANSFORM_GROUPS),
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=30,
    description="Rebuilds clean tables and marts once the raw tables they read changed.",
)
