"""The simulator's clock: frozen by default, moved by set/advance, running when given a speed."""

import time
from datetime import UTC, datetime, timedelta

import pytest

from simulator.clock import SimClock, to_ms

START = datetime(2025, 6, 2, 12, tzinfo=UTC)
START_MS = 1_748_865_600_000  # 2025-06-02T12:00:00Z worked out by hand


def test_to_ms_takes_naive_times_as_utc():
    assert to_ms(START) == START_MS
    assert to_ms(START.replace(tzinfo=None)) == START_MS
    assert to_ms(START + timedelta(milliseconds=5)) == START_MS + 5


def test_a_frozen_clock_stays_until_moved():
    clock = SimClock(START_MS)
    time.sleep(0.02)
    assert clock.now_ms() == START_MS

    clock.advance(90_000)
    assert clock.now_ms() == START_MS + 90_000
    clock.set(START_MS - 1)
    assert clock.now_ms() == START_MS - 1


def test_a_running_clock_moves_forwards_at_its_speed():
    clock = SimClock(START_MS, speed=3600.0)
    time.sleep(0.02)
    moved = clock.now_ms() - START_MS

    clock.set_speed(0)
    frozen_at = clock.now_ms()
    time.sleep(0.02)

    assert moved >= 0.02 * 3600 * 1000
    assert clock.now_ms() == frozen_at


def test_a_negative_speed_is_refused():
    with pytest.raises(ValueError, match="speed"):
        SimClock(START_MS, speed=-1)
