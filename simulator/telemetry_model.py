"""Telemetry windows: which samples exist, which are visible at a given moment, and their
values, as numpy columns (the model arrays that the HTTP bodies and the ground truth
are both built from).

Samples exist from history start on. A window is `start <= sampledAt < end`; a sample
is visible at `as_of` once its gateway has uploaded it (see gateways.py).
"""

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from simulator.asset_tree import Component
from simulator.energy import (
    INTERVAL_H,
    UNITS_PER_WH,
    EnergyValues,
    apply_anomalies,
    energy_values,
)
from simulator.episodes import Episode, EpisodeBook
from simulator.gateways import Outages
from simulator.profiles import (
    ENERGY_STEP_MS,
    STOPPED_EVERY,
    VIBRATION_STEP_MS,
    Profile,
    duty_on,
    make_profile,
    slot_range,
)
from simulator.tariffs import PRICE_SCALE, Tariff, prices
from simulator.timefmt import ceil_div
from simulator.vibration import running, vibration_values

# Consumption running sums are cached per block of this many energy slots (one day).
_BLOCK = 96


@dataclass(frozen=True)
class VibrationFrame:
    sampled_ms: np.ndarray  # int64
    slots: np.ndarray  # slot index k of each sample (keys its random draws and its id)
    powered: np.ndarray  # bool
    values: dict[str, np.ndarray]  # VALUE_COLUMNS, "temperature", "rpm"; NaN = null


@dataclass(frozen=True)
class EnergyFrame:
    """Energy samples of one window. Consumption, demand and cost all derive from the
    integer `units` (0.1 Wh in the interval ending at sampledAt), each by one division,
    so that they agree exactly with each other whatever the window."""

    sampled_ms: np.ndarray
    values: EnergyValues
    units: np.ndarray  # int64, 0.1 Wh in the interval ending at sampledAt
    missing: np.ndarray  # bool: the interval's consumption reading is missing (null)
    accumulated_units: np.ndarray  # int64, 0.1 Wh since history start

    @property
    def consumption(self) -> np.ndarray:
        """Wh in the interval; NaN = null."""
        return np.where(self.missing, np.nan, self.units / UNITS_PER_WH)

    @property
    def accumulated(self) -> np.ndarray:
        """Wh since history start (missing readings still count: the meter ran)."""
        return self.accumulated_units / UNITS_PER_WH

    @property
    def demand(self) -> np.ndarray:
        """kW: the interval's average active power, its kWh over 0.25 h; NaN = null."""
        return np.where(self.missing, np.nan, self.units / (UNITS_PER_WH * 1000 * INTERVAL_H))

    def cost(self, tariff: Tariff) -> np.ndarray:
        """kWh times the interval's price, in the company's currency; NaN = null."""
        scale = UNITS_PER_WH * 1000 * PRICE_SCALE
        exact = self.units * prices(tariff, self.sampled_ms)
        return np.where(self.missing, np.nan, exact / scale)


class Telemetry:
    """Time series of every component, computed on demand from profiles and time."""

    def __init__(
        self, seed: int, history_start_ms: int, components: Iterable[Component], outages: Outages
    ) -> None:
        self.history_start_ms = history_start_ms
        self.profiles: dict[str, Profile] = {c.id: make_profile(seed, c) for c in components}
        self.episodes = EpisodeBook(seed)
        self.outages = outages
        self._block_totals: dict[str, np.ndarray] = {}

    def episodes_between(self, asset_id: str, start_ms: int, end_ms: int) -> list[Episode]:
        return self.episodes.between(asset_id, self.profiles[asset_id], start_ms, end_ms)

    def vibration(
        self, c: Component, start_ms: int, end_ms: int, as_of_ms: int
    ) -> VibrationFrame | None:
        p = self.profiles[c.id]
        k = slot_range(p.phase_ms, VIBRATION_STEP_MS, max(start_ms, self.history_start_ms), end_ms)
        if len(k) == 0:
            return None
        t = p.phase_ms + k * VIBRATION_STEP_MS
        episodes = self.episodes.between(c.id, p, int(t[0]), int(t[-1]) + 1)
        on = running(p, episodes, t)
        keep = on | (k % STOPPED_EVERY == 0)
        k, t, on = k[keep], t[keep], on[keep]
        keep = self.outages.visible_at(c.gateway_id, t) <= as_of_ms
        if not keep.any():
            return None
        k, t, on = k[keep], t[keep], on[keep]
        return VibrationFrame(t, k, on, vibration_values(p, episodes, k, t, on))

    def energy(self, c: Component, start_ms: int, end_ms: int, as_of_ms: int) -> EnergyFrame | None:
        p = self.profiles[c.id]
        first = self._first_slot(p)
        k = slot_range(p.phase_ms, ENERGY_STEP_MS, max(start_ms, self.history_start_ms), end_ms)
        if len(k) == 0:
            return None
        t = p.phase_ms + k * ENERGY_STEP_MS
        visible = self.outages.visible_at(c.gateway_id, t) <= as_of_ms
        if not visible.any():
            return None
        block = (int(k[0]) - first) // _BLOCK
        # Values from the start of the first block, so the running sum can be built.
        kk = np.arange(first + block * _BLOCK, int(k[-1]) + 1, dtype=np.int64)
        values, units = energy_values(p, kk, duty_on(p.duty, p.phase_ms + kk * ENERGY_STEP_MS))
        missing = apply_anomalies(p, kk, values)
        accumulated = self._units_before(c.id, p, block) + np.cumsum(units)
        rows = (k - kk[0])[visible]
        return EnergyFrame(
            sampled_ms=t[visible],
            values={q: {col: v[rows] for col, v in cols.items()} for q, cols in values.items()},
            units=units[rows],
            missing=missing[rows],
            accumulated_units=accumulated[rows],
        )

    def _first_slot(self, p: Profile) -> int:
        """Index of the first energy slot at or after history start."""
        return ceil_div(self.history_start_ms - p.phase_ms, ENERGY_STEP_MS)

    def _units_before(self, asset_id: str, p: Profile, block: int) -> int:
        """Consumption units of all slots from history start to the start of `block`."""
        totals = self._block_totals.get(asset_id, np.zeros(0, dtype=np.int64))
        if len(totals) < block:
            first = self._first_slot(p) + len(totals) * _BLOCK
            kk = np.arange(first, first + (block - len(totals)) * _BLOCK, dtype=np.int64)
            _, units = energy_values(p, kk, duty_on(p.duty, p.phase_ms + kk * ENERGY_STEP_MS))
            totals = np.concatenate([totals, units.reshape(-1, _BLOCK).sum(axis=1)])
            self._block_totals[asset_id] = totals
        return int(totals[:block].sum())
