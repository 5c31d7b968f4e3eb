"""Failed runs become alerts; queued notifications get delivered.

`run_failure_alerts` watches every run of this code location, asset runs
(`__ASSET_JOB`) included, because it names no `monitored_jobs` (see STACK-NOTES). A
failure on a token takes the connection-status path (one alert per transition, syncs
paused); any other failure sends one `tractian_elt.sync.failed` per failed run. The
reason is also written on the run as tags, so it shows in the runs list.
"""

from dataclasses import dataclass

import dagster as dg

from orchestration import alerts as al
from orchestration.assets_raw import CONNECTION_TAG
from orchestration.connection_health import apply_status
from orchestration.partitions import CONNECTION
from orchestration.resources import AlertsResource, ConnectionsResource, ConnectionStatusResource
from orchestration.sensors_connection import catch_up
from webhooks import settings as webhook_settings
from webhooks.notifier import SYNC_FAILED, Notifier

ALERT_REASON_TAG = "tractian/alert_reason"
MESSAGE_LIMIT = 600


@dataclass(frozen=True)
class RunFailure:
    reasons: dict[str, str]  # connection -> reason
    message: str


def describe_failure(context: dg.RunFailureSensorContext) -> RunFailure:
    """Which connections failed and why, from our `dg.Failure` metadata or the error text."""
    for event in context.get_step_failure_events():
        data = event.step_failure_data
        user = data.user_failure_data
        if user is not None and "reasons" in user.metadata:
            return RunFailure(dict(user.metadata["reasons"].value), user.description or "")
        if data.error is not None:  # the whole chain names the cause; the message says it
            reason = al.reason_from_text(data.error.to_string())
            return RunFailure({_run_connection(context): reason}, data.error.message.strip())
    text = context.failure_event.message or "the run failed"
    return RunFailure({_run_connection(context): al.reason_from_text(text)}, text)


def _run_connection(context: dg.RunFailureSensorContext) -> str:
    tags = context.dagster_run.tags
    partition = tags.get("dagster/partition", "")
    catalog_partition = partition if partition and "|" not in partition else None
    return (
        tags.get(CONNECTION_TAG)
        or tags.get(f"dagster/partition/{CONNECTION}")
        or catalog_partition
        or al.WAREHOUSE_WIDE
    )


def alert_failure(
    context: dg.RunFailureSensorContext,
    alerts: AlertsResource,
    connections: ConnectionsResource,
    connection_status: ConnectionStatusResource,
) -> None:
    """Alert once for a failed run; token failures take the connection-status path."""
    run = context.dagster_run
    failure = describe_failure(context)
    message = failure.message[:MESSAGE_LIMIT]
    alerter = alerts.alerter(context.log)
    with connection_status.open() as store:
        for connection, reason in failure.reasons.items():
            if reason in al.ATTENTION_REASONS and connection in connections.names:
                source = f"run {run.run_id}"
                apply_status(
                    store,
                    alerter,
                    connection,
                    reason,
                    detail=message,
                    catch_up=catch_up,
                    source=source,
                )
                continue
            data = {"connection": connection, "reason": reason, "run_id": run.run_id}
            alerter.send(SYNC_FAILED, data | {"job": run.job_name, "message": message})
    reasons = ",".join(sorted(set(failure.reasons.values())))
    context.instance.add_run_tags(run.run_id, {ALERT_REASON_TAG: reasons})


@dg.run_failure_sensor(
    name="run_failure_alerts",
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Every failed run, asset runs included, sends one alert naming the "
    "connection and the reason (reauthorization, invalid token, rate limit, "
    "transient, data quality).",
)
def run_failure_alerts(
    context: dg.RunFailureSensorContext,
    alerts: AlertsResource,
    connections: ConnectionsResource,
    connection_status: ConnectionStatusResource,
) -> None:
    alert_failure(context, alerts, connections, connection_status)


@dg.sensor(
    name="notification_delivery",
    minimum_interval_seconds=15,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Delivers queued signed notifications (retries for 24 h); needs "
    f"{webhook_settings.NOTIFY_URL_ENV} and {webhook_settings.NOTIFY_SECRET_ENV}.",
)
def notification_delivery(
    context: dg.SensorEvaluationContext, alerts: AlertsResource
) -> dg.SkipReason:
    if not webhook_settings.notifications_configured():
        return dg.SkipReason(f"{webhook_settings.NOTIFY_URL_ENV} is not set")
    notifier = Notifier.from_env(alerts.outbox_path)
    try:
        attempts = notifier.deliver_due()
    finally:
        notifier.close()
    for attempt in attempts:
        outcome = attempt.status_code or attempt.error
        context.log.info(f"notification {attempt.event_id} attempt {attempt.attempt}: {outcome}")
    delivered = sum(a.succeeded for a in attempts)
    return dg.SkipReason(f"{delivered} of {len(attempts)} due notification(s) delivered")


FAILURE_SENSORS = [run_failure_alerts, notification_delivery]
