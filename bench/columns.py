"""Telemetry bodies as raw-table columns, the obvious way: what the floor and the naive
peer share. Nested keys join with `_` in snake_case (`accel.peakToPeak.x` becomes
`accel_peak_to_peak_x`), which gives the raw tables' column names.

Which streams exist is found the way the connector finds them, with the connector's
HTTP logic (not its dlt code): the optional endpoints (`api_features.detect`), the
companies (configured, else `/companies`), every company's assets, and each monitored
asset's sensor type, declared or probed (`sensor_types.sensor_types`). Which paths each
sensor type has comes from the connector's own table of telemetry series, checked here
against the raw schema, so that every contender sends the same telemetry requests.
"""

import re
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sources import raw_schema as rs
from sources.api_features import companies_to_sync, detect
from sources.client import TractianClient
from sources.connections import Connection
from sources.sensor_types import sensor_types
from sources.source import TELEMETRY_SERIES as CONNECTOR_SERIES
from sources.telemetry_streams import SyncWindow

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


def _series() -> dict[rs.RawTable, tuple[str, list[tuple[str, dict[str, str]]]]]:
    """Raw table -> (sensor type, [(path under /assets/{id}, constant columns)]), for
    every telemetry table of the raw schema, with the paths the connector reads."""
    telemetry = {name for name, table in rs.RAW_TABLES.items() if table.telemetry}
    if set(CONNECTOR_SERIES) != telemetry:
        raise RuntimeError(
            f"the connector's telemetry series {sorted(CONNECTOR_SERIES)} are not the raw "
            f"schema's telemetry tables {sorted(telemetry)}"
        )
    series = {}
    for name, (sensor_type, paths) in CONNECTOR_SERIES.items():
        table = rs.RAW_TABLES[name]
        # converter arguments that are columns (`quantity`) are constant per stream
        columns = [
            (suffix, {k: v for k, v in kw.items() if k in table.schema.names})
            for suffix, _, kw in paths
        ]
        series[table] = (sensor_type, columns)
    return series


# table -> (sensor type, [(path under /assets/{id}, constant columns)])
SERIES = _series()


def streams_per_type() -> dict[str, int]:
    """Sensor type -> telemetry streams (paths) per monitored asset of that type."""
    found: dict[str, int] = {}
    for sensor_type, paths in SERIES.values():
        found[sensor_type] = found.get(sensor_type, 0) + len(paths)
    return found


@dataclass
class Fleet:
    """What a sync found before reading telemetry: the API's clock, the streams, and
    how many requests learning the sensor types cost (probes; 0 where declared)."""

    now: datetime
    streams: list[Stream]
    probe_requests: int
    probed_assets: int


def fleet(
    client: TractianClient,
    connection_name: str,
    memory: dict[str, Any],
    company_ids: tuple[str, ...] = (),
) -> Fleet:
    """Every telemetry stream of every monitored asset the connection reads.

    `memory`: the probe memory (`sensor_types`), read and updated in place.
    """
    features = detect(client)
    connection = Connection(connection_name, client.base_url, "", company_ids)
    companies, failures = companies_to_sync(connection, features)
    now = features.now()
    assets = [
        {**asset, "companyId": asset.get("companyId") or company["id"]}
        for company in companies
        for asset in client.paginate(f"/companies/{company['id']}/assets")
    ]
    before = client.stats.requests
    found = sensor_types(client, assets, memory, now - BACKFILL, now, failures=failures)
    probe_requests = client.stats.requests - before
    if failures:
        raise RuntimeError("; ".join(failures))
    by_type: dict[str, list[str]] = {}
    for t in found:
        by_type.setdefault(t.sensor_type, []).append(t.asset_id)
    streams = []
    for table, (sensor_type, paths) in SERIES.items():
        for asset_id in by_type.get(sensor_type, []):
            for suffix, columns in paths:
                fixed = {"connection_name": connection_name, "asset_id": asset_id, **columns}
                streams.append(Stream(table, asset_id, f"/assets/{asset_id}/{suffix}", fixed))
    probed = sum(1 for t in found if t.detected_by == "probe")
    return Fleet(now, streams, probe_requests, probed)


def window(now: datetime, start: datetime | None) -> SyncWindow:
    """The connector's windows: 14 days on a first sync, from `start` when given."""
    if start is None:
        return SyncWindow(start=now - BACKFILL, lookback=LOOKBACK, now=now)
    return SyncWindow(start=start, lookback=LOOKBACK, now=now, force_start=True)
