"""Materialization metadata of raw tables: rows loaded and held, load ids, windows synced."""

from collections.abc import Iterator, Sequence
from pathlib import Path

import dagster as dg
import duckdb

from orchestration.keys import raw_key
from orchestration.partitions import Window, windows_by_connection
from sources import raw_schema as rs
from sources.pipeline import SyncReport

SyncDone = tuple[SyncReport, Window | None]


def materializations(
    db_path: Path, tables: Sequence[str], done: Sequence[SyncDone], partition_keys: Sequence[str]
) -> Iterator[dg.MaterializeResult]:
    """One result per table; row counts are the rows now held for the run's partitions."""
    connections = sorted({report.connection for report, _ in done})
    windows = _describe_windows(done)
    load_ids = sorted({i for report, _ in done for i in report.load_ids})
    with duckdb.connect(str(db_path), read_only=True) as conn:
        for table in tables:
            spec = rs.RAW_TABLES[table]
            scope = windows_by_connection(partition_keys) if spec.telemetry else None
            held = _rows_held(conn, table, connections, scope)
            yield dg.MaterializeResult(
                asset_key=raw_key(table),
                metadata={
                    "dagster/row_count": held,
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


def _rows_held(
    conn: duckdb.DuckDBPyConnection,
    table: str,
    connections: Sequence[str],
    scope: dict[str, list[Window]] | None,
) -> int:
    """Rows of `table` for `connections` (within `scope`'s windows per connection, if any)."""
    if table not in rs.present_tables(conn):
        return 0
    total = 0
    for name in connections:
        query = f'SELECT count(*) FROM {rs.DATASET}."{table}" WHERE connection_name = ?'
        if scope is None:
            total += conn.execute(query, [name]).fetchone()[0]
            continue
        for start, end in scope.get(name, []):
            bounded = query + " AND sampled_at >= ? AND sampled_at < ?"
            total += conn.execute(bounded, [name, start, end]).fetchone()[0]
    return total
