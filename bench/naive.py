"""Contender (c), the naive peer: the same client, windows and concurrency, with dlt
loading dict rows (a list of row dicts per window, merged on the key, dlt's default
loader). It is slow, so it syncs a slice of the streams and is compared by rate.
"""

from collections.abc import Iterator
from datetime import datetime
from itertools import groupby
from pathlib import Path
from typing import Any

import dlt

from bench.columns import Stream, fetch_all, flatten, fleet, window
from sources import raw_schema as rs
from sources.client import TractianClient, iso8601
from sources.telemetry_streams import SyncWindow

Row = dict[str, Any]


def to_rows(stream: Stream, body: dict[str, Any]) -> list[Row]:
    values = dict(flatten(body)) | stream.fixed
    series = {name: v for name, v in values.items() if isinstance(v, list)}
    fixed = {name: v for name, v in values.items() if not isinstance(v, list)}
    return [
        fixed | dict(zip(series, row, strict=True)) for row in zip(*series.values(), strict=True)
    ]


def _rows(
    client: TractianClient, table_streams: list[Stream], sync_window: SyncWindow, concurrency: int
) -> Iterator[list[Row]]:
    def fetch(task: tuple[Stream, tuple[datetime, datetime]]) -> list[Row]:
        stream, (start, end) = task
        body = client.get(stream.path, {"start": iso8601(start), "end": iso8601(end)})
        return [] if body is None else to_rows(stream, body)

    tasks = [(s, w) for s in table_streams for w in sync_window.windows(None)]
    yield from fetch_all(fetch, tasks, concurrency)


def sync_naive(
    client: TractianClient,
    connection_name: str,
    db_path: Path,
    *,
    slice_every: int = 20,
    concurrency: int = 8,
) -> None:
    """A 14-day backfill of every `slice_every`-th stream."""
    found = fleet(client, connection_name, {})
    sync_window = window(found.now, None)
    chosen = found.streams[::slice_every]
    pipeline = dlt.pipeline(
        pipeline_name="naive_peer",
        destination=dlt.destinations.duckdb(str(db_path)),
        dataset_name=rs.DATASET,
        pipelines_dir=str(db_path.parent / ".dlt_pipelines"),
    )
    resources = [
        dlt.resource(
            _rows(client, list(group), sync_window, concurrency),
            name=name,
            primary_key=list(rs.RAW_TABLES[name].primary_key),
            write_disposition="merge",
        )
        for name, group in groupby(chosen, key=lambda s: s.table.name)
    ]
    pipeline.run(resources)
