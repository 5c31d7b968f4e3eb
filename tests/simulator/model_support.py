"""Shared pieces of the simulator model tests: a fixed start time, cached worlds, the demo
dump read independently of the model, and small readers of served bodies."""

import importlib.resources
import json
from datetime import UTC, datetime
from functools import cache

import numpy as np

from simulator.world import SimConfig, World

START_MS = int(datetime(2025, 6, 2, 12, 0, tzinfo=UTC).timestamp() * 1000)
MINUTE = 60_000
HOUR = 3_600_000
DAY = 86_400_000
ISO_PATTERN = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$"


@cache
def shared_world(seed: int = 7, scale: int = 1) -> World:
    """A world tests only read (never mutate: use a fresh World for remove_asset)."""
    return World(SimConfig(seed=seed, scale=scale), START_MS)


@cache
def demo_dump() -> dict:
    data = importlib.resources.files("simulator").joinpath("data", "tractian-demo-api.json")
    return json.loads(data.read_bytes())


def ms(text: str) -> int:
    """Milliseconds of an API timestamp, parsed with the standard library."""
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


def times(body: dict) -> np.ndarray:
    return np.array([ms(t) for t in body["sampledAt"]], dtype=np.int64)


def dominant_velocity(body: dict) -> np.ndarray:
    """Largest velocity RMS over the three axes (ISO 10816-3 uses the largest)."""
    rms = body["vel"]["rms"]
    return np.nanmax(np.stack([rms["x"], rms["y"], rms["z"]]), axis=0)


def components(world: World, sensor_type: str) -> list:
    return [c for c in world.components() if c.sensor_type == sensor_type]
