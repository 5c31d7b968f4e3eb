"""The dlt source `tractian`: every Tractian resource of one API token, as Arrow tables.

    import dlt
    from sources import tractian

    pipeline = dlt.pipeline("tractian", destination="postgres", dataset_name="tractian_raw")
    pipeline.run(tractian())   # base_url, api_token, companies... from dlt config/secrets

Its parameters resolve from dlt's configuration under `sources.tractian` (`base_url`,
`companies`, `lookback_hours`, `start`...) and secrets (`api_token`). Resources only say
what to fetch and how it is keyed; HTTP lives in `client`, Arrow conversion in
`convert`, per-component windows in `telemetry_streams`, which assets have which
telemetry in `sensor_types` (through `catalog`). Everything is read from endpoints that
Tractian's published API has; the optional ones are asked first (`api_features`).

Catalog and record tables merge on their primary key (which includes the connection);
telemetry tables append only the samples the destination lacks, asked through the
pipeline's own SQL client (`telemetry_dedup`, `raw_dataset`), so any SQL destination
stays exactly-once. A fresh, complete snapshot of a company's locations or assets marks
the records it no longer lists (`missing_since`), never deletes them. Either way,
re-reading a window (lookback, retries, a rerun after a crash) never duplicates a row.

A part that fails (a company, an endpoint, a stream) is recorded and its state is not
advanced; at the end of extraction the failures raise `SourceFailures` and nothing of
the run loads, unless `allow_partial=True` (then the rest loads and the failures are in
`run.failures`; `sources.pipeline.sync` does that and reports them).
"""

import itertools
import sys
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import dlt
import pyarrow as pa
import pyarrow.compute as pc
from dlt.extract.resource import DltResource

from sources import convert, raw_dataset, settings
from sources import raw_schema as rs
from sources.api_features import ApiFeatures, companies_to_sync, detect
from sources.catalog import Catalog
from sources.client import TractianClient, iso8601
from sources.connections import Connection, client_for
from sources.errors import (
    MALFORMED_BODY_ERRORS,
    AuthError,
    NotFound,
    SourceFailures,
    TractianError,
    failure_cause,
)
from sources.progress import Progress
from sources.sensor_types import SensorType
from sources.telemetry_dedup import KnownSamples, known_samples
from sources.telemetry_streams import Stream, SyncWindow, fetch_streams

Record = dict[str, Any]
FINAL_INSIGHT_STATUS = "checked"
DEFAULT_CONNECTION = "default"
LOAD_ID = "_dlt_load_id"


@dataclass
class SourceRun:
    """What one run of the source saw: the API's features and clock, failures, rows per
    resource, records marked missing."""

    failures: list[str] = field(default_factory=list)
    progress: dict[str, Progress] = field(default_factory=dict)
    marked_missing: dict[str, int] = field(default_factory=dict)
    show_progress: bool = False
    features: ApiFeatures | None = None
    now: datetime | None = None

    def tracker(self, resource: str, total_streams: int = 0) -> Progress:
        out = sys.stderr if self.show_progress else None
        tracker = Progress(resource, total_streams, out=out)
        self.progress[resource] = tracker
        return tracker


@dlt.source(name=settings.SOURCE_NAME, section=settings.SOURCE_NAME, max_table_nesting=0)
def tractian(
    base_url: str = dlt.config.value,
    api_token: str = dlt.secrets.value,
    companies: Sequence[str] | None = None,
    connection_name: str = DEFAULT_CONNECTION,
    start: datetime | None = None,
    end: datetime | None = None,
    lookback_hours: float = settings.DEFAULT_LOOKBACK / timedelta(hours=1),
    now: datetime | None = None,
    allow_partial: bool = False,
    concurrency: int = settings.TELEMETRY_CONCURRENCY,
    client: TractianClient | None = None,
    run: SourceRun | None = None,
) -> list[DltResource]:
    """Every Tractian resource the token may read, as dlt resources (select with
    `.with_resources(...)`).

    - `companies`: the company ids to read; required against Tractian's published API,
      which cannot list them (an integration layer with `/companies` makes it optional).
    - `connection_name`: written to every row and part of every key, so two tokens that
      read the same company never overwrite each other.
    - `start`: where a first sync of a stream begins (default 14 days before `now`); set
      on a later run, it re-reads from there. With `end`, the run is a stateless backfill
      of [start, end) that leaves incremental state alone.
    - `lookback_hours`: how far before its last end a stream re-reads, for late samples.
    - `now`: where windows end (default the API's clock, else the local UTC clock).
    - `allow_partial`: load what succeeded when some part failed (default: raise).
    - `client`, `run`: a tuned `TractianClient`, and a `SourceRun` to read the outcome
      from (used by `sources.pipeline.sync`).
    """
    if end is not None and start is None:
        raise ValueError("a backfill with `end` needs a `start`")
    connection = Connection(connection_name, base_url, api_token, tuple(companies or ()))
    client = client or client_for(connection)
    run = run if run is not None else SourceRun()
    features = detect(client)
    features.check_authorized()
    wanted, company_failures = companies_to_sync(connection, features)
    run.features, run.now = features, now or features.now()
    run.failures += [f"optional {path}: {why}" for path, why in features.failed.items()]
    run.failures += company_failures
    window = SyncWindow(
        start=start or run.now - settings.DEFAULT_BACKFILL,
        lookback=timedelta(hours=lookback_hours),
        now=min(end, run.now) if end is not None else run.now,
        force_start=start is not None,
        stateless=end is not None,
    )
    catalog = Catalog(client, wanted, run.failures, window.begin(None), window.now, concurrency)
    ctx = _Context(client, connection, window, run, catalog, concurrency, allow_partial)
    return [
        ctx.resource(rs.COMPANIES, ctx.companies),
        ctx.resource(rs.LOCATIONS, lambda: ctx.snapshot(rs.LOCATIONS, "locations")),
        ctx.resource(rs.ASSETS, lambda: ctx.snapshot(rs.ASSETS, "assets")),
        ctx.resource(rs.ASSET_SENSOR_TYPES, ctx.asset_sensor_types),
        ctx.resource(rs.WORK_ORDER_PRIORITIES, ctx.priorities),
        ctx.resource(rs.WORK_ORDER_CATEGORIES, ctx.categories),
        ctx.resource(rs.WORK_ORDERS, ctx.work_orders),
        ctx.resource(rs.EVENTS, ctx.events),
        ctx.resource(rs.INSIGHTS, ctx.insights),
        *(
            ctx.resource(t, partial(ctx.telemetry, t))
            for t in rs.RAW_TABLES.values()
            if t.telemetry
        ),
    ]


@dataclass
class _Context:
    client: TractianClient
    connection: Connection
    window: SyncWindow
    run: SourceRun
    catalog: Catalog
    concurrency: int
    allow_partial: bool
    snapshots: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    finished: set[str] = field(default_factory=set)
    telemetry_turn: str | None = None  # the telemetry resource now extracting

    def __post_init__(self) -> None:
        # One pool for every telemetry resource: however dlt interleaves the resources,
        # at most `concurrency` requests are in flight.
        self.pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix="tractian")
        self._held: tuple[raw_dataset.Client | None, set[str]] | None = None

    def _destination(self) -> tuple[raw_dataset.Client | None, set[str]]:
        """The destination's SQL client (opened once per run) and its raw tables."""
        if self._held is None:
            client = raw_dataset.open_current_client()
            tables = raw_dataset.present_tables(client) if client is not None else set()
            self._held = (client, tables)
        return self._held

    def resource(
        self, table: rs.RawTable, gen: Callable[[], Iterator[pa.Table | None]]
    ) -> DltResource:
        def items() -> Iterator[pa.Table | None]:
            # dlt adds no load id to Arrow items unless configured to, process-wide; the
            # transforms need it, so every row carries the id of the package it is in.
            load_id = dlt.current.load_package_state()["load_id"]
            for batch in gen():
                if batch is None:  # waiting for its turn (see `telemetry`)
                    yield None
                    continue
                column = pa.array(itertools.repeat(load_id, batch.num_rows), pa.string())
                yield batch.append_column(pa.field(LOAD_ID, pa.string(), False), column)
            self._resource_done(table.name)

        return dlt.resource(
            items(),  # a generator object: nothing runs until dlt extracts it
            name=table.name,
            primary_key=list(table.primary_key),
            write_disposition="append" if table.telemetry else "merge",
        )

    def _resource_done(self, name: str) -> None:
        """After the last selected resource: stop the pool, raise the failures unless a
        partial load was asked for."""
        self.finished.add(name)
        if not set(dlt.current.source().selected_resources) <= self.finished:
            return
        self.pool.shutdown(wait=False)
        client, _ = self._held or (None, set())
        if client is not None:
            client.close_connection()
        if self.run.failures and not self.allow_partial:
            raise SourceFailures(self.connection.name, self.run.failures)

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
        assert self.run.features is not None
        if self.run.features.companies_failed:  # the names are unknown: keep the held ones
            self.run.tracker("companies")
            return
        companies = self.catalog.companies
        self.run.tracker("companies").add_rows(len(companies))
        yield convert.records_to_table(rs.COMPANIES, self.connection.name, companies)

    def asset_sensor_types(self) -> Iterator[pa.Table]:
        found = self.catalog.sensor_types(self._sensor_memory())
        self.run.tracker(rs.ASSET_SENSOR_TYPES.name).add_rows(len(found))
        records = [vars(t) for t in found]
        yield convert.records_to_table(rs.ASSET_SENSOR_TYPES, self.connection.name, records)

    def snapshot(self, table: rs.RawTable, kind: str) -> Iterator[pa.Table]:
        """A full snapshot per company, then the records it no longer lists, marked."""

        def read(cid: str) -> list[Record]:
            return self.catalog.tree(cid, kind) or []

        def taken(cid: str, records: list[Record]) -> None:
            if self.catalog.tree(cid, kind) is not None:  # None: the tree failed, noted
                self.snapshots[(table.name, cid)] = {r["id"] for r in records}

        yield from self._per_company(table, read, taken)
        yield from self._vanished(table)

    def _vanished(self, table: rs.RawTable) -> Iterator[pa.Table]:
        """The held records of each complete snapshot that it no longer lists, with
        `missing_since` set: merged on their key, they replace the held rows."""
        taken = {cid: ids for (name, cid), ids in self.snapshots.items() if name == table.name}
        if not taken:
            return
        client, present = self._destination()
        if client is None or table.name not in present:
            return
        for cid, ids in taken.items():
            held = raw_dataset.held_live_records(client, table, self.connection.name, cid)
            gone = held.filter(pc.invert(pc.is_in(held["id"], pa.array(sorted(ids)))))
            if gone.num_rows == 0:
                continue
            since = pa.array(itertools.repeat(self.window.now, gone.num_rows), rs.TS)
            index = gone.schema.get_field_index("missing_since")
            marked = gone.set_column(index, gone.schema.field(index), since)
            count = self.run.marked_missing.get(table.name, 0) + marked.num_rows
            self.run.marked_missing[table.name] = count
            yield marked

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

        return [d for d in self.pool.map(detail, ids) if d is not None]

    def telemetry(self, table: rs.RawTable) -> Iterator[pa.Table | None]:
        """One table's streams. Telemetry tables take turns, whatever order dlt extracts
        the resources in: interleaving them would hold every table's windows, batches
        and dlt writer buffers at once (+45 MB peak at bench B3). A resource waiting for
        its turn yields None, which dlt skips."""
        while self.telemetry_turn not in (None, table.name):
            yield None
        self.telemetry_turn = table.name
        try:
            streams = self._streams(table)
            state: dict[str, str] = self._state(table, "windows")
            yield from fetch_streams(
                self.client,
                streams,
                self.window,
                state,
                progress=self.run.tracker(table.name, len(streams)),
                failures=self.run.failures,
                pool=self.pool,
                concurrency=self.concurrency,
                keep=self._known(table, streams, state).unseen,
            )
        finally:
            self.telemetry_turn = None

    def _known(
        self, table: rs.RawTable, streams: list[Stream], state: dict[str, str]
    ) -> KnownSamples:
        """What the destination holds of what these streams will re-read."""
        client, present = self._destination()
        if client is None or table.name not in present:
            return KnownSamples(table)
        return known_samples(client, self.connection.name, table, streams, state, self.window)

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
