"""One sync of one connection into the raw dataset of a DuckDB warehouse.

Each connection has its own dlt pipeline (its own state, in the warehouse) writing to
the shared `tractian_raw` dataset; every row carries the connection's name, so syncing
one connection never touches another's rows or state.
"""

import os
import time
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import dlt
import duckdb
import pyarrow as pa
from dlt.destinations.impl.duckdb.configuration import DuckDbCredentials
from dlt.pipeline.exceptions import PipelineStepFailed

from sources import raw_schema as rs
from sources import settings
from sources.api_features import ApiFeatures, companies_to_sync, detect
from sources.client import TractianClient
from sources.connections import Connection, client_for
from sources.errors import AuthError
from sources.raw_migrations import migrate
from sources.source import SourceRun, tractian_source
from sources.telemetry_dedup import drop_duplicate_samples
from sources.telemetry_streams import SyncWindow

# Arrow tables loaded by dlt get no _dlt_load_id unless asked (see STACK-NOTES).
os.environ.setdefault("NORMALIZE__PARQUET_NORMALIZER__ADD_DLT_LOAD_ID", "true")
# One resource at a time: each telemetry resource fans out over its own bounded pool, so
# dlt's default round robin would run four of them (4 x the concurrency) at once.
os.environ.setdefault("EXTRACT__NEXT_ITEM_MODE", "fifo")


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


def create_warehouse(db_path: Path) -> None:
    """Create the DuckDB file so that DuckDB 1.x tools can open it (see STACK-NOTES)."""
    if db_path.exists():
        return
    db_path.parent.mkdir(parents=True, exist_ok=True)
    duckdb.connect(str(db_path), config={"storage_compatibility_version": "v1.0.0"}).close()


def make_pipeline(connection: Connection, db_path: Path) -> dlt.Pipeline:
    # DuckDB would otherwise cache up to 80 % of RAM while loading (bench/ B3).
    credentials = DuckDbCredentials(
        str(db_path),
        global_config={
            "memory_limit": settings.DUCKDB_MEMORY_LIMIT,
            "preserve_insertion_order": False,
        },
    )
    return dlt.pipeline(
        pipeline_name=connection.pipeline_name,
        destination=dlt.destinations.duckdb(credentials),
        dataset_name=rs.DATASET,
        pipelines_dir=str(db_path.parent / ".dlt_pipelines"),
        progress=None,
    )


def sync(
    connection: Connection,
    db_path: Path,
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
    """Sync `connection` into `db_path`; raise on failure after keeping what loaded.

    Optional endpoints are asked first (`api_features`): the companies come from the
    connection's configuration or `/companies`, else a `ConnectionConfigError` stops the
    sync before any data request. Windows end at `now`, by default the API's own clock
    (`/connection.checkedAt`) where it has one, else the local UTC clock. A first sync of a
    stream starts
    at `start` (default 14 days before `now`); an explicit `start` re-reads from there.
    With `end`, the sync is a stateless backfill of [start, end): it reads that range and
    leaves incremental state alone (Dagster partitions use this). `resources` limits the
    sync to some raw tables (default: all).
    """
    if end is not None and start is None:
        raise ValueError("a backfill with `end` needs a `start`")
    began = time.monotonic()
    client = client or client_for(connection)
    try:
        features = detect(client)
        features.check_authorized()
    except AuthError as exc:
        raise ConnectionNeedsAttention(connection.name, exc) from None
    companies, company_failures = companies_to_sync(connection, features)
    now = now or features.now()
    window = SyncWindow(
        start=start or now - settings.DEFAULT_BACKFILL,
        lookback=lookback,
        now=min(end, now) if end is not None else now,
        force_start=start is not None,
        stateless=end is not None,
    )
    create_warehouse(db_path)
    pipeline = make_pipeline(connection, db_path)
    report = SyncReport(connection.name, now, features=features)
    _finish_pending(pipeline, report, db_path)
    report.migrated = migrate(db_path)
    failures = [f"optional {path}: {why}" for path, why in features.failed.items()]
    run = SourceRun(failures=failures + company_failures, show_progress=show_progress)
    source = tractian_source(
        client, connection, window, run, companies, concurrency=concurrency, warehouse=db_path
    )
    selected = list(resources) if resources is not None else list(rs.RAW_TABLES)
    if features.companies_failed:  # the names are unknown this time: keep the old ones
        selected = [table for table in selected if table != rs.COMPANIES.name]
    source = source.with_resources(*selected)
    try:
        info = pipeline.run(source)
    except PipelineStepFailed as exc:
        auth = _auth_cause(exc)
        if auth is not None:
            raise ConnectionNeedsAttention(connection.name, auth) from None
        raise
    report.load_ids.extend(info.loads_ids)
    report.marked_missing = _mark_missing(db_path, connection.name, run.snapshots, now)
    report.rows = {name: p.rows for name, p in run.progress.items()}
    report.failures = run.failures
    report.requests, report.bytes = client.stats.requests, client.stats.bytes
    report.seconds = time.monotonic() - began
    if report.failures:
        raise SyncFailed(report)
    return report


def _finish_pending(pipeline: dlt.Pipeline, report: SyncReport, db_path: Path) -> None:
    """Load a package a killed sync left extracted but not loaded, before extracting anew."""
    if pipeline.has_pending_data:
        info = pipeline.run()
        # None: dlt discarded a package whose pipeline state was never saved (killed
        # right after extracting on a first sync); nothing of it was committed either.
        if info is not None:
            report.load_ids.extend(info.loads_ids)
        drop_duplicate_samples(db_path, report.connection)


def _auth_cause(exc: BaseException) -> AuthError | None:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, AuthError):
            return current
        seen.add(id(current))
        current = getattr(current, "exception", None) or current.__cause__ or current.__context__
    return None


def _mark_missing(
    db_path: Path,
    connection_name: str,
    snapshots: dict[tuple[str, str], set[str]],
    now: datetime,
) -> dict[str, int]:
    """Mark records absent from a fresh, complete snapshot; never delete them."""
    marked: dict[str, int] = {}
    with duckdb.connect(str(db_path)) as conn:
        for (table, company_id), ids in snapshots.items():
            conn.register("seen", pa.table({"id": pa.array(sorted(ids), pa.string())}))
            count = conn.execute(
                f"""UPDATE {rs.DATASET}.{table} SET missing_since = ?
                    WHERE connection_name = ? AND company_id = ? AND missing_since IS NULL
                      AND id NOT IN (SELECT id FROM seen)""",
                [now, connection_name, company_id],
            ).fetchall()[0][0]
            conn.unregister("seen")
            marked[table] = marked.get(table, 0) + count
    return marked
