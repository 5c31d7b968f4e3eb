"""Vibration, temperature and rotation values of one component at given sample slots.

Velocity RMS follows the component's baseline (ISO 10816-3 zones A/B) or, inside a fault
episode, the episode's P-F curve; acceleration and crest factors rise with severity;
temperature follows severity with a lag. A stopped machine reads the sensor's noise
floor, ambient temperature and 0 rpm. Every value is a function of the slot index.
"""

import numpy as np

from simulator.episodes import Episode
from simulator.noise import hex_ids, normals, uniforms
from simulator.profiles import Profile, duty_on

FAMILIES = ("accel", "vel")
MEASURES = ("rms", "peak", "peak_to_peak", "crest_factor", "crest_factor_db")
AXES = ("x", "y", "z")
VALUE_COLUMNS = tuple(f"{f}_{m}_{a}" for f in FAMILIES for m in MEASURES for a in AXES)
# Arrays an anomaly may blank: every value column, temperature and rpm.
_NULLABLE = (*VALUE_COLUMNS, "temperature", "rpm")
ANOMALY_RATE = 0.0025
DISCONNECTED_PROBE_C = -273.15
_NOISE_FLOOR_VEL = 0.03
_DECIMALS = {"accel": 5, "vel": 4}
_ROTATION_ID_CHANNEL = 40


def running(profile: Profile, episodes: list[Episode], t: np.ndarray) -> np.ndarray:
    """Whether the machine runs: its duty cycle, minus total-failure downtime."""
    on = duty_on(profile.duty, t)
    for ep in episodes:
        if ep.total_failure_ms is not None:
            on &= ~((t >= ep.total_failure_ms) & (t < ep.repaired_ms))
    return on


def _levels(p: Profile, episodes: list[Episode], t: np.ndarray) -> tuple[np.ndarray, ...]:
    """(velocity level, severity, temperature rise) along the P-F curves."""
    level = np.full(t.shape, p.base_vel)
    severity = np.zeros(t.shape)
    rise = np.zeros(t.shape)
    for ep in episodes:
        inside = (t >= ep.onset_ms) & (t < ep.repaired_ms)
        level[inside] = ep.level(t[inside])
        severity[inside] = ep.severity(t[inside])
        lagged = inside & (t - p.temp_lag_ms >= ep.onset_ms)
        rise[lagged] = p.temp_rise * np.minimum(ep.severity(t[lagged] - p.temp_lag_ms), 1.25)
    return level, severity, rise


def _family(
    rms: np.ndarray, crest: np.ndarray, ratio: np.ndarray, decimals: int
) -> dict[str, np.ndarray]:
    """rms, peak, peak-to-peak and crest factors of one family, axes along the last dim.
    Derived measures use the rounded rms and crest factor, so served values agree."""
    rms = np.round(rms, decimals)
    crest = np.round(crest, 3)
    measures = {
        "rms": rms,
        "peak": np.round(rms * crest, decimals),
        # Peak-to-peak never exceeds twice the peak (the peak is the largest |amplitude|).
        "peak_to_peak": np.round(2.0 * rms * crest * np.minimum(ratio, 1.0), decimals),
        "crest_factor": crest,
        "crest_factor_db": np.round(20.0 * np.log10(crest), 3),
    }
    return {
        f"{measure}_{axis}": np.ascontiguousarray(values[:, i])
        for measure, values in measures.items()
        for i, axis in enumerate(AXES)
    }


def vibration_values(
    p: Profile, episodes: list[Episode], k: np.ndarray, t: np.ndarray, on: np.ndarray
) -> dict[str, np.ndarray]:
    """Every vibration column, plus `temperature` and `rpm`, for slots k at times t."""
    z = normals(p.key, k, 20)
    level, severity, rise = _levels(p, episodes, t)
    axes = np.array(p.axis_factors)
    run = on[:, None]
    vel = np.where(run, level[:, None], _NOISE_FLOOR_VEL) * axes * (1 + 0.04 * z[:, 2:5])
    accel = vel * p.accel_per_vel * (1 + 1.5 * severity[:, None]) * (1 + 0.05 * z[:, 5:8])
    vel_crest = np.where(run, p.vel_crest * (1 + 0.5 * severity[:, None]), 3.2)
    accel_crest = np.where(run, p.accel_crest * (1 + 0.8 * severity[:, None]), 3.5)
    families = {
        "vel": (vel, vel_crest * (1 + 0.03 * z[:, 8:11]), 0.97 + 0.01 * z[:, 14:17]),
        "accel": (accel, accel_crest * (1 + 0.04 * z[:, 11:14]), 0.96 + 0.01 * z[:, 17:20]),
    }
    values: dict[str, np.ndarray] = {}
    for family in FAMILIES:
        rms, crest, ratio = families[family]
        for name, col in _family(rms, crest, ratio, _DECIMALS[family]).items():
            values[f"{family}_{name}"] = col
    temperature = np.where(on, p.temp_running + rise, p.temp_ambient) + 0.4 * z[:, 0]
    values["temperature"] = np.round(temperature, 2)
    values["rpm"] = np.where(on, np.round(p.rpm * (1 + 0.003 * z[:, 1]), 1), 0.0)
    _apply_anomalies(p, k, values)
    return values


def _apply_anomalies(p: Profile, k: np.ndarray, values: dict[str, np.ndarray]) -> None:
    """A few readings go missing (null) or read a disconnected temperature probe."""
    u = uniforms(p.key, k, 3, offset=20)
    hit = u[:, 0] < ANOMALY_RATE
    probe = hit & (u[:, 1] < 0.4)
    values["temperature"][probe] = DISCONNECTED_PROBE_C
    blank = np.flatnonzero(hit & ~probe)
    which = (u[blank, 2] * len(_NULLABLE)).astype(np.int64)
    for row, column in zip(blank, which, strict=True):
        values[_NULLABLE[column]][row] = np.nan


def rotation_ids(p: Profile, k: np.ndarray) -> list[str]:
    """The 24-hex id of each rotation sample."""
    return hex_ids(p.key, k, offset=_ROTATION_ID_CHANNEL)
