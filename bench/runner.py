"""Run one contender (`bench.child`) against a running simulator and collect its figures,
with what the simulator saw meanwhile: its CPU time and the requests it answered."""

import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from bench.simproc import SimProcess
from simulator.server_routes import API_ROUTES

# The simulator's route kinds under /assets/{id}: every telemetry request, probes included.
TELEMETRY_ROUTES = tuple(kind for kind, path, _ in API_ROUTES if path.startswith("/assets/"))
REPO = Path(__file__).resolve().parents[1]


def run_child(
    contender: str,
    db_path: Path,
    sim: SimProcess | None = None,
    *,
    token: str = "all",
    start: datetime | None = None,
    slice_every: int | None = None,
    full: bool = False,
    publish: bool = True,
    companies: tuple[str, ...] = (),
    telemetry_only: bool = False,
) -> dict[str, Any]:
    """Run `contender` in a fresh process; its JSON figures plus the simulator's."""
    command = [sys.executable, "-m", "bench.child", contender, "--db", str(db_path)]
    env = dict(os.environ)
    if sim is not None:
        command += ["--base-url", sim.base_url]
        env["TRACTIAN_API_TOKEN"] = sim.tokens[token]
        sim.reset_stats()
        server_cpu = sim.cpu_seconds()
    if start is not None:
        command += ["--start", start.isoformat()]
    if slice_every is not None:
        command += ["--slice-every", str(slice_every)]
    if full:
        command.append("--full")
    if not publish:
        command.append("--no-publish")
    if companies:
        command += ["--companies", ",".join(companies)]
    if telemetry_only:
        command.append("--telemetry-only")
    # Write back what earlier steps left dirty in the page cache (B7 copies gigabytes), or
    # the child's first fsync would pay for it: a 4.5 GB copy made the next transform's
    # commit 1 s slower, measured by hand.
    os.sync()
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"bench.child {contender} failed:\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1]) | {"db": str(db_path)}
    if sim is not None:
        result["server_cpu_s"] = sim.cpu_seconds() - server_cpu
        by_route = sim.stats()["by_route"]
        result["telemetry_requests"] = sum(by_route.get(r, 0) for r in TELEMETRY_ROUTES)
    return result
