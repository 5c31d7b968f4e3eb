"""Telemetry bodies as raw-table columns, the obvious way: what the floor and the naive
peer share. Nested keys join with `_` in snake_case (`accel.peakToPeak.x` becomes
`accel_peak_to_peak_x`), which gives the raw tables' column names.
"""

import re
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sources import raw_schema as rs
from sources.client import TractianClient
from sources.telemetry import SyncWindow

_UPPER = re.compile(r"([A-Z])")
_RENAMED = {"id": "sample_id"}  # the rotation body's sample ids
BACKFILL = timedelta(days=14)
LOOKBACK = timedelta(hours=48)
IN_FLIGHT = 512  # results fetched ahead of the consumer, at most
T = TypeVar("T")
R = TypeVar("R")


def fetch_all(fetch: Callable[[T], R], tasks: list[T], concurrency: int) -> Iterator[R]:
    """`fetch` over `tasks` on `concurrency` threads, in order, in slices of IN_FLIGHT,
    so that bodies never pile up while the consumer writes."""
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        for first in range(0, len(tasks), IN_FLIGHT):
            yield from pool.map(fetch, tasks[first : first + IN_FLIGHT])


def snake(name: str) -> str:
    return _RENAMED.get(name) or _UPPER.sub(r"_\1", name).lower()


def flatten(body: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """(column name, value) of every leaf of a JSON body."""
    for key, value in body.items():
        name = prefix + snake(key)
        if isinstance(value, dict):
            yield from flatten(value, name + "_")
        else:
            yield name, value


@dataclass(frozen=True)
class Stream:
    table: rs.RawTable
    asset_id: str
    path: str
    fixed: dict[str, str]  # constant columns: asset, connection, quantity


# table -> (sensor type, [(path under /assets/{id}, quantity or None)])
SERIES = {
    rs.VIBRATION_SAMPLES: ("vibration", [("vibration", None)]),
    rs.RPM_SAMPLES: ("vibration", [("vibration/rotation", None)]),
    rs.ENERGY_SAMPLES: ("energy", [(f"energy/{q}", q) for q in rs.ENERGY_QUANTITIES]),
    rs.ENERGY_CONSUMPTION: ("energy", [("energy/consumption", None)]),
}


def components(client: TractianClient) -> dict[str, list[str]]:
    """Sensor type -> ids of the sensor-carrying assets of every company the token reads."""
    found: dict[str, list[str]] = {}
    for company in client.get("/companies") or []:
        for asset in client.paginate(f"/companies/{company['id']}/assets"):
            if asset.get("sensorType"):
                found.setdefault(asset["sensorType"], []).append(asset["id"])
    return found


def streams(client: TractianClient, connection_name: str) -> list[Stream]:
    """Every telemetry stream of every component the token reads."""
    by_type = components(client)
    found = []
    for table, (sensor_type, series) in SERIES.items():
        for asset_id in by_type.get(sensor_type, []):
            for suffix, quantity in series:
                fixed = {"connection_name": connection_name, "asset_id": asset_id}
                if quantity:
                    fixed["quantity"] = quantity
                found.append(Stream(table, asset_id, f"/assets/{asset_id}/{suffix}", fixed))
    return found


def api_now(client: TractianClient) -> datetime:
    return datetime.fromisoformat(client.get("/connection")["checkedAt"].replace("Z", "+00:00"))


def window(now: datetime, start: datetime | None) -> SyncWindow:
    """The connector's windows: 14 days on a first sync, from `start` when given."""
    if start is None:
        return SyncWindow(start=now - BACKFILL, lookback=LOOKBACK, now=now)
    return SyncWindow(start=start, lookback=LOOKBACK, now=now, force_start=True)
