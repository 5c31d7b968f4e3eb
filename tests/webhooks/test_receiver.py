"""The receiver over real HTTP: what each kind of request gets, and what gets stored."""

import base64
import contextlib
import http.client
import sqlite3
import time
import uuid
from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest
import requests
import standardwebhooks

from tests.webhooks.conftest import (
    event_body,
    new_secret,
    running_receiver,
    signed_request,
    stored_ids,
)
from webhooks.signing import signed_headers

SECRET = new_secret()
OTHER_SECRET = new_secret()


@pytest.fixture
def inbox_path(tmp_path):
    return tmp_path / "inbox.sqlite"


@pytest.fixture
def receiver_url(inbox_path):
    with running_receiver(inbox_path, [SECRET]) as url:
        yield url


def post(url, body, headers):
    return requests.post(url, data=body, headers=headers, timeout=15)


def test_given_an_event_signed_by_the_standardwebhooks_library_then_it_is_stored(
    receiver_url, inbox_path
):
    body = event_body("sync.completed", connectionId="plant-1")
    msg_id = "msg_2Lj1vQbl1RbGMxsQnQUMSBA9b5K"
    now = datetime.now(UTC)
    signature = standardwebhooks.Webhook(SECRET).sign(msg_id, now, body.decode())
    headers = {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature,
        "Content-Type": "application/json",
    }

    response = post(receiver_url, body, headers)

    assert response.status_code == 200
    assert response.json() == {"webhookId": msg_id, "duplicate": False}
    assert stored_ids(inbox_path) == [msg_id]


def _tamper(body, headers):
    return body.replace(b"plant-1", b"plant-2"), headers


def _wrong_secret(body, headers):
    return body, signed_request(OTHER_SECRET, body)


def _aged(seconds):
    def shift(body, headers):
        return body, signed_at(body, headers["webhook-id"], int(time.time()) + seconds)

    return shift


def signed_at(body, msg_id, timestamp):
    return signed_headers(SECRET, msg_id, body, timestamp) | {"Content-Type": "application/json"}


def _without(name):
    def drop(body, headers):
        return body, {k: v for k, v in headers.items() if k != name}

    return drop


def _header(name, value):
    def replace(body, headers):
        return body, headers | {name: value}

    return replace


REJECTED_WITH_401 = {
    "tampered body": _tamper,
    "wrong secret": _wrong_secret,
    "timestamp 6 minutes old": _aged(-360),
    "timestamp 6 minutes ahead": _aged(360),
    "no webhook-id": _without("webhook-id"),
    "no webhook-timestamp": _without("webhook-timestamp"),
    "no webhook-signature": _without("webhook-signature"),
    "signature without version": _header("webhook-signature", "c2lnbmF0dXJl"),
    "signature not base64": _header("webhook-signature", "v1,not*base64!"),
    "unknown signature version only": _header("webhook-signature", "v2,c2lnbmF0dXJl"),
    "timestamp not a number": _header("webhook-timestamp", "yesterday"),
    "timestamp with 5000 digits": _header("webhook-timestamp", "9" * 5000),
    "webhook-id not UTF-8": _header("webhook-id", b"msg_\xff\xfe"),
}


@pytest.mark.parametrize("mutate", REJECTED_WITH_401.values(), ids=REJECTED_WITH_401.keys())
def test_given_a_request_that_fails_verification_then_401_and_nothing_stored(
    receiver_url, inbox_path, mutate
):
    body = event_body("sync.completed", connectionId="plant-1")
    body, headers = mutate(body, signed_request(SECRET, body))

    response = post(receiver_url, body, headers)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_signature"
    assert stored_ids(inbox_path) == []


def test_given_a_timestamp_four_minutes_old_then_it_is_still_accepted(receiver_url, inbox_path):
    body = event_body()
    headers = signed_at(body, "msg_four_minutes", int(time.time()) - 240)

    assert post(receiver_url, body, headers).status_code == 200
    assert stored_ids(inbox_path) == ["msg_four_minutes"]


def test_given_an_oversized_body_then_413_and_nothing_stored(receiver_url, inbox_path):
    body = event_body(blob="x" * (64 * 1024))
    response = post(receiver_url, body, signed_request(SECRET, body))

    assert response.status_code == 413
    assert stored_ids(inbox_path) == []


def test_given_an_oversized_chunked_body_then_413_while_reading(receiver_url, inbox_path):
    """No Content-Length to refuse up front: the cap must hold while the body streams in."""
    body = event_body(blob="x" * (80 * 1024))
    headers = signed_request(SECRET, body)
    chunks = (body[i : i + 4096] for i in range(0, len(body), 4096))

    response = post(receiver_url, chunks, headers)

    assert response.status_code == 413
    assert stored_ids(inbox_path) == []


def test_given_a_body_just_under_the_cap_then_it_is_stored(receiver_url, inbox_path):
    filler = 64 * 1024 - len(event_body(blob=""))
    body = event_body(blob="x" * filler)
    assert len(body) == 64 * 1024

    response = post(receiver_url, body, signed_request(SECRET, body, "msg_at_cap"))

    assert response.status_code == 200
    assert stored_ids(inbox_path) == ["msg_at_cap"]


def test_given_an_empty_body_then_411(receiver_url, inbox_path):
    response = post(receiver_url, b"", signed_request(SECRET, b""))

    assert response.status_code == 411
    assert stored_ids(inbox_path) == []


def test_given_no_content_length_and_no_body_then_411(receiver_url, inbox_path):
    url = urlsplit(receiver_url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=15)
    try:
        conn.putrequest("POST", url.path)
        for name, value in signed_request(SECRET, b"").items():
            conn.putheader(name, value)
        conn.endheaders()
        status = conn.getresponse().status
    finally:
        conn.close()

    assert status == 411
    assert stored_ids(inbox_path) == []


def test_given_a_non_json_content_type_then_415(receiver_url, inbox_path):
    body = event_body()
    headers = signed_request(SECRET, body) | {"Content-Type": "text/plain"}

    assert post(receiver_url, body, headers).status_code == 415
    assert stored_ids(inbox_path) == []


@pytest.mark.parametrize(
    "body",
    [b"type=sync.completed", b'{"type": "sync.completed"', b'{"k": "\xff"}'],
    ids=["form", "truncated", "not utf-8"],
)
def test_given_a_correctly_signed_body_that_is_not_json_then_415(receiver_url, inbox_path, body):
    response = post(receiver_url, body, signed_request(SECRET, body))

    assert response.status_code == 415
    assert stored_ids(inbox_path) == []


def test_given_the_same_event_three_times_then_three_2xx_and_stored_once(receiver_url, inbox_path):
    body = event_body("sync.failed", connectionId="plant-1")
    answers = [post(receiver_url, body, signed_request(SECRET, body, "msg_dup")) for _ in range(3)]

    assert [a.status_code for a in answers] == [200, 200, 200]
    assert [a.json()["duplicate"] for a in answers] == [False, True, True]
    assert stored_ids(inbox_path) == ["msg_dup"]


def test_given_a_stored_event_then_its_exact_body_type_and_timestamp_are_kept(
    receiver_url, inbox_path
):
    body = b'{"type":"connection.status_changed","data":{"status":"offline"},"timestamp":"t"}'
    headers = signed_request(SECRET, body, "msg_exact")
    post(receiver_url, body, headers)

    with contextlib.closing(sqlite3.connect(inbox_path)) as conn:
        row = conn.execute(
            "SELECT body, event_type, webhook_timestamp, processed_at FROM inbox_events"
        ).fetchone()
    assert row == (
        body.decode(),
        "connection.status_changed",
        int(headers["webhook-timestamp"]),
        None,
    )


def test_given_two_secrets_during_rotation_then_events_signed_with_either_are_accepted(
    inbox_path,
):
    old, new = new_secret(), new_secret()
    body = event_body()
    with running_receiver(inbox_path, [new, old]) as url:
        by_old = post(url, body, signed_request(old, body, "msg_old"))
        by_new = post(url, body, signed_request(new, body, "msg_new"))
        both = signed_request(old, body, "msg_both")
        # A sender in rotation signs with both; one stale signature must not spoil it.
        by_new_too = signed_request(new, body, "msg_both")["webhook-signature"]
        both["webhook-signature"] = f"v1,{base64.b64encode(b'x' * 32).decode()} " + " ".join(
            [both["webhook-signature"], by_new_too]
        )
        by_both = post(url, body, both)

    assert [by_old.status_code, by_new.status_code, by_both.status_code] == [200, 200, 200]
    assert stored_ids(inbox_path) == ["msg_old", "msg_new", "msg_both"]


def test_given_rotation_is_over_then_the_retired_secret_is_refused(inbox_path):
    old, new = new_secret(), new_secret()
    body = event_body()
    with running_receiver(inbox_path, [new]) as url:
        response = post(url, body, signed_request(old, body))

    assert response.status_code == 401
    assert stored_ids(inbox_path) == []


@pytest.mark.parametrize(
    ("busy_timeout_s", "store_timeout_s"),
    [(0.2, 8.0), (1.0, 0.2)],
    ids=["commit fails", "commit too slow"],
)
def test_given_the_inbox_cannot_be_written_then_503_and_the_retry_is_stored_once(
    inbox_path, busy_timeout_s, store_timeout_s
):
    body = event_body()
    headers = signed_request(SECRET, body, f"msg_{uuid.uuid4().hex}")
    timeouts = {"busy_timeout_s": busy_timeout_s, "store_timeout_s": store_timeout_s}
    with running_receiver(inbox_path, [SECRET], **timeouts) as url:
        blocker = sqlite3.connect(inbox_path, isolation_level=None)
        blocker.execute("BEGIN EXCLUSIVE")
        refused = post(url, body, headers)
        blocker.execute("ROLLBACK")
        blocker.close()
        retried = post(url, body, headers)

    assert refused.status_code == 503
    assert retried.status_code == 200
    assert stored_ids(inbox_path) == [headers["webhook-id"]]
