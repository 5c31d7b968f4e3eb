"""One sync of one connection into the raw dataset of a warehouse (`warehouses`).

Each connection has its own dlt pipeline (its own state, in the destination) writing to
the shared `tractian_raw` dataset; every row carries the connection's name, so syncing
one connection never touches another's rows or state. The data comes from the
`tractian` dlt source (`sources.source`), run here with partial loads allowed: what
succeeded loads and commits, and `SyncFailed` then says what did not.
"""

import random
import time
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import dlt
from dlt.pipeline.exceptions import PipelineStepFailed
from dlt.pipeline.helpers import retry_schema_update

from sources import raw_dataset, settings
from sources import raw_schema as rs
from sources.api_features import ApiFeatures
from sources.client import TractianClient
from sources.connections import Connection, client_for
from sources.errors import AuthError
from sources.source import SourceRun, tractian
from sources.warehouses import Warehouse

LOAD_RETRIES = 5


class SyncFailed(Exception):
    """Some resources or companies failed; what loaded is kept. Exit code 1.

    Its message is the one summary a person reads (CLI, Dagster, alerts): what loaded,
    what failed and why, and what to do.
    """

    def __init__(self, report: "SyncReport") -> None:
        failures = report.failures
        lines = "\n    ".join(failures[:20])
        more = f"\n    ... and {len(failures) - 20} more" if len(failures) > 20 else ""
        loaded = ", ".join(f"{t} {n:,}" for t, n in report.rows.items() if n) or "nothing new"
        super().__init__(
            f"connection {report.connection!r}: {len(failures)} part(s) failed; the rest "
            f"loaded and is committed.\n  loaded: {loaded}\n  failed:\n    {lines}{more}\n"
            "  what to do: nothing is lost; each failed part kept its last committed state "
            "and the next sync re-reads it from there. If the same parts keep failing, the "
            "causes above say which endpoint, company or stream to raise with Tractian."
        )
        self.report = report


class ConnectionNeedsAttention(Exception):
    """Reauthorization required or invalid token: the connection stopped. Exit code 3."""

    def __init__(self, connection: str, cause: AuthError) -> None:
        super().__init__(
            f"connection {connection!r} stopped: {cause.code}: {cause.action}. "
            "Nothing already loaded was lost."
        )
        self.connection = connection
        self.cause = cause


@dataclass
class SyncReport:
    connection: str
    now: datetime
    load_ids: list[str] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    requests: int = 0
    bytes: int = 0
    seconds: float = 0.0
    marked_missing: dict[str, int] = field(default_factory=dict)
    features: ApiFeatures | None = None
    migrated: list[str] = field(default_factory=list)  # raw contract upgrades this sync made
    load_retries: int = 0  # loads retried after losing a commit race to another sync


def sync(
    connection: Connection,
    warehouse: Warehouse | Path,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    lookback: timedelta = settings.DEFAULT_LOOKBACK,
    now: datetime | None = None,
    resources: Collection[str] | None = None,
    client: TractianClient | None = None,
    show_progress: bool = True,
    concurrency: int = settings.TELEMETRY_CONCURRENCY,
) -> SyncReport:
    """Sync `connection` into `warehouse` (a Path: the DuckDB file); raise on failure
    after keeping what loaded.

    Optional endpoints are asked first (`api_features`): the companies come from the
    connection's configuration or `/companies`, else a `ConnectionConfigError` stops the
    sync before any data request. Windows end at `now`, by default the API's own clock
    (`/connection.checkedAt`) where it has one, else the local UTC clock. A first sync of
    a stream starts at `start` (default 14 days before `now`); an explicit `start`
    re-reads from there. With `end`, the sync is a stateless backfill of [start, end): it
    reads that range and leaves incremental state alone (Dagster partitions use this).
    `resources` limits the sync to some raw tables (default: all).
    """
    began = time.monotonic()
    if isinstance(warehouse, Path):
        warehouse = Warehouse.duckdb_file(warehouse)
    client = client or client_for(connection)
    run = SourceRun(show_progress=show_progress)
    try:
        source = tractian(
            base_url=connection.base_url,
            api_token=connection.token,
            companies=list(connection.company_ids),
            connection_name=connection.name,
            start=start,
            end=end,
            lookback_hours=lookback / timedelta(hours=1),
            now=now,
            allow_partial=True,
            concurrency=concurrency,
            client=client,
            run=run,
        )
    except AuthError as exc:
        raise ConnectionNeedsAttention(connection.name, exc) from None
    assert run.now is not None  # set by the source
    report = SyncReport(connection.name, run.now, features=run.features)
    with warehouse.secrets_masked():
        pipeline = warehouse.pipeline(connection.pipeline_name)
        report.migrated = warehouse.prepare(pipeline)
        _finish_pending(pipeline, report)
        selected = list(resources) if resources is not None else list(rs.RAW_TABLES)
        try:
            info = _run(pipeline, source.with_resources(*selected), warehouse, report)
        except PipelineStepFailed as exc:
            auth = _auth_cause(exc)
            if auth is not None:
                raise ConnectionNeedsAttention(connection.name, auth) from None
            raise
        report.load_ids.extend(info.loads_ids)
        report.marked_missing = dict(run.marked_missing)
        report.rows = {name: p.rows for name, p in run.progress.items()}
        report.failures = run.failures
        report.requests, report.bytes = client.stats.requests, client.stats.bytes
        report.seconds = time.monotonic() - began
    if report.failures:
        raise SyncFailed(report)
    return report


def _run(pipeline: dlt.Pipeline, data: Any, warehouse: Warehouse, report: SyncReport) -> Any:
    """What `pipeline.run(data)` does (pending packages are already loaded), with the
    warehouse's number of load workers, and a load that lost a commit race to another
    sync writing the same dataset (both creating a table, both deleting from one:
    DuckLake and PostgreSQL let only one commit) loaded again from its package, which
    dlt keeps: the retry re-reads the destination and applies only what is missing."""
    pipeline.sync_destination()  # the state from the destination, if it is ahead
    pipeline.extract(data)
    pipeline.normalize()
    workers = {"workers": warehouse.load_workers} if warehouse.load_workers else {}
    for attempt in range(LOAD_RETRIES + 1):
        try:
            return pipeline.load(**workers)
        except PipelineStepFailed as exc:
            if not _lost_a_race(exc) or attempt == LOAD_RETRIES:
                raise
        report.load_retries += 1
        time.sleep(random.uniform(0.5, 1.5) * (attempt + 1))  # the racers should not meet again
    raise AssertionError("unreachable")


def _lost_a_race(exc: PipelineStepFailed) -> bool:
    if exc.step != "load":
        return False
    return retry_schema_update()(exc) or "Transaction conflict" in str(exc)


def _finish_pending(pipeline: dlt.Pipeline, report: SyncReport) -> None:
    """Load a package a killed sync left extracted but not loaded, before extracting anew."""
    if pipeline.has_pending_data:
        _adopt_package_schemas(pipeline)
        info = pipeline.run()
        # None: dlt discarded a package whose pipeline state was never saved (killed
        # right after extracting on a first sync); nothing of it was committed either.
        if info is not None:
            report.load_ids.extend(info.loads_ids)
        with pipeline.sql_client() as client:
            raw_dataset.drop_duplicate_samples(client, rs.TELEMETRY_TABLES, report.connection)


def _adopt_package_schemas(pipeline: dlt.Pipeline) -> None:
    """Store an extracted package's schema where it is newer than the pipeline's own.

    dlt commits an extracted package (with the schema that grew during the extract) just
    before it saves that schema as the pipeline's; a sync killed in between leaves the
    older schema stored, and normalize, which prefers the stored one, then fails on the
    package's new tables ("Table not found") at every later sync. The package's schema
    grew from the stored one, so a higher version is a strict superset.
    """
    stored = set(pipeline.schemas.list_schemas())
    for load_id in pipeline.list_extracted_load_packages():
        schema = pipeline.get_load_package_info(load_id).schema
        if schema.name in stored and schema.version > pipeline.schemas[schema.name].version:
            pipeline.schemas.save_schema(schema)


def _auth_cause(exc: BaseException) -> AuthError | None:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, AuthError):
            return current
        seen.add(id(current))
        current = getattr(current, "exception", None) or current.__cause__ or current.__context__
    return None
