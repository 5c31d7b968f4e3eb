"""Sensors that watch connections: a `/connection` health probe and the webhook inbox.

Both feed `connection_health.apply_status`, so a reauthorization noticed by either (or
by a failed run) alerts once, pauses that connection's schedules while it lasts, and
on recovery sends a restored notice and requests a catch-up sync.
"""

import json
from datetime import UTC, date, datetime

import dagster as dg

from orchestration import connection_status as cs
from orchestration.automation import JOBS, sync_requests
from orchestration.connection_health import apply_status, probe
from orchestration.connection_status import ConnectionStatusStore
from orchestration.resources import (
    AlertsResource,
    ConnectionsResource,
    ConnectionStatusResource,
    WebhookInboxResource,
)
from webhooks.inbox import Inbox, InboxEvent

SYNC_COMPLETED = "sync.completed"
REAUTHORIZATION_EVENT = "connection.reauthorization_required"
STATUS_CHANGED = "connection.status_changed"
INBOX_BATCH = 100


def catch_up(connection: str, day: date) -> list[dg.RunRequest]:
    return sync_requests(connection, day, "connection_restored")


def _probe_all(
    context: dg.SensorEvaluationContext,
    store: ConnectionStatusStore,
    connections: ConnectionsResource,
    alerts: AlertsResource,
    names: list[str],
    source: str,
) -> list[dg.RunRequest]:
    requests = []
    for name in names:
        probed = probe(connections, name)
        if probed is None:
            context.log.warning(f"connection {name!r}: the API did not answer; status kept")
            continue
        status, detail, api_id = probed
        requests += apply_status(
            store,
            alerts.alerter(context.log),
            name,
            status,
            detail=detail,
            api_connection_id=api_id,
            catch_up=catch_up,
            source=source,
        )
    return requests


def _status_cursor(store: ConnectionStatusStore) -> str:
    return json.dumps({name: s.status for name, s in store.all().items()}, sort_keys=True)


def check_connections(
    context: dg.SensorEvaluationContext,
    connections: ConnectionsResource,
    connection_status: ConnectionStatusResource,
    alerts: AlertsResource,
) -> dg.SensorResult:
    """Probe every connection; the cursor shows each one's recorded status."""
    with connection_status.open() as store:
        names = connections.names
        requests = _probe_all(context, store, connections, alerts, names, "connection_health")
        cursor = _status_cursor(store)
    return dg.SensorResult(run_requests=requests, cursor=cursor)


def process_inbox(
    context: dg.SensorEvaluationContext,
    webhook_inbox: WebhookInboxResource,
    connections: ConnectionsResource,
    connection_status: ConnectionStatusResource,
    alerts: AlertsResource,
) -> dg.SensorResult:
    """Act on pending events; they are marked processed on the tick after, once the
    runs they asked for were submitted (the cursor lists them), so none is lost."""
    with Inbox(webhook_inbox.path) as inbox, connection_status.open() as store:
        inbox.mark_processed(json.loads(context.cursor or "[]"))
        handler = _EventHandler(context, store, connections, alerts)
        requests, handled = [], []
        for event in inbox.pending(INBOX_BATCH):
            outcome = handler.handle(event)
            if isinstance(outcome, str):
                inbox.mark_processed([event.webhook_id], error=outcome)
                context.log.warning(f"webhook {event.webhook_id} not used: {outcome}")
                continue
            requests += outcome
            handled.append(event.webhook_id)
    requests += handler.probe_requests
    skip = None if requests else f"{len(handled)} webhook event(s) handled, no run needed"
    return dg.SensorResult(run_requests=requests, cursor=json.dumps(handled), skip_reason=skip)


def first_syncs(
    context: dg.SensorEvaluationContext, connections: ConnectionsResource
) -> dg.SensorResult:
    """A connection the code location has not synced yet gets its first sync at once
    (catalogs and telemetry; the transform follows when they land), instead of waiting
    up to 15 minutes for a schedule tick. The cursor lists the connections requested."""
    requested = json.loads(context.cursor or "[]")
    new = [name for name in connections.names if name not in requested]
    today = datetime.now(UTC).date()
    runs = [r for name in new for r in sync_requests(name, today, "first_sync")]
    skip = None if runs else "every connection has had its first sync requested"
    cursor = json.dumps(sorted({*requested, *new}))
    return dg.SensorResult(run_requests=runs, cursor=cursor, skip_reason=skip)


connection_health = dg.sensor(
    name="connection_health",
    jobs=JOBS,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Polls each connection's GET /connection; alerts once when one needs "
    "reauthorization, pauses its syncs, and catches up when it is back.",
)(check_connections)

webhook_inbox = dg.sensor(
    name="webhook_inbox",
    jobs=JOBS,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Acts on events the webhook receiver stored: sync.completed requests a "
    "sync; reauthorization and status events update the connection's status.",
)(process_inbox)

first_sync = dg.sensor(
    name="first_sync",
    jobs=JOBS,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Syncs a newly configured connection at once (catalogs and telemetry), so "
    "the graph fills in without waiting for the first schedule tick.",
)(first_syncs)

CONNECTION_SENSORS = [connection_health, webhook_inbox, first_sync]


class _EventHandler:
    """Turns one inbox event into run requests, or a reason it cannot be used."""

    def __init__(
        self,
        context: dg.SensorEvaluationContext,
        store: ConnectionStatusStore,
        connections: ConnectionsResource,
        alerts: AlertsResource,
    ) -> None:
        self.context, self.store = context, store
        self.connections, self.alerts = connections, alerts
        self.probe_requests: list[dg.RunRequest] = []  # catch-ups a probe turned up

    def handle(self, event: InboxEvent) -> list[dg.RunRequest] | str:
        try:
            payload = event.payload
            data = payload.get("data") or {}
            kind = event.event_type or payload.get("type")
        except (ValueError, AttributeError):
            return "the body is not a JSON object"
        if kind not in (SYNC_COMPLETED, REAUTHORIZATION_EVENT, STATUS_CHANGED):
            self.context.log.info(f"webhook {event.webhook_id}: {kind} needs no action")
            return []
        name = self._connection_named(data.get("connectionId"))
        if name is None:
            return f"no configured connection has connectionId {data.get('connectionId')!r}"
        if kind == SYNC_COMPLETED:
            return self._sync(name, event.webhook_id)
        if kind == REAUTHORIZATION_EVENT:
            return self._status(name, cs.REAUTHORIZATION_REQUIRED, event)
        if data.get("status") in (cs.ONLINE, cs.OFFLINE):
            return self._status(name, data["status"], event)
        return f"{kind} with unknown status {data.get('status')!r}"

    def _connection_named(self, api_id: object) -> str | None:
        """Our name for the API's connection id; ids not seen yet are learnt by probing."""
        if not isinstance(api_id, str):
            return None
        if self.store.name_for(api_id) is None:
            known = self.store.all()
            unseen = [
                n
                for n in self.connections.names
                if n not in known or known[n].api_connection_id is None
            ]
            self.probe_requests += _probe_all(
                self.context, self.store, self.connections, self.alerts, unseen, "webhook_inbox"
            )
        return self.store.name_for(api_id)

    def _sync(self, name: str, webhook_id: str) -> list[dg.RunRequest]:
        state = self.store.get(name)
        if state is not None and state.needs_attention:
            self.context.log.info(f"sync.completed for {name!r} ignored: {state.status}")
            return []
        today = datetime.now(UTC).date()
        return sync_requests(name, today, "webhook", run_key=f"webhook:{webhook_id}")

    def _status(self, name: str, status: str, event: InboxEvent) -> list[dg.RunRequest]:
        return apply_status(
            self.store,
            self.alerts.alerter(self.context.log),
            name,
            status,
            detail=f"webhook {event.webhook_id}",
            catch_up=catch_up,
            source="webhook_inbox",
        )
