"""Materialization metadata of raw tables: rows loaded and held, load ids, windows synced."""

from collections.abc import Iterator, Sequence

import dagster as dg

from orchestration.keys import raw_key
from orchestration.partitions import Window, windows_by_connection
from sources import raw_dataset
from sources import raw_schema as rs
from sources.pipeline import SyncReport
from sources.warehouses import Warehouse

SyncDone = tuple[SyncReport, Window | None]


def materializations(
    warehouse: Warehouse,
    tables: Sequence[str],
    done: Sequence[SyncDone],
    partition_keys: Sequence[str],
) -> Iterator[dg.MaterializeResult]:
    """One result per table; row counts are the rows now held for the run's partitions."""
    connections = sorted({report.connection for report, _ in done})
    windows = _describe_windows(done)
    load_ids = sorted({i for report, _ in done for i in report.load_ids})
    # Telemetry counts are scoped to the run's days (its keys are connection x day).
    telemetry = any(rs.RAW_TABLES[table].telemetry for table in tables)
    days = windows_by_connection(partition_keys) if telemetry else None
    with warehouse.sql_client() as client:
        held = {
            table: raw_dataset.rows_held(
                client, table, connections, days if rs.RAW_TABLES[table].telemetry else None
            )
            for table in tables
        }
    for table in tables:
        yield dg.MaterializeResult(
            asset_key=raw_key(table),
            metadata={
                "dagster/row_count": held[table],
                "rows_loaded": sum(report.rows.get(table, 0) for report, _ in done),
                "connections": ", ".join(connections),
                "windows": dg.MetadataValue.json(windows),
                "load_ids": dg.MetadataValue.json(load_ids),
                "failures": sum(len(report.failures) for report, _ in done),
                "marked_missing": sum(r.marked_missing.get(table, 0) for r, _ in done),
            },
        )


def _describe_windows(done: Sequence[SyncDone]) -> dict[str, list[str]]:
    """Per connection, each window synced: `start/end`, or `incremental up to <now>`."""
    described: dict[str, list[str]] = {}
    for report, window in done:
        text = (
            f"incremental up to {report.now:%Y-%m-%dT%H:%M:%SZ}"
            if window is None
            else f"{window[0]:%Y-%m-%dT%H:%MZ}/{window[1]:%Y-%m-%dT%H:%MZ}"
        )
        described.setdefault(report.connection, []).append(text)
    return described
