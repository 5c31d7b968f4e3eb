"""The inbox as its consumer (the Dagster sensor) uses it: pending, mark, prune, dedupe."""

import contextlib
import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from webhooks.inbox import Inbox, InboxEvent

T0 = datetime(2025, 6, 2, 12, 0, tzinfo=UTC)


def event(webhook_id, received_at=T0, event_type="sync.completed"):
    body = f'{{"type": "{event_type}", "data": {{"connectionId": "{webhook_id}"}}}}'
    return InboxEvent(webhook_id, 1748865600, event_type, body, received_at)


@pytest.fixture
def inbox(tmp_path):
    with Inbox(tmp_path / "inbox.sqlite") as inbox:
        yield inbox


def test_given_a_batch_with_a_repeated_id_then_the_first_is_new_and_the_rest_duplicates(inbox):
    assert inbox.store([event("a"), event("b"), event("a")]) == [True, True, False]
    assert inbox.store([event("b"), event("c")]) == [False, True]
    assert [e.webhook_id for e in inbox.pending()] == ["a", "b", "c"]


def test_given_pending_events_then_they_come_oldest_first_up_to_the_limit(inbox):
    inbox.store([event(f"msg_{n}") for n in range(5)])

    batch = inbox.pending(limit=3)

    assert [e.webhook_id for e in batch] == ["msg_0", "msg_1", "msg_2"]
    assert batch[0].payload == {"type": "sync.completed", "data": {"connectionId": "msg_0"}}
    assert batch[0].received_at == T0


def test_given_marked_events_then_they_leave_pending_once(inbox):
    inbox.store([event("a"), event("b"), event("c")])

    assert inbox.mark_processed(["a", "c"], now=T0 + timedelta(minutes=1)) == 2
    assert inbox.mark_processed(["a"]) == 0
    assert inbox.mark_processed(["b"], error="unknown event type") == 1

    assert inbox.pending() == []
    processed = inbox.get("a")
    assert (processed.processed_at, processed.error) == (T0 + timedelta(minutes=1), None)
    assert inbox.get("b").error == "unknown event type"


def test_given_the_dedupe_window_then_only_old_processed_events_are_pruned(inbox):
    now = T0 + timedelta(hours=100)
    inbox.store(
        [
            event("processed_73h_ago", now - timedelta(hours=73)),
            event("processed_71h_ago", now - timedelta(hours=71)),
            event("pending_100h_ago", now - timedelta(hours=100)),
        ]
    )
    inbox.mark_processed(["processed_73h_ago", "processed_71h_ago"], now=now)

    assert inbox.prune(now=now) == 1

    assert inbox.get("processed_73h_ago") is None
    # Within 72 hours a redelivery is still a duplicate; unprocessed events are never pruned.
    assert inbox.store([event("processed_71h_ago"), event("pending_100h_ago")]) == [False, False]


def test_given_a_writer_holding_the_file_then_readers_are_not_blocked(tmp_path):
    path = tmp_path / "inbox.sqlite"
    with Inbox(path) as inbox:
        inbox.store([event("committed")])
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as writer:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute(
            "INSERT INTO inbox_events (webhook_id, webhook_timestamp, body, received_at)"
            " VALUES ('uncommitted', 1, '{}', '2025-06-02T12:00:00.000000Z')"
        )
        with Inbox(path, busy_timeout_s=0.05) as reader:
            seen = [e.webhook_id for e in reader.pending()]
        writer.execute("ROLLBACK")

    assert seen == ["committed"]
