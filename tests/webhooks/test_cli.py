"""`tractian-elt webhooks ...` as a user runs it, against real local endpoints."""

import contextlib
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime

import standardwebhooks

from tests.webhooks.conftest import clean_env, cli, new_secret
from webhooks.inbox import Inbox, InboxEvent
from webhooks.notifier import SYNC_COMPLETED, SYNC_FAILED, Notifier
from webhooks.outbox import Outbox

SECRET = new_secret()


def outbox_rows(path):
    with contextlib.closing(sqlite3.connect(path)) as conn:
        return conn.execute("SELECT event_type, status, attempts FROM outbox").fetchall()


def test_given_a_working_url_when_send_test_then_it_reports_delivery_verifiable_by_the_library(
    endpoint_factory, tmp_path
):
    endpoint = endpoint_factory([204])
    outbox = tmp_path / "notifications.sqlite"
    env = clean_env(TRACTIAN_NOTIFY_URL=endpoint.url, TRACTIAN_NOTIFY_SECRET=SECRET)

    result = cli("webhooks", "send-test", "--outbox", str(outbox), env=env)

    assert result.returncode == 0, result.stderr
    assert "delivered: tractian_elt.test" in result.stdout
    assert "HTTP 204" in result.stdout
    assert "token=" not in result.stdout  # the URL's path and query may hold a token
    assert SECRET not in result.stdout + result.stderr
    [request] = endpoint.requests
    payload = standardwebhooks.Webhook(SECRET).verify(request.body, request.headers)
    assert payload["type"] == "tractian_elt.test"
    assert outbox_rows(outbox) == [("tractian_elt.test", "delivered", 1)]


def test_given_a_failing_url_when_send_test_then_exit_1_and_no_retry_is_scheduled(
    endpoint_factory, tmp_path
):
    endpoint = endpoint_factory([500])
    outbox = tmp_path / "notifications.sqlite"
    env = clean_env(TRACTIAN_NOTIFY_SECRET=SECRET)

    result = cli("webhooks", "send-test", "--url", endpoint.url, "--outbox", str(outbox), env=env)

    assert result.returncode == 1
    assert "not delivered" in result.stdout
    assert "HTTP 500" in result.stdout
    assert outbox_rows(outbox) == [("tractian_elt.test", "failed", 1)]


def test_given_no_notify_secret_when_send_test_then_a_clear_error(tmp_path):
    env = clean_env(TRACTIAN_NOTIFY_URL="http://127.0.0.1:9/")

    result = cli("webhooks", "send-test", "--outbox", str(tmp_path / "n.sqlite"), env=env)

    assert result.returncode == 2
    assert result.stderr.strip() == "error: TRACTIAN_NOTIFY_SECRET is not set"


def test_given_a_malformed_rotation_secret_when_serve_then_it_names_the_entry_not_the_value(
    tmp_path,
):
    bad = "whsec_not*base64"
    env = clean_env(TRACTIAN_WEBHOOK_SECRETS=f"{SECRET},{bad}")

    result = cli("webhooks", "serve", "--inbox", str(tmp_path / "inbox.sqlite"), env=env)

    assert result.returncode == 2
    assert "TRACTIAN_WEBHOOK_SECRETS entry 2" in result.stderr
    assert bad not in result.stderr
    assert SECRET not in result.stderr


def test_given_queued_notifications_when_deliver_once_then_they_are_sent(
    endpoint_factory, tmp_path
):
    endpoint = endpoint_factory([200])
    outbox = tmp_path / "notifications.sqlite"
    queued = Notifier(Outbox(outbox), endpoint.url, SECRET)
    event_id = queued.notify(SYNC_COMPLETED, {"connectionId": "plant-1", "rows": 42})
    queued.close()
    env = clean_env(TRACTIAN_NOTIFY_URL=endpoint.url, TRACTIAN_NOTIFY_SECRET=SECRET)

    result = cli("webhooks", "deliver", "--once", "--outbox", str(outbox), env=env)

    assert result.returncode == 0, result.stderr
    [request] = endpoint.requests
    payload = standardwebhooks.Webhook(SECRET).verify(request.body, request.headers)
    assert request.headers["webhook-id"] == event_id
    assert payload["data"] == {"connectionId": "plant-1", "rows": 42}
    assert outbox_rows(outbox) == [("tractian_elt.sync.completed", "delivered", 1)]


def test_given_the_delivery_loop_running_when_an_event_is_queued_then_it_is_sent_until_sigterm(
    endpoint_factory, tmp_path
):
    endpoint = endpoint_factory([200])
    outbox = tmp_path / "notifications.sqlite"
    env = clean_env(TRACTIAN_NOTIFY_URL=endpoint.url, TRACTIAN_NOTIFY_SECRET=SECRET)
    command = [sys.executable, "-m", "orchestration.cli", "webhooks", "deliver"]
    loop = subprocess.Popen([*command, "--outbox", str(outbox)], env=env, text=True)
    try:
        queued = Notifier(Outbox(outbox), endpoint.url, SECRET)
        event_id = queued.notify(SYNC_FAILED, {"connectionId": "plant-1"})
        queued.close()
        deadline = time.monotonic() + 20
        while not endpoint.requests and time.monotonic() < deadline:
            time.sleep(0.05)
        loop.send_signal(signal.SIGTERM)
        exit_code = loop.wait(timeout=20)
    finally:
        if loop.poll() is None:
            loop.kill()
            loop.wait()

    assert exit_code == 0
    assert [r.headers["webhook-id"] for r in endpoint.requests] == [event_id]
    assert outbox_rows(outbox) == [("tractian_elt.sync.failed", "delivered", 1)]


def test_given_an_inbox_when_listed_then_pending_and_processed_events_show(tmp_path):
    path = tmp_path / "inbox.sqlite"
    at = datetime(2025, 6, 2, 12, 0, tzinfo=UTC)
    with Inbox(path) as inbox:
        inbox.store(
            [
                InboxEvent("msg_done", 1, "sync.completed", "{}", at),
                InboxEvent("msg_waiting", 1, "sync.failed", "{}", at),
            ]
        )
        inbox.mark_processed(["msg_done"])

    everything = cli("webhooks", "inbox", "--inbox", str(path), env=clean_env())
    waiting = cli("webhooks", "inbox", "--inbox", str(path), "--pending", env=clean_env())

    assert everything.stdout.splitlines() == [
        "2025-06-02T12:00:00Z  pending    msg_waiting  sync.failed",
        "2025-06-02T12:00:00Z  processed  msg_done  sync.completed",
    ]
    assert waiting.stdout.splitlines() == [
        "2025-06-02T12:00:00Z  pending    msg_waiting  sync.failed"
    ]
