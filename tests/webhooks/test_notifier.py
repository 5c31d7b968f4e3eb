"""The notifier against real local endpoints, on a fast clock."""

import contextlib
import json
import random
import sqlite3
import time
from datetime import UTC, datetime

import pytest
import standardwebhooks

from tests.webhooks.conftest import new_secret
from webhooks.notifier import (
    CONNECTION_RESTORED,
    REAUTHORIZATION_REQUIRED,
    SYNC_COMPLETED,
    SYNC_FAILED,
    Notifier,
)
from webhooks.outbox import Outbox

SECRET = new_secret()


class FastClock:
    """Unix seconds that move only when the test says so."""

    def __init__(self) -> None:
        self.now = float(int(time.time()))

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return FastClock()


@pytest.fixture
def make_notifier(tmp_path, clock):
    made = []

    def make(url, rng=lambda: 0.5, timeout_s=5.0):
        notifier = Notifier(
            Outbox(tmp_path / "notifications.sqlite"),
            url,
            SECRET,
            clock=clock,
            rng=rng,
            timeout_s=timeout_s,
        )
        made.append(notifier)
        return notifier

    yield make
    for notifier in made:
        notifier.close()


def expected_signature(msg_id, timestamp, body):
    """The signature the standardwebhooks library computes for this message."""
    moment = datetime.fromtimestamp(timestamp, UTC)
    return standardwebhooks.Webhook(SECRET).sign(msg_id, moment, body.decode())


def delivery_log(path, event_id):
    with contextlib.closing(sqlite3.connect(path)) as conn:
        return conn.execute(
            "SELECT attempt, status_code, error, event_status FROM delivery_log"
            " WHERE event_id = ? ORDER BY attempt",
            (event_id,),
        ).fetchall()


def test_given_fail_then_timeout_then_success_then_the_schedule_and_signatures_hold(
    endpoint_factory, make_notifier, clock, tmp_path
):
    endpoint = endpoint_factory([500, 1.0, 204])
    notifier = make_notifier(endpoint.url, rng=random.random, timeout_s=0.3)
    event_id = notifier.notify(SYNC_FAILED, {"connectionId": "plant-1", "reason": "timeout"})
    created = clock.now

    first = notifier.deliver_due()
    retry_at = notifier.outbox.get(event_id).next_attempt_at
    clock.now = retry_at - 1
    too_early = notifier.deliver_due()
    clock.now = retry_at
    second = notifier.deliver_due()
    second_retry_at = notifier.outbox.get(event_id).next_attempt_at
    clock.now = second_retry_at
    third = notifier.deliver_due()

    assert [a.status_code for a in first + second + third] == [500, None, 204]
    assert too_early == []
    assert second[0].error == "timeout after 0.3 s"
    assert 27 <= retry_at - created <= 33  # 30 s ± 10 %
    assert 54 <= second_retry_at - retry_at <= 66  # then 60 s ± 10 %
    assert notifier.outbox.get(event_id).status == "delivered"

    sent_at = [created, retry_at, second_retry_at]
    for request, at in zip(endpoint.requests, sent_at, strict=True):
        assert request.headers["webhook-id"] == event_id
        assert request.headers["webhook-timestamp"] == str(int(at))
        expected = expected_signature(event_id, int(at), request.body)
        assert request.headers["webhook-signature"] == expected
    assert len({r.body for r in endpoint.requests}) == 1
    payload = json.loads(endpoint.requests[0].body)
    assert payload["type"] == "tractian_elt.sync.failed"
    assert payload["data"] == {"connectionId": "plant-1", "reason": "timeout"}

    assert delivery_log(tmp_path / "notifications.sqlite", event_id) == [
        (1, 500, None, "delivered"),
        (2, None, "timeout after 0.3 s", "delivered"),
        (3, 204, None, "delivered"),
    ]


# Without jitter: 30 s doubling, cumulative, until the 24-hour mark (86400 s).
UNJITTERED_ATTEMPT_OFFSETS = [
    0, 30, 90, 210, 450, 930, 1890, 3810, 7650, 15330, 30690, 61410, 86400,
]  # fmt: skip


def test_given_an_endpoint_that_always_fails_then_retries_for_24_hours_and_keeps_the_event(
    endpoint_factory, make_notifier, clock, tmp_path
):
    endpoint = endpoint_factory([503])
    notifier = make_notifier(endpoint.url)
    event_id = notifier.notify(REAUTHORIZATION_REQUIRED, {"connectionId": "plant-1"})
    created = clock.now

    while (event := notifier.outbox.get(event_id)).status == "pending":
        clock.now = event.next_attempt_at
        notifier.deliver_due()

    offsets = [int(r.headers["webhook-timestamp"]) - created for r in endpoint.requests]
    assert offsets == UNJITTERED_ATTEMPT_OFFSETS
    late = endpoint.requests[-1]
    late_ts = int(late.headers["webhook-timestamp"])
    assert late.headers["webhook-signature"] == expected_signature(event_id, late_ts, late.body)
    assert event.status == "failed"
    log = delivery_log(tmp_path / "notifications.sqlite", event_id)
    assert [row[0] for row in log] == list(range(1, 14))
    assert {row[1:] for row in log} == {(503, None, "failed")}


def test_given_an_unreachable_url_then_the_attempt_is_logged_and_retried(
    make_notifier, clock, tmp_path
):
    notifier = make_notifier("http://127.0.0.1:9/unreachable")
    event_id = notifier.notify(CONNECTION_RESTORED, {"connectionId": "plant-1"})

    [attempt] = notifier.deliver_due()

    assert (attempt.status_code, attempt.error) == (None, "connection failed")
    assert notifier.outbox.get(event_id).next_attempt_at == clock.now + 30


def test_given_several_events_then_each_is_delivered_once_in_order(endpoint_factory, make_notifier):
    endpoint = endpoint_factory([200])
    notifier = make_notifier(endpoint.url)
    ids = [notifier.notify(SYNC_COMPLETED, {"connectionId": f"plant-{n}"}) for n in range(3)]

    assert len(notifier.deliver_due()) == 3
    assert notifier.deliver_due() == []
    assert [r.headers["webhook-id"] for r in endpoint.requests] == ids
    assert notifier.outbox.counts() == {"pending": 0, "delivered": 3, "failed": 0}


def test_given_an_unknown_event_type_then_notify_refuses_it(make_notifier):
    notifier = make_notifier("http://127.0.0.1:9/")
    with pytest.raises(ValueError, match=r"unknown notification type 'sync\.done'"):
        notifier.notify("sync.done", {})
