"""Hand-worked window arithmetic of incremental telemetry reads."""

from datetime import UTC, datetime, timedelta

from sources.telemetry_streams import SyncWindow

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def test_first_sync_backfills_from_start_in_seven_day_chunks():
    window = SyncWindow(start=NOW - 16 * DAY, lookback=timedelta(hours=48), now=NOW)

    assert window.windows(None) == [
        (NOW - 16 * DAY, NOW - 9 * DAY),
        (NOW - 9 * DAY, NOW - 2 * DAY),
        (NOW - 2 * DAY, NOW),
    ]


def test_next_sync_rereads_the_lookback_from_the_committed_end():
    window = SyncWindow(start=NOW - 14 * DAY, lookback=timedelta(hours=48), now=NOW)

    committed = "2026-11-20T11:45:00.000Z"

    assert window.windows(committed) == [(datetime(2026, 11, 18, 11, 45, tzinfo=UTC), NOW)]


def test_explicit_start_rereads_even_where_state_exists():
    window = SyncWindow(start=NOW - DAY, lookback=timedelta(0), now=NOW, force_start=True)

    assert window.windows("2026-11-20T11:00:00.000Z") == [(NOW - DAY, NOW)]


def test_nothing_to_read_when_committed_end_is_now_and_no_lookback():
    window = SyncWindow(start=NOW - DAY, lookback=timedelta(0), now=NOW)

    assert window.windows("2026-11-20T12:00:00.000Z") == []
