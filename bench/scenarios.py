"""The scenarios B1-B4 against one simulator process; B5 is `bench.webhooks_bench`.

Contenders run one after another, interleaved (a, b, a, b, ...), each in a fresh process
and, for a backfill, into a fresh warehouse. Figures are medians over the runs.
"""

import math
import shutil
import statistics
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.columns import LOOKBACK, streams
from bench.runner import run_child
from bench.simproc import SimProcess
from sources.client import TractianClient
from sources.settings import MAX_WINDOW

NOW = datetime(2025, 6, 2, 12, 0, tzinfo=UTC)
BACKFILL_DAYS = 14


@dataclass(frozen=True)
class BenchConfig:
    work_dir: Path
    scale: int = 7
    days: int = 14
    runs: int = 3
    steady_runs: int = 3
    naive_slice: int = 20
    token: str = "all"
    steady_minutes: int = 15
    webhook_seconds: float = 10.0
    webhook_concurrency: int = 64
    now: datetime = field(default=NOW)


def median(runs: list[dict[str, Any]], key: str) -> float:
    return statistics.median(run[key] for run in runs)


def _rate(run: dict[str, Any]) -> dict[str, Any]:
    return run | {"samples_per_s": run["samples"] / run["seconds"]}


def windows_needed(config: BenchConfig, sim: SimProcess, span: timedelta) -> int:
    """Windows of at most 7 days covering `span`, for every telemetry stream the token reads."""
    client = TractianClient(sim.base_url, sim.tokens[config.token])
    return len(streams(client, "bench")) * math.ceil(span / MAX_WINDOW)


def backfill(config: BenchConfig, sim: SimProcess) -> dict[str, Any]:
    """B1: a 14-day first sync, (a) and (b) interleaved `runs` times, then (c) on a slice."""
    runs: dict[str, list[dict[str, Any]]] = {"a": [], "b": []}
    for i in range(config.runs):
        for key, contender in (("a", "connector"), ("b", "floor")):
            db = config.work_dir / f"b1_{key}{i}" / "warehouse.duckdb"
            runs[key].append(_rate(run_child(contender, db, sim, token=config.token)))
            if i > 0:  # keep only the last warehouse of each: B2 and B4 continue from it
                shutil.rmtree(config.work_dir / f"b1_{key}{i - 1}")
    naive_db = config.work_dir / "b1_c" / "warehouse.duckdb"
    naive = _rate(
        run_child("naive", naive_db, sim, token=config.token, slice_every=config.naive_slice)
    )
    shutil.rmtree(naive_db.parent)
    rate = {key: median(r, "samples_per_s") for key, r in runs.items()}
    return {
        "windows_needed": windows_needed(config, sim, timedelta(days=BACKFILL_DAYS)),
        "a": runs["a"],
        "b": runs["b"],
        "c": naive,
        "slice": config.naive_slice,
        "rate": rate | {"c": naive["samples_per_s"]},
        "a_over_b": rate["a"] / rate["b"],
        "a_over_c": rate["a"] / naive["samples_per_s"],
        "last_db": {key: r[-1]["db"] for key, r in runs.items()},
    }


def memory(config: BenchConfig, sim: SimProcess, b1: dict[str, Any]) -> dict[str, Any]:
    """B3: peak RSS of (a) backfilling a quarter of B1's span, against B1's full volume."""
    db = config.work_dir / "b3_quarter" / "warehouse.duckdb"
    start = config.now - timedelta(days=BACKFILL_DAYS / 4)
    quarter = run_child("connector", db, sim, token=config.token, start=start)
    shutil.rmtree(db.parent)
    full_peak = max(run["peak_rss_mb"] for run in b1["a"])
    return {
        "quarter": quarter,
        "quarter_peak_rss_mb": quarter["peak_rss_mb"],
        "full_peak_rss_mb": full_peak,
        "growth": full_peak / quarter["peak_rss_mb"] - 1,
    }


def steady_state(config: BenchConfig, sim: SimProcess, b1: dict[str, Any]) -> dict[str, Any]:
    """B2 and B4: 15-minute syncs after B1 (each followed, for (a), by the incremental
    transform), after one full transform rebuild of B1's data."""
    a_db, b_db = Path(b1["last_db"]["a"]), Path(b1["last_db"]["b"])
    full = run_child("transform", a_db, full=True)
    runs: dict[str, list[dict[str, Any]]] = {"a": [], "b": [], "transform": []}
    for _ in range(config.steady_runs):
        sim.advance(config.steady_minutes * 60)
        runs["a"].append(run_child("connector", a_db, sim, token=config.token))
        runs["transform"].append(run_child("transform", a_db))
        runs["b"].append(run_child("floor", b_db, sim, token=config.token))
    span = LOOKBACK + timedelta(minutes=config.steady_minutes)
    incremental_s = median(runs["transform"], "seconds")
    b2 = {
        "windows_needed": windows_needed(config, sim, span),
        "a": runs["a"],
        "b": runs["b"],
        "wall_s": {key: median(runs[key], "seconds") for key in ("a", "b")},
        "a_over_b": median(runs["a"], "seconds") / median(runs["b"], "seconds"),
    }
    b4 = {
        "full": full,
        "full_samples_per_s": full["samples"] / full["seconds"],
        "incremental": runs["transform"],
        "incremental_s": incremental_s,
        "incremental_over_full": incremental_s / full["seconds"],
    }
    return {"B2": b2, "B4": b4}
