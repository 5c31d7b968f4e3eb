"""The scenarios B1-B4 against one simulator process; B5 is `bench.webhooks_bench`.

Contenders run one after another, interleaved (a, b, a, b, ...), each in a fresh process
and, for a backfill, into a fresh warehouse. Figures are medians over the runs.

B1 and B2 also run against a simulator serving only Tractian's published API
(`public_backfill`, `public_steady_state`): the companies are configured, windows end at
each contender's local clock, and sensor types are learned by probing on a first sync.
What a contender should send is computed from the simulator's model (`Expected`), not
from what the contenders found.
"""

import math
import shutil
import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.columns import BACKFILL, LOOKBACK, streams_per_type
from bench.runner import run_child
from bench.simproc import SimProcess
from simulator.clock import to_ms
from simulator.world import SimConfig, World
from sources.settings import MAX_WINDOW

NOW = datetime(2025, 6, 2, 12, 0, tzinfo=UTC)
BACKFILL_DAYS = 14
# What learning the sensor types on the published API should cost per monitored asset
# (README, "Connecting to Tractian"): vibration answers the first probe; an energy meter
# answers the second, after a 204 from vibration.
PROBE_COST = {"vibration": 1, "energy": 2}


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
    public_scale: int | None = None  # the published-API runs' scale; None: `scale`
    history_lengths: tuple[str, ...] = ("1/4", "1", "4")  # B7's, times B1's span


@dataclass(frozen=True)
class Expected:
    """What the simulator's model says the token reads: its companies and monitored
    assets per sensor type; from these, windows and probes."""

    companies: tuple[str, ...]
    assets: dict[str, int]  # sensor type -> monitored assets

    @classmethod
    def of(cls, config: BenchConfig, now: datetime) -> "Expected":
        world = World(SimConfig(seed=7, days=config.days, scale=config.scale), to_ms(now))
        token = next(t for t in world.tokens.values() if t.name == config.token)
        kinds = Counter(c.sensor_type for c in world.components(token.company_ids))
        return cls(tuple(token.company_ids), dict(kinds))

    def windows(self, span: timedelta) -> int:
        """Windows of at most 7 days covering `span`, for every telemetry stream."""
        per_type = streams_per_type()
        streams = sum(per_type[kind] * n for kind, n in self.assets.items())
        return streams * math.ceil(span / MAX_WINDOW)

    def probes(self) -> int:
        return sum(PROBE_COST[kind] * n for kind, n in self.assets.items())


def median(runs: list[dict[str, Any]], key: str) -> float:
    return statistics.median(run[key] for run in runs)


def _rate(run: dict[str, Any]) -> dict[str, Any]:
    return run | {"samples_per_s": run["samples"] / run["seconds"]}


def _interleaved(
    config: BenchConfig, sim: SimProcess, prefix: str, companies: tuple[str, ...] = ()
) -> dict[str, list[dict[str, Any]]]:
    """(a) and (b) `runs` times each into fresh warehouses; the last of each is kept."""
    runs: dict[str, list[dict[str, Any]]] = {"a": [], "b": []}
    for i in range(config.runs):
        for key, contender in (("a", "connector"), ("b", "floor")):
            db = config.work_dir / f"{prefix}_{key}{i}" / "warehouse.duckdb"
            run = run_child(contender, db, sim, token=config.token, companies=companies)
            runs[key].append(_rate(run))
            if i > 0:  # keep only the last warehouse of each: B2 and B4 continue from it
                shutil.rmtree(config.work_dir / f"{prefix}_{key}{i - 1}")
    return runs


def backfill(config: BenchConfig, sim: SimProcess) -> dict[str, Any]:
    """B1: a 14-day first sync, (a) and (b) interleaved `runs` times, then (c) on a slice."""
    runs = _interleaved(config, sim, "b1")
    naive_db = config.work_dir / "b1_c" / "warehouse.duckdb"
    naive = _rate(
        run_child("naive", naive_db, sim, token=config.token, slice_every=config.naive_slice)
    )
    shutil.rmtree(naive_db.parent)
    rate = {key: median(r, "samples_per_s") for key, r in runs.items()}
    return {
        "windows_needed": Expected.of(config, config.now).windows(BACKFILL),
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
        "windows_needed": Expected.of(config, config.now).windows(span),
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


def public_now(config: BenchConfig) -> datetime:
    """Where the published-API simulator's frozen clock starts.

    That API has no clock of its own, so each sync's windows end at the contender's
    local UTC clock. The simulator must never be ahead of it (a sync would leave out
    the samples past its own clock, and (a) and (b) would read different data): it
    starts at the current wall-clock minute less the steady rounds' advances, so that
    after the last round it reaches that minute, still in every later sync's past.
    """
    minute = datetime.now(UTC).replace(second=0, microsecond=0)
    return minute - timedelta(minutes=config.steady_minutes * config.steady_runs)


def _with_probes(run: dict[str, Any], windows: int) -> dict[str, Any]:
    """`probe_requests`: telemetry requests beyond the windows the sync needed."""
    return run | {"probe_requests": run["telemetry_requests"] - windows}


def public_backfill(config: BenchConfig, sim: SimProcess, now: datetime) -> dict[str, Any]:
    """B1 on the published API: a first 14-day sync of (a) and (b), which must also
    learn every monitored asset's sensor type by probing it."""
    expected = Expected.of(config, now)
    windows = expected.windows(BACKFILL)
    runs = _interleaved(config, sim, "p1", expected.companies)
    runs = {key: [_with_probes(run, windows) for run in r] for key, r in runs.items()}
    rate = {key: median(r, "samples_per_s") for key, r in runs.items()}
    return {
        "companies": list(expected.companies),
        "monitored_assets": expected.assets,
        "windows_needed": windows,
        "probes_expected": expected.probes(),
        "a": runs["a"],
        "b": runs["b"],
        "rate": rate,
        "a_over_b": rate["a"] / rate["b"],
        "last_db": {key: r[-1]["db"] for key, r in runs.items()},
    }


def public_steady_state(
    config: BenchConfig, sim: SimProcess, now: datetime, b1: dict[str, Any]
) -> dict[str, Any]:
    """B2 on the published API: 15-minute syncs after its B1; they must probe nothing."""
    companies = tuple(b1["companies"])
    windows = Expected.of(config, now).windows(LOOKBACK + timedelta(minutes=config.steady_minutes))
    runs: dict[str, list[dict[str, Any]]] = {"a": [], "b": []}
    sim_clock = []
    for _ in range(config.steady_runs):
        sim.advance(config.steady_minutes * 60)
        sim_clock.append(sim.now())
        for key, contender in (("a", "connector"), ("b", "floor")):
            db = Path(b1["last_db"][key])
            run = run_child(contender, db, sim, token=config.token, companies=companies)
            runs[key].append(_with_probes(run, windows))
    return {
        "windows_needed": windows,
        "sim_now": sim_clock,
        "a": runs["a"],
        "b": runs["b"],
        "wall_s": {key: median(runs[key], "seconds") for key in ("a", "b")},
        "a_over_b": median(runs["a"], "seconds") / median(runs["b"], "seconds"),
    }
