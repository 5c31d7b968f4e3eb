"""The one path every connection-status change takes, whoever noticed it.

The health sensor (a `/connection` or token probe), the failure sensor (a run that failed on
its token) and the webhook-inbox sensor (a platform event) all call `apply_status`:
it records the status and, on a transition, alerts once and returns the runs to
request (a catch-up sync when a connection comes back).
"""

from collections.abc import Callable
from datetime import UTC, date, datetime

import dagster as dg

from orchestration import connection_status as cs
from orchestration.alerts import Alerter
from orchestration.connection_status import ConnectionState, ConnectionStatusStore
from orchestration.resources import ConnectionsResource
from sources.api_features import check_health
from sources.connections import ConnectionConfigError, client_for
from sources.errors import TractianError
from webhooks.notifier import CONNECTION_RESTORED, REAUTHORIZATION_REQUIRED, SYNC_FAILED

# Requests for a catch-up sync of one connection, given its name and today's date.
CatchUp = Callable[[str, date], list[dg.RunRequest]]


def apply_status(
    store: ConnectionStatusStore,
    alerter: Alerter,
    connection: str,
    status: str,
    *,
    detail: str = "",
    api_connection_id: str | None = None,
    catch_up: CatchUp,
    source: str,
) -> list[dg.RunRequest]:
    """Record `status` for `connection` (noticed by `source`); alert on a transition."""
    requests: list[dg.RunRequest] = []

    def on_change(previous: ConnectionState | None, current: ConnectionState) -> None:
        was = previous.status if previous else None
        alerter.log.info(f"connection {connection!r}: {was} -> {current.status} ({source})")
        data = {"connection": connection, "status": current.status, "detected_by": source}
        if current.needs_attention and not (previous and previous.needs_attention):
            event = _attention_event(current.status)
            alerter.send(event, {**data, "reason": current.status, "message": detail})
        elif previous is not None and previous.needs_attention and not current.needs_attention:
            alerter.send(CONNECTION_RESTORED, {**data, "previous_status": previous.status})
            requests.extend(catch_up(connection, datetime.now(UTC).date()))

    store.record(
        connection,
        status,
        detail=detail,
        api_connection_id=api_connection_id,
        on_change=on_change,
    )
    return requests


def _attention_event(status: str) -> str:
    return REAUTHORIZATION_REQUIRED if status == cs.REAUTHORIZATION_REQUIRED else SYNC_FAILED


def probe(connections: ConnectionsResource, name: str) -> tuple[str, str, str | None] | None:
    """(status, detail, API connection id) of connection `name`; None if unknown now.

    `/connection` answers where the integration layer has it; against the published API
    alone, one data request tells whether the token still reads (any 401 there is
    `invalid_token`). An API that does not answer tells nothing: the status is kept.
    """
    try:
        connection = connections.load(name)
        health = check_health(client_for(connection, probe=True), connection)
    except ConnectionConfigError as exc:  # no usable token or companies: a person must fix it
        return cs.MISCONFIGURED, str(exc), None
    except TractianError:
        return None
    if health.status not in cs.STATUSES:
        return None
    return health.status, health.detail, health.connection_id
