"""Each company's energy tariff, so that `/energy/cost` has something to multiply.

The published API serves cost "in the company's currency" without saying how it is
priced; the simulator models a time-of-use tariff like Brazil's industrial ones: an
off-peak price per kWh drawn from the seed (0.40-0.90), and a peak price 1.5-3 times
higher on weekdays from 18:00 to 21:00 (UTC, which the simulator treats as plant time,
as the duty cycles do). An interval is priced by its `sampledAt`.

Prices are integers in 1e-4 currency per kWh and consumption integers in 0.1 Wh, so
cost is an exact integer product divided once.
"""

from dataclasses import dataclass

import numpy as np

from simulator.noise import key_of, scalar_uniforms
from simulator.timefmt import DAY_MS, HOUR_MS, weekday

PRICE_SCALE = 10_000  # prices are integers in 1 / PRICE_SCALE currency per kWh
PEAK_START_MS = 18 * HOUR_MS
PEAK_END_MS = 21 * HOUR_MS


@dataclass(frozen=True)
class Tariff:
    off_peak: int  # 1e-4 currency per kWh
    peak: int

    def describe(self) -> dict[str, object]:
        return {
            "offPeakPerKwh": self.off_peak / PRICE_SCALE,
            "peakPerKwh": self.peak / PRICE_SCALE,
            "peakHours": "Mon-Fri 18:00-21:00 UTC, by sampledAt",
        }


def company_tariff(seed: int, company_id: str) -> Tariff:
    u = scalar_uniforms(key_of(seed, "tariff", company_id), 2)
    off_peak = 10 * (400 + int(u[0] * 501))  # 0.4000 .. 0.9000, in steps of 0.001
    tenths = 15 + int(u[1] * 16)  # peak is 1.5 .. 3.0 times off-peak
    return Tariff(off_peak, off_peak // 10 * tenths)


def is_peak(sampled_ms: np.ndarray) -> np.ndarray:
    """Whether each interval (by its sampledAt) is priced at the peak rate."""
    tod = sampled_ms % DAY_MS
    return (weekday(sampled_ms) < 5) & (tod >= PEAK_START_MS) & (tod < PEAK_END_MS)


def prices(tariff: Tariff, sampled_ms: np.ndarray) -> np.ndarray:
    """The price (1e-4 currency per kWh) of each interval, int64."""
    return np.where(is_peak(sampled_ms), tariff.peak, tariff.off_peak).astype(np.int64)
