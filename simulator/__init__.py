"""A simulated Tractian API: the demo dump's asset trees plus modeled telemetry, insights,
events and work orders, served over HTTP with injectable faults and signed webhooks.

    from simulator import Simulator, SimConfig

    with Simulator(SimConfig(seed=7), now=datetime(2025, 6, 2, tzinfo=UTC)) as sim:
        sim.base_url, sim.tokens["all"], sim.set_fault("server_errors", count=2)

Names are imported on first use, so that `tractian-elt --help` (which imports this
package for its `simulator` command) does not load aiohttp, numpy and the World.
"""

import importlib
from typing import Any

_EXPORTS = {
    "Simulator": "simulator.control",
    "SimClock": "simulator.clock",
    "SimConfig": "simulator.world",
    "World": "simulator.world",
    "Token": "simulator.world",
    "ground_truth": "simulator.ground_truth",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
