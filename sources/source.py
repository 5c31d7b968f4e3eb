"""The dlt source: every Tractian resource of one connection, as Arrow tables.

Resources only say what to fetch and how it is keyed; HTTP lives in `client`, Arrow
conversion in `convert`, per-component windows in `telemetry`, which assets have which
telemetry in `sensor_types` (through `catalog`). Everything is read from endpoints that
Tractian's published API has; the company list comes in resolved (`api_features`).
Catalog and record tables merge on their primary key (which includes the connection);
telemetry tables append only the samples the warehouse lacks (`telemetry_dedup`). Either
way, re-reading a window (lookback, retries, a rerun after a crash) never duplicates a
row.
"""

import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

import dlt
import pyarrow as pa
from dlt.extract.resource import DltResource

from sources import convert, settings
from sources import raw_schema as rs
from sources.catalog import Catalog
from sources.client import TractianClient, iso8601
from sources.connections import Connection
from sources.errors import (
    MALFORMED_BODY_ERRORS,
    AuthError,
    NotFound,
    TractianError,
    failure_cause,
)
from sources.progress import Progress
from sources.sensor_types import SensorType
from sources.telemetry_dedup import KnownSamples, known_samples
from sources.telemetry_streams import Stream, SyncWindow, fetch_streams

Record = dict[str, Any]
FINAL_INSIGHT_STATUS = "checked"


@dataclass
class SourceRun:
    """What one sync's extraction saw: failures, snapshots read, progress per resource."""

    failures: list[str] = field(default_factory=list)
    snapshots: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    progress: dict[str, Progress] = field(default_factory=dict)
    show_progress: bool = True

    def tracker(self, resource: str, total_streams: int = 0) -> Progress:
        out = sys.stderr if self.show_progress else None
        tracker = Progress(resource, total_streams, out=out)
        self.progress[resource] = tracker
        return tracker


@dlt.source(name=settings.SOURCE_NAME, max_table_nesting=0)
def tractian_source(
    client: TractianClient,
    connection: Connection,
    window: SyncWindow,
    run: SourceRun,
    companies: list[Record],
    concurrency: int = settings.TELEMETRY_CONCURRENCY,
    warehouse: Path | None = None,
) -> list[DltResource]:
    """`companies`: `{id, name}` of each company to read (`api_features.companies_to_sync`).

    `warehouse`: the DuckDB file whose samples telemetry leaves out (None: keep all).
    """
    catalog = Catalog(client, companies, run.failures, window.begin(None), window.now, concurrency)
    ctx = _Context(client, connection, window, run, catalog, concurrency, warehouse)
    return [
        _resource(rs.COMPANIES, ctx.companies),
        _resource(rs.LOCATIONS, lambda: ctx.snapshot(rs.LOCATIONS, "locations")),
        _resource(rs.ASSETS, lambda: ctx.snapshot(rs.ASSETS, "assets")),
        _resource(rs.ASSET_SENSOR_TYPES, ctx.asset_sensor_types),
        _resource(rs.WORK_ORDER_PRIORITIES, ctx.priorities),
        _resource(rs.WORK_ORDER_CATEGORIES, ctx.categories),
        _resource(rs.WORK_ORDERS, ctx.work_orders),
        _resource(rs.EVENTS, ctx.events),
        _resource(rs.INSIGHTS, ctx.insights),
        _resource(rs.VIBRATION_SAMPLES, lambda: ctx.telemetry(rs.VIBRATION_SAMPLES)),
        _resource(rs.RPM_SAMPLES, lambda: ctx.telemetry(rs.RPM_SAMPLES)),
        _resource(rs.ENERGY_SAMPLES, lambda: ctx.telemetry(rs.ENERGY_SAMPLES)),
        _resource(rs.ENERGY_CONSUMPTION, lambda: ctx.telemetry(rs.ENERGY_CONSUMPTION)),
        _resource(rs.ENERGY_DEMAND, lambda: ctx.telemetry(rs.ENERGY_DEMAND)),
        _resource(rs.ENERGY_COST, lambda: ctx.telemetry(rs.ENERGY_COST)),
    ]


def _resource(table: rs.RawTable, gen: Callable[[], Iterator[pa.Table]]) -> DltResource:
    return dlt.resource(
        gen(),  # a generator object: nothing runs until dlt extracts it
        name=table.name,
        primary_key=list(table.primary_key),
        write_disposition="append" if table.telemetry else "merge",
    )


@dataclass
class _Context:
    client: TractianClient
    connection: Connection
    window: SyncWindow
    run: SourceRun
    catalog: Catalog
    concurrency: int
    warehouse: Path | None

    def _state(self, table: rs.RawTable, key: str) -> dict[str, Any]:
        """A resource's incremental state, or a scratch dict for a stateless backfill."""
        if self.window.stateless:
            return {}
        return dlt.current.resource_state(table.name).setdefault(key, {})

    def _table(self, table: rs.RawTable, records: list[Record], company_id: str) -> pa.Table:
        return convert.records_to_table(table, self.connection.name, records, company_id)

    def _sensor_memory(self) -> dict[str, Any]:
        """What probes found, per asset, in the source's state (see `sensor_types`).

        A stateless backfill of a closed range uses the types found so far and probes the
        rest over its own range, but remembers nothing: what a historical range shows
        must not stand for the present (a swapped sensor, a meter quiet that week).
        """
        memory = dlt.current.source_state().setdefault("sensor_types", {})
        if self.window.stateless:
            return {k: dict(v) for k, v in memory.items() if v["type"] is not None}
        return memory

    def companies(self) -> Iterator[pa.Table]:
        companies = self.catalog.companies
        self.run.tracker("companies").add_rows(len(companies))
        yield convert.records_to_table(rs.COMPANIES, self.connection.name, companies)

    def asset_sensor_types(self) -> Iterator[pa.Table]:
        found = self.catalog.sensor_types(self._sensor_memory())
        self.run.tracker(rs.ASSET_SENSOR_TYPES.name).add_rows(len(found))
        records = [vars(t) for t in found]
        yield convert.records_to_table(rs.ASSET_SENSOR_TYPES, self.connection.name, records)

    def snapshot(self, table: rs.RawTable, kind: str) -> Iterator[pa.Table]:
        """A full snapshot; ids are kept so the pipeline can mark vanished records."""

        def read(cid: str) -> list[Record]:
            return self.catalog.tree(cid, kind) or []

        def taken(cid: str, records: list[Record]) -> None:
            if self.catalog.tree(cid, kind) is not None:  # None: the tree failed, noted
                self.run.snapshots[(table.name, cid)] = {r["id"] for r in records}

        yield from self._per_company(table, read, taken)

    def _per_company(
        self,
        table: rs.RawTable,
        fetch: Callable[[str], list[Record]],
        done: Callable[[str, list[Record]], None] = lambda cid, records: None,
    ) -> Iterator[pa.Table]:
        """One company at a time: a company whose records cannot be read (after the client's
        retries) or converted is a failure of that company; `done` (which advances state)
        runs only for a company whose records are ready to load; the rest load."""
        progress = self.run.tracker(table.name)
        for company in self.catalog.companies:
            cid = company["id"]
            try:
                records = fetch(cid)
                batch = self._table(table, records, cid) if records else None
            except AuthError:
                raise
            except (TractianError, *MALFORMED_BODY_ERRORS) as exc:
                self.run.failures.append(f"{table.name} of company {cid}: {failure_cause(exc)}")
                continue
            done(cid, records)
            progress.add_rows(len(records))
            if batch is not None:
                yield batch

    def priorities(self) -> Iterator[pa.Table]:
        yield from self._per_company(
            rs.WORK_ORDER_PRIORITIES,
            lambda cid: self.client.paginate(f"/companies/{cid}/workorders/priorities"),
        )

    def categories(self) -> Iterator[pa.Table]:
        yield from self._per_company(
            rs.WORK_ORDER_CATEGORIES,
            lambda cid: self.client.paginate(f"/companies/{cid}/workorders/categories"),
        )

    def _windowed(
        self, table: rs.RawTable, fetch: Callable[[str, datetime, datetime], list[Record]]
    ) -> Iterator[pa.Table]:
        """Records changed in [committed end - lookback, now), per company."""
        ends: dict[str, str] = self._state(table, "windows")

        def fetch_since_committed(cid: str) -> list[Record]:
            return fetch(cid, self.window.begin(ends.get(cid)), self.window.now)

        def commit(cid: str, records: list[Record]) -> None:
            ends[cid] = iso8601(self.window.now)

        yield from self._per_company(table, fetch_since_committed, commit)

    def work_orders(self) -> Iterator[pa.Table]:
        def fetch(cid: str, begin: datetime, end: datetime) -> list[Record]:
            params = {"filter": "updatedAt", "start_date": iso8601(begin), "end_date": iso8601(end)}
            path = f"/companies/{cid}/workorders"
            live = self.client.paginate(path, {**params, "deleted": "false"})
            deleted = self.client.paginate(path, {**params, "deleted": "true"})
            return live + deleted

        yield from self._windowed(rs.WORK_ORDERS, fetch)

    def events(self) -> Iterator[pa.Table]:
        def fetch(cid: str, begin: datetime, end: datetime) -> list[Record]:
            params = {"createdAtStart": iso8601(begin), "createdAtEnd": iso8601(end)}
            return self.client.paginate(f"/companies/{cid}/events", params)

        yield from self._windowed(rs.EVENTS, fetch)

    def insights(self) -> Iterator[pa.Table]:
        """Insights by reference date, each with its status from the detail endpoint.

        An insight's status moves after creation (pending -> inspection -> checked), so
        insights not yet checked are kept in state and their detail re-read every sync.
        """
        still_open: dict[str, list[str]] = self._state(rs.INSIGHTS, "open")

        def fetch(cid: str, begin: datetime, end: datetime) -> list[Record]:
            params = {
                "referenceDateStart": iso8601(begin),
                "referenceDateEnd": iso8601(end),
                "sort": "createdAtAsc",
                "loadDescription": "true",
            }
            listed = self.client.paginate(f"/companies/{cid}/insights", params)
            ids = list(dict.fromkeys([r["id"] for r in listed] + still_open.get(cid, [])))
            details = self._insight_details(cid, ids)
            still_open[cid] = [d["id"] for d in details if d.get("status") != FINAL_INSIGHT_STATUS]
            return details

        yield from self._windowed(rs.INSIGHTS, fetch)

    def _insight_details(self, company_id: str, ids: list[str]) -> list[Record]:
        def detail(insight_id: str) -> Record | None:
            try:
                return self.client.get(f"/insights/{insight_id}", **{"x-company-id": company_id})
            except NotFound:
                return None

        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            return [d for d in pool.map(detail, ids) if d is not None]

    def telemetry(self, table: rs.RawTable) -> Iterator[pa.Table]:
        streams = self._streams(table)
        state: dict[str, str] = self._state(table, "windows")
        yield from fetch_streams(
            self.client,
            streams,
            self.window,
            state,
            progress=self.run.tracker(table.name, len(streams)),
            failures=self.run.failures,
            concurrency=self.concurrency,
            keep=self._known(table, streams, state).unseen,
        )

    def _known(
        self, table: rs.RawTable, streams: list[Stream], state: dict[str, str]
    ) -> KnownSamples:
        if self.warehouse is None:
            return KnownSamples(table)
        return known_samples(
            self.warehouse, self.connection.name, table, streams, state, self.window
        )

    def _streams(self, table: rs.RawTable) -> list[Stream]:
        sensor_type, series = TELEMETRY_SERIES[table.name]
        components: list[SensorType] = self.catalog.components(sensor_type, self._sensor_memory())
        return [
            Stream(
                key=f"{c.asset_id}/{suffix}",
                asset_id=c.asset_id,
                path=f"/assets/{c.asset_id}/{suffix}",
                to_table=partial(to_table, self.connection.name, c.asset_id, c.company_id, **kw),
            )
            for c in components
            for suffix, to_table, kw in series
        ]


def _interval(table: rs.RawTable, suffix: str) -> tuple[str, list[Any]]:
    return ("energy", [(suffix, convert.interval_table, {"table": table.name})])


# table -> (sensor type, [(path suffix under /assets/{id}, converter, converter kwargs)]):
# every telemetry path the connector reads (bench/ reads the same ones).
TELEMETRY_SERIES: dict[
    str, tuple[str, list[tuple[str, Callable[..., pa.Table], dict[str, str]]]]
] = {
    rs.VIBRATION_SAMPLES.name: ("vibration", [("vibration", convert.vibration_table, {})]),
    rs.RPM_SAMPLES.name: ("vibration", [("vibration/rotation", convert.rpm_table, {})]),
    rs.ENERGY_SAMPLES.name: (
        "energy",
        [(f"energy/{q}", convert.energy_table, {"quantity": q}) for q in rs.ENERGY_QUANTITIES],
    ),
    rs.ENERGY_CONSUMPTION.name: _interval(rs.ENERGY_CONSUMPTION, "energy/consumption"),
    rs.ENERGY_DEMAND.name: _interval(rs.ENERGY_DEMAND, "energy/demand"),
    rs.ENERGY_COST.name: _interval(rs.ENERGY_COST, "energy/cost"),
}
