"""`python -m bench` (`make bench`): every scenario of issues 7 and 16, a table, a JSON file.

    .venv/bin/python -m bench                 # B1-B7, and B1-B2 on the published API
    .venv/bin/python -m bench --quick         # the smoke run: one tiny company, 2-3 minutes

The simulator runs in its own process without a rate limit; each contender runs in a
fresh process. B1-B4 run against the integration profile (the API plus `/connection`,
`/companies` and sensor types), and B7 (`bench.history`) the transforms at three
lengths of history; then B1 and B2 again against a simulator serving only
the published API (`--profile public`), where the companies are configured, windows end
at the local clock and a first sync probes each monitored asset for its sensor type.
Results go to `bench/results/latest.json` (or `--out`).
"""

import argparse
import json
import sys
import tempfile
import time
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from bench import history, lake_bench, webhooks_bench
from bench.columns import BACKFILL
from bench.report import machine, table, targets
from bench.scenarios import (
    BenchConfig,
    backfill,
    memory,
    public_backfill,
    public_now,
    public_steady_state,
    steady_state,
)
from bench.simproc import SimProcess

DEFAULT_OUT = Path(__file__).parent / "results" / "latest.json"
QUICK = {
    "scale": 1,
    "days": 1,
    "runs": 1,
    "steady_runs": 1,
    "naive_slice": 2,
    "token": "jaguar",
    "webhook_seconds": 0.5,
    "webhook_concurrency": 8,
    "history_lengths": ("1/4", "4"),
}


def run(config: BenchConfig) -> dict[str, Any]:
    """Run B1-B7 with `config`; the results, with the machine and the targets met."""
    started = time.monotonic()
    results: dict[str, Any] = {"machine": machine(), "config": asdict(config)}
    laps: dict[str, float] = {}

    def lap(name: str) -> None:
        laps[name] = time.monotonic() - started - sum(laps.values())

    with SimProcess(scale=config.scale, days=config.days, now=config.now) as sim:
        lap("simulator start")
        results["B1"] = backfill(config, sim)
        lap("B1")
        results["B3"] = memory(config, sim, results["B1"])
        lap("B3")
        results |= steady_state(config, sim, results["B1"])
        lap("B2 and B4")
        if config.token == "all":
            results["B6"] = lake_bench.run(sim, config.work_dir)
        else:  # the smoke run: two connections to its one small company
            results["B6"] = lake_bench.run(sim, config.work_dir, config.token, connections=2)
        lap("B6")
        results["B7"] = history.run(
            sim,
            config.work_dir,
            token=config.token,
            span=BACKFILL,
            steady_minutes=config.steady_minutes,
            lengths_run=config.history_lengths,
            rounds=config.steady_runs,
        )
        lap("B7")
    public = replace(config, scale=config.public_scale or config.scale)
    now = public_now(public)
    with SimProcess(scale=public.scale, days=public.days, now=now, profile="public") as sim:
        lap("public simulator start")
        b1 = public_backfill(public, sim, now)
        lap("B1 public")
        b2 = public_steady_state(public, sim, now, b1)
        lap("B2 public")
    results["public"] = {"scale": public.scale, "now": now.isoformat(), "B1": b1, "B2": b2}
    results["B5"] = webhooks_bench.run(config.webhook_seconds, config.webhook_concurrency)
    lap("B5")
    results["targets"] = targets(results)
    results["duration_s"] = time.monotonic() - started
    results["scenario_s"] = laps
    results["machine"]["load_average_after"] = machine()["load_average"]
    return results


def _config(args: argparse.Namespace, work_dir: Path) -> BenchConfig:
    config = BenchConfig(work_dir=work_dir)
    if args.quick:
        config = replace(config, **QUICK)
    options = {*QUICK, "public_scale"}
    overrides = {k: v for k, v in vars(args).items() if k in options and v is not None}
    return replace(config, **overrides)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny smoke run")
    parser.add_argument("--scale", type=int, help="simulator scale (7: ~10M samples)")
    parser.add_argument("--runs", type=int, help="B1 runs of (a) and (b)")
    parser.add_argument("--steady-runs", type=int, help="B2 rounds, and B7's incremental rounds")
    parser.add_argument("--naive-slice", type=int, help="(c) syncs 1/N of the streams")
    parser.add_argument(
        "--public-scale", type=int, help="simulator scale of the published-API runs (--scale)"
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="tractian-bench-") as tmp:
        config = _config(args, Path(tmp))
        results = run(config)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, default=str))
    print(table(results))
    print(f"\n{results['duration_s']:.0f} s; results in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
