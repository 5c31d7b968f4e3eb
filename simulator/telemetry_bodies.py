"""The published JSON bodies of the telemetry endpoints, built from the model's frames.

Arrays stay numpy (orjson's OPT_SERIALIZE_NUMPY writes NaN as null); `sampledAt` and
rotation `id` are lists of str, which orjson serialises natively (it cannot serialise
numpy string arrays). Field order follows the published examples.
"""

from typing import Any

import numpy as np

from simulator.asset_tree import Component
from simulator.energy import QUANTITY_PHASES
from simulator.tariffs import Tariff
from simulator.telemetry_model import EnergyFrame, VibrationFrame
from simulator.timefmt import iso_list
from simulator.vibration import AXES, FAMILIES, MEASURES

_CAMEL = {
    "rms": "rms",
    "peak": "peak",
    "peak_to_peak": "peakToPeak",
    "crest_factor": "crestFactor",
    "crest_factor_db": "crestFactorDb",
}


def vibration_body(c: Component, frame: VibrationFrame) -> dict[str, Any]:
    body: dict[str, Any] = {
        "companyId": c.company_id,
        "sampledAt": iso_list(frame.sampled_ms),
        "temperature": frame.values["temperature"],
        "powered": frame.powered,
    }
    for family in FAMILIES:
        body[family] = {
            _CAMEL[m]: {a: frame.values[f"{family}_{m}_{a}"] for a in AXES} for m in MEASURES
        }
    return body


def rotation_body(c: Component, frame: VibrationFrame, ids: list[str]) -> dict[str, Any]:
    return {
        "companyId": c.company_id,
        "id": ids,
        "sampledAt": iso_list(frame.sampled_ms),
        "rpm": frame.values["rpm"],
    }


def quantity_body(c: Component, frame: EnergyFrame, quantity: str) -> dict[str, Any]:
    """`/energy/{quantity}`: min/avg/max per phase of one quantity."""
    cols = frame.values[quantity]
    body: dict[str, Any] = {"companyId": c.company_id, "sampledAt": iso_list(frame.sampled_ms)}
    for stat in ("average", "maximum", "minimum"):
        body[stat] = {ph: cols[f"{stat}_{ph}"] for ph in QUANTITY_PHASES[quantity]}
    return body


def _interval_body(c: Component, frame: EnergyFrame, values: dict[str, Any]) -> dict[str, Any]:
    return {
        "companyId": c.company_id,
        "sampledAt": iso_list(frame.sampled_ms),
        **values,
        "forecast": np.zeros(len(frame.sampled_ms), dtype=bool),
    }


def consumption_body(c: Component, frame: EnergyFrame) -> dict[str, Any]:
    """`/energy/consumption`: Wh per interval and accumulated."""
    values = {"consumption": frame.consumption, "accumulatedConsumption": frame.accumulated}
    return _interval_body(c, frame, values)


def demand_body(c: Component, frame: EnergyFrame) -> dict[str, Any]:
    """`/energy/demand`: the interval's average active power, kW."""
    return _interval_body(c, frame, {"demand": frame.demand})


def cost_body(c: Component, frame: EnergyFrame, tariff: Tariff) -> dict[str, Any]:
    """`/energy/cost`: the interval's kWh at the company's tariff."""
    return _interval_body(c, frame, {"cost": frame.cost(tariff)})
