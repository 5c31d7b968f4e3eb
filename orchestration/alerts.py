"""Alerts: why a sync failed, in one word, and one signed notification per alert.

Asset bodies turn what `sources/` raises into a `dg.Failure` whose metadata carries the
`reason` and `connection`; the failure sensor reads them back (and falls back to the
error text for failures raised elsewhere, such as a blocking check). Alerts are queued
in the signed notifier's outbox (`webhooks/notifier.py`) when
`TRACTIAN_NOTIFY_URL` is set, and always written to the Dagster log of the sensor tick
that raised them, so they show in the UI either way.
"""

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg

from orchestration.connection_status import (
    INVALID_TOKEN,
    MISCONFIGURED,
    NEEDS_ATTENTION,
    REAUTHORIZATION_REQUIRED,
)
from sources.connections import ConnectionConfigError
from sources.errors import TractianError
from sources.pipeline import ConnectionNeedsAttention, SyncFailed
from webhooks import settings as webhook_settings

RATE_LIMITED = "rate_limited"
TRANSIENT = "transient"
DATA_QUALITY = "data_quality"
FORBIDDEN = "forbidden"
UNEXPECTED = "unexpected"
# Reasons only a person can clear are the statuses of a connection that needs attention:
# the connection's status records them and runs don't retry.
ATTENTION_REASONS = NEEDS_ATTENTION
WAREHOUSE_WIDE = "all"  # the transform reads every connection's rows

# (marker in an error's text, reason), first match wins: for failures that reached the
# run without our `dg.Failure` metadata.
_TEXT_MARKERS = (
    ("reauthorization_required", REAUTHORIZATION_REQUIRED),
    ("ReauthorizationRequired", REAUTHORIZATION_REQUIRED),
    ("invalid_token", INVALID_TOKEN),
    ("InvalidToken", INVALID_TOKEN),
    ("DagsterAssetCheckFailedError", DATA_QUALITY),
    ("SchemaError", DATA_QUALITY),
    ("TableValidationError", DATA_QUALITY),
    ("rate limited", RATE_LIMITED),
    ("forbidden", FORBIDDEN),
    ("TransientError", TRANSIENT),
    ("gave up after", TRANSIENT),
    ("ConnectionError", TRANSIENT),
    ("Timeout", TRANSIENT),
)


def reason_from_text(text: str) -> str:
    """The reason named by an error's text (type names and messages), else `unexpected`."""
    return next((reason for marker, reason in _TEXT_MARKERS if marker in text), UNEXPECTED)


def reason_for(exc: BaseException) -> str:
    """The reason a sync raised `exc` for."""
    if isinstance(exc, ConnectionNeedsAttention):
        return exc.cause.code
    if isinstance(exc, ConnectionConfigError):  # no token, or no companies where needed
        return MISCONFIGURED
    if isinstance(exc, SyncFailed):  # what is left after the client's retries
        found = reason_from_text("\n".join(exc.report.failures))
        return TRANSIENT if found == UNEXPECTED else found
    if isinstance(exc, TractianError):
        text = f"{type(exc).__name__}: {exc}"
        return reason_from_text(text) if exc.code == TRANSIENT else exc.code
    return reason_from_text(f"{type(exc).__name__}: {exc}")


def failure(failures: Mapping[str, tuple[str, str]]) -> dg.Failure:
    """One `dg.Failure` for the connections that failed: {name: (reason, message)}."""
    first_name, (first_reason, _) = next(iter(failures.items()))
    lines = [f"{name}: {reason}: {message}" for name, (reason, message) in failures.items()]
    return dg.Failure(
        description="; ".join(lines),
        metadata={
            "reason": first_reason,
            "connection": first_name,
            "reasons": dg.MetadataValue.json({n: r for n, (r, _) in failures.items()}),
        },
        # Retrying cannot fix a token; everything else may pass on a retry.
        allow_retries=not any(r in ATTENTION_REASONS for r, _ in failures.values()),
    )


class Alerter:
    """Sends alerts: to the log always, to the signed outbox when notifications are set."""

    def __init__(self, outbox_path: Path | str, log: logging.Logger | Any) -> None:
        self.outbox_path = Path(outbox_path)
        self.log = log

    def send(self, event_type: str, data: Mapping[str, Any]) -> str | None:
        """Queue `event_type` with `data` (never secrets); the event id, or None if unset."""
        summary = ", ".join(f"{k}={v}" for k, v in data.items() if k != "message")
        self.log.warning(f"ALERT {event_type}: {summary}; {data.get('message', '')}".rstrip("; "))
        if not webhook_settings.notifications_configured():
            self.log.info(
                f"{webhook_settings.NOTIFY_URL_ENV} is not set: the alert is only shown here"
            )
            return None
        from webhooks.notifier import Notifier

        notifier = Notifier.from_env(self.outbox_path)
        try:
            event_id = notifier.notify(event_type, data)
        finally:
            notifier.close()
        self.log.info(f"queued notification {event_id}")
        return event_id
