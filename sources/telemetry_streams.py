"""Per-component telemetry: incremental windows, bounded concurrent fan-out, Arrow batches.

Each stream (one component's vibration, rotation, one energy quantity or consumption)
keeps its own committed window end in dlt resource state. A sync reads from that end
minus the lookback (late samples arrive up to 48 h after `sampledAt`) up to the sync's
`now`, in chunks the API accepts, keeping the samples `keep` passes (the connector drops
those the warehouse holds, see `telemetry_dedup`). A stream's state moves only
when every window of it succeeded, and dlt commits that state in the same load package
as the rows, so a failed or killed sync never advances past what was loaded.
"""

from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pyarrow as pa

from sources import settings
from sources.client import TractianClient, iso8601
from sources.errors import (
    MALFORMED_BODY_ERRORS,
    AuthError,
    TractianError,
    UnexpectedBody,
    failure_cause,
)
from sources.progress import Progress

Window = tuple[datetime, datetime]


@dataclass(frozen=True)
class SyncWindow:
    """What a sync reads: from `start` (or committed state minus `lookback`) up to `now`."""

    start: datetime
    lookback: timedelta
    now: datetime
    force_start: bool = False  # re-read from `start` even where state exists
    stateless: bool = False  # a backfill of a closed range: read it, leave state alone

    def begin(self, committed_end: str | None) -> datetime:
        """Where a stream whose state says `committed_end` (ISO, or None) starts reading."""
        if committed_end is None or self.force_start:
            return self.start
        return datetime.fromisoformat(committed_end.replace("Z", "+00:00")) - self.lookback

    def windows(self, committed_end: str | None) -> list[Window]:
        """The API-sized windows one stream must read."""
        begin = self.begin(committed_end)
        chunks = []
        while begin < self.now:
            end = min(begin + settings.MAX_WINDOW, self.now)
            chunks.append((begin, end))
            begin = end
        return chunks


@dataclass(frozen=True)
class Stream:
    """One series of one component: where to read it and how to make it Arrow."""

    key: str
    asset_id: str
    path: str
    to_table: Callable[[dict[str, Any]], pa.Table]
    params: tuple[tuple[str, str], ...] = ()


def fetch_streams(
    client: TractianClient,
    streams: list[Stream],
    window: SyncWindow,
    state: dict[str, str],
    *,
    progress: Progress,
    failures: list[str],
    pool: ThreadPoolExecutor,
    concurrency: int = settings.TELEMETRY_CONCURRENCY,
    keep: Callable[[pa.Table], pa.Table] = lambda window: window,
) -> Iterator[pa.Table]:
    """Yield Arrow batches of every stream's new windows; update `state` per finished stream.

    Requests run on `pool`, at most `2 * concurrency` of this call's windows submitted.

    Failures of one stream (after the client's retries) are appended to `failures` and
    leave that stream's state where it was; an `AuthError` stops everything at once.
    """
    tasks = [(stream, w) for stream in streams for w in window.windows(state.get(stream.key))]
    remaining = Counter(stream.key for stream, _ in tasks)
    failed: set[str] = set()
    batch = _Batcher()

    def fetch(stream: Stream, w: Window) -> pa.Table | None:
        params = {**dict(stream.params), "start": iso8601(w[0]), "end": iso8601(w[1])}
        body = client.get(stream.path, params)
        if body is None:
            return None
        try:
            return keep(stream.to_table(body))
        except MALFORMED_BODY_ERRORS as exc:
            raise UnexpectedBody(f"GET {stream.path}: {failure_cause(exc)}") from None

    for (stream, w), outcome in _bounded(pool, fetch, tasks, concurrency * 2):
        if isinstance(outcome, AuthError):
            raise outcome
        if isinstance(outcome, TractianError):
            failed.add(stream.key)
            failures.append(f"{stream.path} [{iso8601(w[0])}, {iso8601(w[1])}): {outcome}")
        elif outcome is not None and outcome.num_rows:
            progress.add_rows(outcome.num_rows)
            yield from batch.add(outcome)
        remaining[stream.key] -= 1
        if remaining[stream.key] == 0 and stream.key not in failed:
            state[stream.key] = iso8601(window.now)
            progress.add_done(1)
    yield from batch.flush()


def _bounded(
    pool: ThreadPoolExecutor,
    fn: Callable[..., Any],
    tasks: list[tuple[Stream, Window]],
    max_in_flight: int,
) -> Iterator[tuple[tuple[Stream, Window], Any]]:
    """Run `fn` over `tasks` with at most `max_in_flight` submitted; yield (task, result)."""
    pending: dict[Future[Any], tuple[Stream, Window]] = {}
    queue = iter(tasks)
    try:
        while True:
            for task in queue:
                pending[pool.submit(fn, *task)] = task
                if len(pending) >= max_in_flight:
                    break
            if not pending:
                return
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                task = pending.pop(future)
                try:
                    yield task, future.result()
                except TractianError as exc:
                    yield task, exc
    finally:
        for future in pending:
            future.cancel()


class _Batcher:
    """Groups small per-window tables into batches of about TELEMETRY_BATCH_ROWS rows."""

    def __init__(self) -> None:
        self._tables: list[pa.Table] = []
        self._rows = 0

    def add(self, table: pa.Table) -> Iterator[pa.Table]:
        self._tables.append(table)
        self._rows += table.num_rows
        if self._rows >= settings.TELEMETRY_BATCH_ROWS:
            yield from self.flush()

    def flush(self) -> Iterator[pa.Table]:
        if self._rows:
            yield pa.concat_tables(self._tables)
        self._tables, self._rows = [], 0
