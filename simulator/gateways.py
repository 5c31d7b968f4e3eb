"""Gateway outages: why samples reach the API late.

Time is cut into per-gateway 4-day cycles (phase-shifted); in each, with probability
OUTAGE_PROBABILITY, the gateway is offline for 1-40 hours, wholly inside the cycle.
Samples taken while offline become visible when it reconnects. Pure functions of
(seed, gateway, time), vectorised over gateways for the reconnect feed.
"""

import numpy as np

from simulator.noise import key_of, uniforms
from simulator.timefmt import DAY_MS, HOUR_MS

CYCLE_MS = 4 * DAY_MS
OUTAGE_PROBABILITY = 0.3
MIN_OUTAGE_MS = HOUR_MS
MAX_OUTAGE_MS = 40 * HOUR_MS
# The counter packs (gateway tag, cycle): tag << _CYCLE_BITS | cycle.
_CYCLE_BITS = 24


class Outages:
    """When each gateway is offline."""

    def __init__(self, seed: int, gateway_ids: list[str]) -> None:
        self._key = key_of(seed, "outages")
        self.gateway_ids = list(gateway_ids)
        self._index = {g: i for i, g in enumerate(self.gateway_ids)}
        keys = [key_of(seed, "gateway", g) for g in self.gateway_ids]
        self._tags = np.array([k & 0xFFFFFFFF for k in keys], dtype=np.int64)
        self._phases = np.array([(k >> 32) % CYCLE_MS for k in keys], dtype=np.int64)

    def _cycles(
        self, rows: np.ndarray, cycles: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(start, end, happens) of the outage candidate of each (gateway row, cycle)."""
        counter = (self._tags[rows] << _CYCLE_BITS) | (cycles & ((1 << _CYCLE_BITS) - 1))
        u = uniforms(self._key, counter.ravel(), 3).reshape(*counter.shape, 3)
        cycle_start = self._phases[rows] + cycles * CYCLE_MS
        start = cycle_start + (u[..., 1] * (CYCLE_MS - MAX_OUTAGE_MS)).astype(np.int64)
        duration = MIN_OUTAGE_MS + u[..., 2] ** 2 * (MAX_OUTAGE_MS - MIN_OUTAGE_MS)
        return start, start + duration.astype(np.int64), u[..., 0] < OUTAGE_PROBABILITY

    def between(self, gateway_id: str, start_ms: int, end_ms: int) -> list[tuple[int, int]]:
        """Outages [start, end) of one gateway overlapping [start_ms, end_ms), in order."""
        row = self._index[gateway_id]
        phase = int(self._phases[row])
        first = (start_ms - phase) // CYCLE_MS - 1
        last = (end_ms - phase) // CYCLE_MS
        cycles = np.arange(first, last + 1, dtype=np.int64)
        s, e, on = self._cycles(np.full(cycles.shape, row), cycles)
        keep = on & (e > start_ms) & (s < end_ms)
        return list(zip(s[keep].tolist(), e[keep].tolist(), strict=True))

    def visible_at(self, gateway_id: str, sampled_ms: np.ndarray) -> np.ndarray:
        """When each sample becomes visible: the reconnect time if taken offline."""
        visible = sampled_ms.copy()
        if len(sampled_ms) == 0:
            return visible
        span = self.between(gateway_id, int(sampled_ms[0]), int(sampled_ms[-1]) + 1)
        for s, e in span:
            visible[(sampled_ms >= s) & (sampled_ms < e)] = e
        return visible

    def reconnects(self, after_ms: int, until_ms: int) -> list[tuple[str, int]]:
        """(gateway id, reconnect time) with after < reconnect <= until, by time then id."""
        if until_ms <= after_ms or not self.gateway_ids:
            return []
        first = (after_ms - self._phases) // CYCLE_MS
        count = int(((until_ms - self._phases) // CYCLE_MS - first).max()) + 1
        cycles = first[:, None] + np.arange(count, dtype=np.int64)[None, :]
        rows = np.broadcast_to(np.arange(len(self.gateway_ids))[:, None], cycles.shape)
        _, end, on = self._cycles(rows, cycles)
        hit = on & (end > after_ms) & (end <= until_ms)
        pairs = [(self.gateway_ids[r], int(t)) for r, t in zip(rows[hit], end[hit], strict=True)]
        return sorted(pairs, key=lambda p: (p[1], p[0]))
