"""Per-component parameters drawn once from (seed, asset id), and the duty cycles.

Everything a component does over time (sample grid, duty cycle, baseline levels, fault
cycles, preventive schedule) is a function of its profile and of time only.
"""

from dataclasses import dataclass

import numpy as np

from simulator.asset_tree import Component
from simulator.noise import key_of, scalar_uniforms
from simulator.timefmt import DAY_MS, HOUR_MS, MINUTE_MS, weekday

VIBRATION_STEP_MS = 10 * MINUTE_MS
# While stopped, a vibration sensor reports every STOPPED_EVERY-th slot (hourly).
STOPPED_EVERY = 6
ENERGY_STEP_MS = 15 * MINUTE_MS

DUTY_ALWAYS, DUTY_TWO_SHIFTS, DUTY_WEEKDAYS = 0, 1, 2
_RPMS = (885.0, 1185.0, 1475.0, 1775.0, 2950.0, 3560.0)
_VOLTAGES = (380.0, 400.0, 415.0, 440.0, 460.0, 480.0)
_PREVENTIVE_DAYS = (7, 14, 30)


@dataclass(frozen=True)
class Profile:
    """Deterministic parameters of one component; unused fields exist for both types."""

    key: int  # random stream key for this component's samples
    phase_ms: int  # offset of the sample grid, so components are not aligned
    duty: int
    cycle_ms: int  # length of a fault cycle (vibration components)
    cycle_phase_ms: int
    fault_probability: float
    base_vel: float  # mm/s RMS on the dominant axis, ISO 10816-3 zones A/B
    axis_factors: tuple[float, float, float]
    accel_per_vel: float  # g RMS per mm/s RMS
    vel_crest: float
    accel_crest: float
    temp_running: float
    temp_ambient: float
    temp_rise: float  # °C added at full fault severity
    temp_lag_ms: int
    rpm: float
    voltage: float  # nominal line voltage
    rated_current: float
    load: float  # mean load fraction while running
    phase_imbalance: tuple[float, float, float]
    preventive_period_ms: int
    preventive_phase_ms: int
    preventive_key: int  # random stream of its preventive work orders


def make_profile(seed: int, component: Component) -> Profile:
    u = scalar_uniforms(key_of(seed, "profile", component.id), 24)
    step = VIBRATION_STEP_MS if component.sensor_type == "vibration" else ENERGY_STEP_MS
    cycle_ms = int((21 + 14 * u[3]) * DAY_MS)
    dominant = int(u[7] * 3)
    axis = [0.55 + 0.3 * u[8], 0.5 + 0.4 * u[9], 0.35 + 0.3 * u[10]]
    axis[dominant] = 1.0
    period = _PREVENTIVE_DAYS[int(u[21] * 3)] * DAY_MS
    return Profile(
        key=key_of(seed, "samples", component.id),
        phase_ms=int(u[0] * step),
        duty=(DUTY_ALWAYS, DUTY_TWO_SHIFTS, DUTY_WEEKDAYS)[
            0 if u[1] < 0.4 else (1 if u[1] < 0.75 else 2)
        ],
        cycle_ms=cycle_ms,
        cycle_phase_ms=int(u[4] * cycle_ms),
        fault_probability=0.35 + 0.25 * u[5],
        base_vel=0.5 + 1.7 * u[6],
        axis_factors=(axis[0], axis[1], axis[2]),
        accel_per_vel=0.02 + 0.04 * u[11],
        vel_crest=1.45 + 0.3 * u[12],
        accel_crest=2.6 + 1.0 * u[13],
        temp_running=38.0 + 22.0 * u[14],
        temp_ambient=20.0 + 8.0 * u[15],
        temp_rise=15.0 + 10.0 * u[16],
        temp_lag_ms=int((3 + 21 * u[17]) * HOUR_MS),
        rpm=_RPMS[int(u[18] * len(_RPMS))],
        voltage=_VOLTAGES[int(u[19] * len(_VOLTAGES))],
        rated_current=10.0 + 190.0 * u[20],
        load=0.6 + 0.3 * u[22],
        phase_imbalance=(0.0, 0.04 * u[23] - 0.02, 0.03 * u[2] - 0.015),
        preventive_period_ms=period,
        preventive_phase_ms=int(u[22] * period),
        preventive_key=key_of(seed, "preventive", component.id),
    )


def duty_on(duty: int, t: np.ndarray) -> np.ndarray:
    """Whether the duty cycle has the machine running at each time (UTC = local)."""
    if duty == DUTY_ALWAYS:
        return np.ones(t.shape, dtype=bool)
    tod = t % DAY_MS
    if duty == DUTY_TWO_SHIFTS:
        return (tod >= 6 * HOUR_MS) & (tod < 22 * HOUR_MS)
    return (weekday(t) < 5) & (tod >= 7 * HOUR_MS) & (tod < 19 * HOUR_MS)


def slot_range(phase_ms: int, step_ms: int, start_ms: int, end_ms: int) -> np.ndarray:
    """Indices k of grid times phase + k*step in [start, end)."""
    first = -((phase_ms - start_ms) // step_ms)
    last = -((phase_ms - end_ms) // step_ms)
    return np.arange(first, max(first, last), dtype=np.int64)


def first_running_slot(profile: Profile, at_ms: int) -> int:
    """Time of the first vibration slot at or after `at_ms` while the duty cycle runs."""
    k = slot_range(profile.phase_ms, VIBRATION_STEP_MS, at_ms, at_ms + 4 * DAY_MS)
    t = profile.phase_ms + k * VIBRATION_STEP_MS
    return int(t[np.argmax(duty_on(profile.duty, t))])
