"""Progress of a long sync, per resource: rows, streams done and rate, on stderr.

Lines are throttled (one every `interval_s` per resource) so a 10-million-row backfill
shows where it is without flooding a log; the sync report takes its final `rows`.
"""

import sys
import threading
import time
from dataclasses import dataclass, field
from typing import TextIO


@dataclass
class Progress:
    resource: str
    total_streams: int = 0
    rows: int = 0
    done: int = 0
    started: float = field(default_factory=time.monotonic)
    interval_s: float = 5.0
    out: TextIO | None = field(default=sys.stderr, repr=False)
    _last: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add_rows(self, n: int) -> None:
        with self._lock:
            self.rows += n
        self._maybe_print()

    def add_done(self, n: int) -> None:
        with self._lock:
            self.done += n
        self._maybe_print()

    @property
    def rate(self) -> float:
        elapsed = time.monotonic() - self.started
        return self.rows / elapsed if elapsed > 0 else 0.0

    def line(self) -> str:
        streams = f"{self.done}/{self.total_streams} streams, " if self.total_streams else ""
        return f"{self.resource}: {streams}{self.rows:,} rows, {self.rate:,.0f} rows/s"

    def _maybe_print(self) -> None:
        now = time.monotonic()
        if self.out is None or now - self._last < self.interval_s:
            return
        self._last = now
        print(self.line(), file=self.out, flush=True)
