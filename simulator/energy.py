"""Three-phase electrical readings of one energy component at given 15-minute slots.

Load follows the duty cycle (a light idle load while stopped); current follows load,
line voltage sits near nominal, power factor follows load (about 0.4 idle, 0.85 at full
load). Quantities are named as the API's paths name them and kept in its units: current
A, voltage V (line to line), active-power W and reactive-power VAR per phase. Active and
reactive power are computed from the *served* (rounded) voltage, current and power
factor, P = V_phase * I * PF and Q = V_phase * I * sqrt(1 - PF^2), so that a client can
check the relations on what it reads. Each slot has min/avg/max.

Consumption is counted in integer units of 0.1 Wh (from the average active power over
the 15-minute interval), so running sums are exact whatever the window; demand and cost
derive from the same units (see telemetry.EnergyFrame).
"""

import math

import numpy as np

from simulator.noise import normals, uniforms
from simulator.profiles import Profile

QUANTITY_PHASES = {
    "current": ("a", "b", "c"),
    "voltage": ("ab", "bc", "ac"),
    "active-power": ("a", "b", "c"),
    "power-factor": ("a", "b", "c"),
    "reactive-power": ("a", "b", "c"),
}
STATS = ("average", "minimum", "maximum")
# The interval series, each at its own path under /energy/ (not quantities).
INTERVAL_SERIES = ("consumption", "demand", "cost")
UNITS_PER_WH = 10
INTERVAL_H = 0.25
ANOMALY_RATE = 0.002
CONSUMPTION_NULL_RATE = 0.001
_DECIMALS = {
    "current": 3,
    "voltage": 2,
    "active-power": 1,
    "power-factor": 3,
    "reactive-power": 1,
}
_SQRT3 = math.sqrt(3.0)
_NULLABLE = tuple(
    (q, s, ph) for q, phases in QUANTITY_PHASES.items() for s in STATS for ph in phases
)

EnergyValues = dict[str, dict[str, np.ndarray]]  # quantity -> "average_a" -> values


def _load(p: Profile, on: np.ndarray, z: np.ndarray) -> np.ndarray:
    running = np.clip(p.load * (1 + 0.05 * z), 0.05, 1.1)
    idle = np.clip(0.06 * (1 + 0.3 * z), 0.02, 0.15)
    return np.where(on, running, idle)


def _spread(avg: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, ...]:
    return avg, avg * (1 - lo), avg * (1 + hi)


def energy_values(p: Profile, k: np.ndarray, on: np.ndarray) -> tuple[EnergyValues, np.ndarray]:
    """Every quantity's min/avg/max per phase, and consumption in 0.1 Wh units."""
    z = normals(p.key, k, 10)
    u = uniforms(p.key, k, 18, offset=10)
    load = _load(p, on, z[:, 0])
    imbalance = 1 + np.array(p.phase_imbalance)
    current = _spread(
        p.rated_current * load[:, None] * imbalance * (1 + 0.01 * z[:, 1:4]),
        0.01 + 0.05 * u[:, 0:3],
        0.01 + 0.05 * u[:, 3:6],
    )
    voltage = _spread(
        p.voltage * (1 + 0.005 * z[:, 4:7]), 0.003 + 0.012 * u[:, 6:9], 0.003 + 0.012 * u[:, 9:12]
    )
    pf = 0.30 + 0.56 * (1 - np.exp(-load / 0.25))[:, None] + 0.01 * z[:, 7:10]
    pf = np.clip(pf, 0.05, 0.99)
    factor = (
        pf,
        np.clip(pf - 0.005 - 0.025 * u[:, 12:15], 0.05, 0.99),
        np.clip(pf + 0.005 + 0.025 * u[:, 15:18], 0.05, 0.995),
    )
    served = {
        "current": _rounded("current", current),
        "voltage": _rounded("voltage", voltage),
        "power-factor": _rounded("power-factor", factor),
    }
    served["active-power"], served["reactive-power"] = _powers(served)
    values = {q: _columns(q, served[q]) for q in QUANTITY_PHASES}
    power = values["active-power"]
    watts = power["average_a"] + power["average_b"] + power["average_c"]
    return values, np.rint(watts * INTERVAL_H * UNITS_PER_WH).astype(np.int64)


def _rounded(quantity: str, triple: tuple[np.ndarray, ...]) -> tuple[np.ndarray, ...]:
    return tuple(np.round(values, _DECIMALS[quantity]) for values in triple)


def _powers(served: dict[str, tuple[np.ndarray, ...]]) -> tuple[tuple[np.ndarray, ...], ...]:
    """(active, reactive) power per stat from the served V, I and PF. Reactive power falls
    as the power factor rises, so its minimum takes the maximum power factor (and its
    maximum the minimum one): minimum <= average <= maximum holds for both."""
    volts = [_phase_voltage(line) for line in served["voltage"]]
    amps, pf = served["current"], served["power-factor"]
    digits = _DECIMALS["active-power"]
    active = tuple(np.round(v * i * f, digits) for v, i, f in zip(volts, amps, pf, strict=True))
    reactive_pf = (pf[0], pf[2], pf[1])  # average, minimum, maximum
    reactive = tuple(
        np.round(v * i * np.sqrt(1.0 - f * f), _DECIMALS["reactive-power"])
        for v, i, f in zip(volts, amps, reactive_pf, strict=True)
    )
    return active, reactive


def _phase_voltage(line: np.ndarray) -> np.ndarray:
    """Phase-to-neutral voltage of a, b, c from line voltages ab, bc, ac."""
    ab, bc, ac = line[:, 0], line[:, 1], line[:, 2]
    return np.stack(((ab + ac) / 2, (ab + bc) / 2, (bc + ac) / 2), axis=1) / _SQRT3


def _columns(quantity: str, triple: tuple[np.ndarray, ...]) -> dict[str, np.ndarray]:
    out = {}
    for stat, values in zip(STATS, triple, strict=True):
        for i, phase in enumerate(QUANTITY_PHASES[quantity]):
            out[f"{stat}_{phase}"] = np.ascontiguousarray(values[:, i])
    return out


def apply_anomalies(p: Profile, k: np.ndarray, values: EnergyValues) -> np.ndarray:
    """Blank a few readings, zero a dead phase now and then; returns the mask of slots
    whose consumption reading is missing."""
    u = uniforms(p.key, k, 4, offset=30)
    hit = u[:, 0] < ANOMALY_RATE
    dead = hit & (u[:, 1] < 0.4)
    line = (u[:, 2] * 3).astype(np.int64)
    for row in np.flatnonzero(dead):
        phase = QUANTITY_PHASES["voltage"][line[row]]
        for stat in STATS:
            values["voltage"][f"{stat}_{phase}"][row] = 0.0
    for row in np.flatnonzero(hit & ~dead):
        quantity, stat, phase = _NULLABLE[int(u[row, 2] * len(_NULLABLE))]
        values[quantity][f"{stat}_{phase}"][row] = np.nan
    return u[:, 3] < CONSUMPTION_NULL_RATE
