"""Fault episodes of vibration components along a P-F curve, local in time.

Time is cut into per-component cycles (21-35 days, phase-shifted). In each cycle, with
the component's fault probability, one episode runs entirely inside the cycle: onset,
exponential rise of velocity RMS through ISO 10816-3 zone C (2.8 mm/s, detection: a
potentialFailure event and an insight) and maybe zone D (4.5 mm/s: functionalFailure,
sometimes a totalFailure stopping the machine), a corrective work order, repair (reset to
baseline), and the insight checked. Any time's state needs only the cycle it falls in.
"""

import math
from dataclasses import dataclass

import numpy as np

from simulator.noise import key_of, scalar_uniforms
from simulator.profiles import Profile, first_running_slot
from simulator.timefmt import HOUR_MS, MINUTE_MS

ZONE_B = 1.4
ZONE_C = 2.8
ZONE_D = 4.5
MAX_VEL = 15.0
MECHANISMS = ("unbalance", "misalignment", "bearing wear", "mechanical looseness")


@dataclass(frozen=True)
class Episode:
    """One fault episode; all times in ms. Optional steps are None when they don't occur."""

    asset_id: str
    cycle: int
    mechanism: str
    base_vel: float
    onset_ms: int
    rate_per_ms: float  # exponential growth rate of velocity RMS
    zone_c_ms: int  # the smooth curve crosses 2.8 mm/s
    zone_d_ms: int  # the smooth curve crosses 4.5 mm/s (may be after repair)
    detected_ms: int  # first running sample after zone_c_ms: potentialFailure
    insight_ms: int
    functional_ms: int | None  # first running sample after zone_d_ms, if before repair starts
    total_failure_ms: int | None  # machine down from here until repaired
    wo_created_ms: int
    wo_started_ms: int
    hold: tuple[int, int] | None  # the corrective work order on hold in [start, end)
    repaired_ms: int  # work order done; the component is back to baseline
    checked_ms: int  # insight checked after the repair
    predictive: tuple[int, int, int] | None  # predictive WO (created, started, done)
    end_ms: int  # last moment any record of the episode changes

    @property
    def first_record_ms(self) -> int:
        """When the episode's first record (event or predictive work order) is created."""
        return self.detected_ms if self.predictive is None else self.predictive[0]

    def level(self, t: np.ndarray) -> np.ndarray:
        """Velocity RMS of the smooth curve (dominant axis), base outside the episode."""
        inside = (t >= self.onset_ms) & (t < self.repaired_ms)
        grown = self.base_vel * np.exp(self.rate_per_ms * np.maximum(t - self.onset_ms, 0))
        return np.where(inside, np.minimum(grown, MAX_VEL), self.base_vel)

    def severity(self, t: np.ndarray) -> np.ndarray:
        """0 at baseline, 1 at the zone D threshold."""
        return np.clip((self.level(t) - self.base_vel) / (ZONE_D - self.base_vel), 0.0, 2.0)


class EpisodeBook:
    """Computes episodes on demand and remembers them (they are pure functions)."""

    def __init__(self, seed: int) -> None:
        self._seed = seed
        self._cache: dict[tuple[str, int], Episode | None] = {}

    def cycles(self, profile: Profile, start_ms: int, end_ms: int) -> range:
        """Indices of the cycles overlapping [start, end)."""
        first = (start_ms - profile.cycle_phase_ms) // profile.cycle_ms
        last = (end_ms - 1 - profile.cycle_phase_ms) // profile.cycle_ms
        return range(first, last + 1)

    def between(self, asset_id: str, profile: Profile, start_ms: int, end_ms: int) -> list[Episode]:
        """Episodes whose cycle overlaps [start, end), in time order."""
        found = (self.episode(asset_id, profile, j) for j in self.cycles(profile, start_ms, end_ms))
        return [e for e in found if e is not None]

    def episode(self, asset_id: str, profile: Profile, cycle: int) -> Episode | None:
        key = (asset_id, cycle)
        if key not in self._cache:
            self._cache[key] = self._build(asset_id, profile, cycle)
        return self._cache[key]

    def _build(self, asset_id: str, p: Profile, cycle: int) -> Episode | None:
        u = scalar_uniforms(key_of(self._seed, "episode", asset_id, cycle), 20)
        if u[0] >= p.fault_probability:
            return None
        cycle_start = p.cycle_phase_ms + cycle * p.cycle_ms
        curve = _curve(p, u, cycle_start)
        response = _response(p, u, curve)
        end = max(response["checked_ms"], response["repaired_ms"] + HOUR_MS)
        if end >= cycle_start + p.cycle_ms:
            return None
        return Episode(
            asset_id=asset_id,
            cycle=cycle,
            mechanism=MECHANISMS[int(u[17] * len(MECHANISMS))],
            base_vel=p.base_vel,
            **curve,
            **response,
            end_ms=end,
        )


def _curve(p: Profile, u: list[float], cycle_start: int) -> dict:
    """Onset and exponential rise: zone D is reached 15-35% of a cycle after onset."""
    onset = cycle_start + int((0.02 + 0.18 * u[1]) * p.cycle_ms)
    to_d = (0.15 + 0.2 * u[2]) * p.cycle_ms
    rate = math.log(ZONE_D / p.base_vel) / to_d
    return {
        "onset_ms": onset,
        "rate_per_ms": rate,
        "zone_c_ms": onset + int(math.log(ZONE_C / p.base_vel) / rate),
        "zone_d_ms": onset + int(to_d),
    }


def _response(p: Profile, u: list[float], curve: dict) -> dict:
    """Detection, failures reached before the repair starts, the repair, the check."""
    detected = first_running_slot(p, curve["zone_c_ms"])
    insight = detected + int((5 + 40 * u[3]) * MINUTE_MS)
    wo_created = insight + int((0.5 + 11.5 * u[4]) * HOUR_MS)
    wo_started = wo_created + int((2 + 70 * u[5]) * HOUR_MS)
    functional = first_running_slot(p, curve["zone_d_ms"])
    functional = functional if functional < wo_started else None
    total = None
    if functional is not None and u[6] < 0.5:
        total = functional + int((2 + 22 * u[7]) * HOUR_MS)
        total = total if total < wo_started else None
    hold = None
    if u[8] < 0.3:
        hold_start = wo_started + int((1 + 2 * u[9]) * HOUR_MS)
        hold = (hold_start, hold_start + int((4 + 20 * u[10]) * HOUR_MS))
    repaired = (hold[1] if hold else wo_started) + int((1 + 5 * u[11]) * HOUR_MS)
    return {
        "detected_ms": detected,
        "insight_ms": insight,
        "functional_ms": functional,
        "total_failure_ms": total,
        "wo_created_ms": wo_created,
        "wo_started_ms": wo_started,
        "hold": hold,
        "repaired_ms": repaired,
        "checked_ms": repaired + int((2 + 22 * u[12]) * HOUR_MS),
        "predictive": _predictive(u, curve, detected),
    }


def _predictive(u: list[float], curve: dict, detected: int) -> tuple[int, int, int] | None:
    """Sometimes a trend review (predictive work order) before zone C is detected."""
    if u[13] >= 0.3:
        return None
    onset, zone_c = curve["onset_ms"], curve["zone_c_ms"]
    created = onset + int(0.7 * (zone_c - onset)) + int(u[14] * 6 * HOUR_MS)
    started = created + int((2 + 22 * u[15]) * HOUR_MS)
    done = started + int((1 + 2 * u[16]) * HOUR_MS)
    return (created, started, done) if done < detected else None
