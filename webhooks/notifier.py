"""The outbound notifier: tells this connector's users about syncs and connections.

`notify` only writes the event to the outbox (durable, cheap, safe to call from a sync or
a Dagster hook); `deliver_due` sends what is due, and `run_forever` does that in a loop.
Each event keeps one id and one body for its whole life; every attempt is signed afresh
(Standard Webhooks, the user's `whsec_` secret) with the current time, so late retries
still pass a receiver's 5-minute timestamp check.

Retries follow a failed attempt after 30 s, doubling each time (60 s, 120 s, ...), each
delay jittered by ±10 %, for 24 hours after the event was created; the last attempt is
made at the 24-hour mark. An event still undelivered then is kept with status `failed`.
Any answer but a 2xx is a failure; redirects are not followed.
"""

import json
import logging
import random
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import urllib3
from urllib3.exceptions import HTTPError, NewConnectionError, ProtocolError
from urllib3.exceptions import TimeoutError as TransportTimeout

from webhooks import settings
from webhooks.outbox import DeliveryAttempt, Outbox, OutboxEvent
from webhooks.signing import signed_headers
from webhooks.sqlite_store import to_iso

logger = logging.getLogger(__name__)

SYNC_FAILED = "tractian_elt.sync.failed"
SYNC_COMPLETED = "tractian_elt.sync.completed"
REAUTHORIZATION_REQUIRED = "tractian_elt.connection.reauthorization_required"
CONNECTION_RESTORED = "tractian_elt.connection.restored"
TEST_EVENT = "tractian_elt.test"
EVENT_TYPES = frozenset(
    {SYNC_FAILED, SYNC_COMPLETED, REAUTHORIZATION_REQUIRED, CONNECTION_RESTORED, TEST_EVENT}
)

FIRST_RETRY_DELAY_S = 30.0
RETRY_WINDOW_S = 24 * 3600.0
JITTER = 0.1
DEFAULT_TIMEOUT_S = 10.0
USER_AGENT = "tractian-elt-notifier/1"


def retry_delay(failed_attempt: int, rng: Callable[[], float] = random.random) -> float:
    """Seconds to wait after failed attempt number `failed_attempt` (1 for the first)."""
    nominal = FIRST_RETRY_DELAY_S * 2 ** (failed_attempt - 1)
    return nominal * (1 + JITTER * (2 * rng() - 1))


def next_attempt_time(
    created_at: float, failed_at: float, failed_attempt: int, rng: Callable[[], float]
) -> float | None:
    """When to try again after a failure at `failed_at`, or None once 24 hours are over."""
    deadline = created_at + RETRY_WINDOW_S
    if failed_at >= deadline:
        return None
    return min(failed_at + retry_delay(failed_attempt, rng), deadline)


def _describe(exc: HTTPError, timeout_s: float) -> str:
    # Never the exception's text: it carries the URL, which may embed a token.
    # First: urllib3's NewConnectionError is also a ConnectTimeoutError, for compatibility.
    if isinstance(exc, NewConnectionError | ProtocolError):
        return "connection failed"
    if isinstance(exc, TransportTimeout):
        return f"timeout after {timeout_s:g} s"
    return type(exc).__name__


class Notifier:
    """Signs and delivers outbox events to one URL.

    `clock` (Unix seconds) decides what is due, the signatures' timestamps and the retry
    schedule; tests pass a fast clock. `rng` draws the jitter.
    """

    def __init__(
        self,
        outbox: Outbox,
        url: str,
        secret: str,
        *,
        clock: Callable[[], float] = time.time,
        rng: Callable[[], float] = random.random,
        timeout_s: float = DEFAULT_TIMEOUT_S,
    ) -> None:
        self.outbox = outbox
        self.url = url
        self._secret = secret
        self._clock = clock
        self._rng = rng
        self._timeout_s = timeout_s
        # urllib3, like the connector's client: no retries of its own (the outbox
        # schedules them), no redirects followed.
        self._http = urllib3.PoolManager(retries=False)

    @classmethod
    def from_env(cls, outbox_path: Path | str = settings.DEFAULT_OUTBOX_PATH) -> "Notifier":
        """A notifier for `TRACTIAN_NOTIFY_URL`, signing with `TRACTIAN_NOTIFY_SECRET`."""
        url, secret = settings.notify_url(), settings.notify_secret()
        return cls(Outbox(outbox_path), url, secret)

    def close(self) -> None:
        self._http.clear()
        self.outbox.close()

    def notify(self, event_type: str, data: Mapping[str, Any]) -> str:
        """Queue an event for delivery (due at once); return its `webhook-id`."""
        now = self._clock()
        return self._enqueue(event_type, data, now, first_attempt_at=now)

    def deliver_due(self, now: float | None = None, limit: int = 100) -> list[DeliveryAttempt]:
        """Attempt every event due by `now` (default: the clock), oldest first."""
        now = self._clock() if now is None else now
        events = self.outbox.claim_due(now, self._lease_until(now), limit)
        return [self._attempt(event, retry=True) for event in events]

    def send_test(self) -> DeliveryAttempt:
        """Send a `tractian_elt.test` event once, now; it is logged but never retried."""
        now = self._clock()
        data = {"message": "test notification from tractian-elt"}
        event_id = self._enqueue(TEST_EVENT, data, now, first_attempt_at=self._lease_until(now))
        return self._attempt(self.outbox.get(event_id), retry=False)

    def run_forever(self, stop: threading.Event, poll_s: float = 1.0) -> None:
        """Deliver due events until `stop` is set, polling every `poll_s` when idle."""
        while not stop.is_set():
            try:
                busy = bool(self.deliver_due())
            except sqlite3.Error:
                # A locked or failing outbox file must not end the loop; it retries.
                logger.exception("reading the notification outbox failed")
                busy = False
            if not busy:
                stop.wait(poll_s)

    def _lease_until(self, now: float) -> float:
        return now + self._timeout_s + 60.0

    def _enqueue(
        self, event_type: str, data: Mapping[str, Any], now: float, first_attempt_at: float
    ) -> str:
        if event_type not in EVENT_TYPES:
            raise ValueError(f"unknown notification type {event_type!r}")
        event_id = f"msg_{uuid.uuid4().hex}"
        body = json.dumps(
            {"type": event_type, "timestamp": to_iso(now), "data": dict(data)},
            separators=(",", ":"),
        )
        self.outbox.enqueue(event_id, event_type, body, now, first_attempt_at)
        return event_id

    def _attempt(self, event: OutboxEvent, *, retry: bool) -> DeliveryAttempt:
        attempt = self._post(event)
        next_at = None
        if retry and not attempt.succeeded:
            next_at = next_attempt_time(
                event.created_at, attempt.attempted_at, attempt.attempt, self._rng
            )
        self.outbox.record_attempt(attempt, next_at)
        return attempt

    def _post(self, event: OutboxEvent) -> DeliveryAttempt:
        body = event.body.encode()
        attempted_at = self._clock()
        headers = signed_headers(self._secret, event.event_id, body, int(attempted_at))
        headers |= {"Content-Type": "application/json", "User-Agent": USER_AGENT}
        status_code, error = None, None
        started = time.perf_counter()
        try:
            response = self._http.request(
                "POST",
                self.url,
                body=body,
                headers=headers,
                timeout=urllib3.Timeout(connect=self._timeout_s, read=self._timeout_s),
                redirect=False,
            )
            status_code = response.status
        except HTTPError as exc:
            error = _describe(exc, self._timeout_s)
        latency_ms = (time.perf_counter() - started) * 1000
        return DeliveryAttempt(
            event.event_id, event.attempts + 1, attempted_at, status_code, error, latency_ms
        )
