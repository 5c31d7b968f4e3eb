"""The simulator's clock: the "now" as of which the API answers.

Frozen by default (speed 0), so a test sees the same data however long it runs; a demo
can let it run faster than real time (`speed` simulated seconds per real second). Tests
move it explicitly with `set` and `advance`. All times are integer milliseconds since the
Unix epoch, UTC. Safe to use from several threads.
"""

import threading
import time
from datetime import UTC, datetime


def to_ms(moment: datetime) -> int:
    """Milliseconds since the epoch of an aware datetime (a naive one is taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def wall_minute_ms() -> int:
    """The current wall-clock time truncated to the minute: the default start of a run."""
    return int(time.time() // 60) * 60_000


class SimClock:
    """A clock starting at `start_ms` and running at `speed` times real time (0: frozen)."""

    def __init__(self, start_ms: int, speed: float = 0.0) -> None:
        if speed < 0:
            raise ValueError("clock speed must be >= 0")
        self._lock = threading.Lock()
        self._anchor_ms = start_ms
        self._anchor_real = time.monotonic()
        self._speed = speed

    @property
    def speed(self) -> float:
        return self._speed

    def now_ms(self) -> int:
        with self._lock:
            return self._now_locked()

    def _now_locked(self) -> int:
        elapsed = time.monotonic() - self._anchor_real
        return self._anchor_ms + int(elapsed * self._speed * 1000)

    def set(self, ms: int) -> None:
        """Jump to `ms` (forwards or backwards) and keep running from there."""
        with self._lock:
            self._anchor_ms = ms
            self._anchor_real = time.monotonic()

    def advance(self, ms: int) -> None:
        """Move `ms` milliseconds forwards (negative moves back)."""
        with self._lock:
            self._anchor_ms = self._now_locked() + ms
            self._anchor_real = time.monotonic()

    def set_speed(self, speed: float) -> None:
        """Change the speed from now on, without jumping."""
        if speed < 0:
            raise ValueError("clock speed must be >= 0")
        with self._lock:
            self._anchor_ms = self._now_locked()
            self._anchor_real = time.monotonic()
            self._speed = speed
