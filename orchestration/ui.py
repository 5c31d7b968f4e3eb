"""`tractian-elt ui`: the Dagster UI (and its daemon) on 127.0.0.1:3000.

With no connection configured it starts the simulator in this process and configures
a `demo` connection to it through the environment of `dg dev`; the `first_sync` sensor
then syncs it at once, so a newcomer sees the graph fill in within a minute or two.
`DAGSTER_HOME` is `.dagster_home/`, whose `dagster.yaml` limits the `duckdb_writer` pool
to one writer at a time. Ctrl-C stops everything.
"""

import argparse
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

DEFAULT_PORT = 3000
DAGSTER_HOME = Path(".dagster_home")
WORKSPACE = Path("workspace.yaml")
DEMO_CONNECTION = "demo"
DEMO_HISTORY_DAYS = 3
INSTANCE_YAML = """\
# Written by `tractian-elt ui`. One DuckDB writer at a time: every asset that writes the
# warehouse is in pool `duckdb_writer`, and every pool defaults to one slot.
concurrency:
  pools:
    default_limit: 1
telemetry:
  enabled: false
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "ui",
        help="start the Dagster UI (a demo connection to the simulator if none is configured)",
        description="Start `dg dev` on this repository's workspace.yaml. Without a "
        "configured connection, a simulator is started and used as connection 'demo'.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.set_defaults(func=run_ui)


def write_instance_config(home: Path) -> Path:
    """Create `home` with a dagster.yaml enabling the one-writer pool (kept if present)."""
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(INSTANCE_YAML)
    return config


def demo_environment(base_url: str, token: str, history_start: datetime) -> dict[str, str]:
    """Environment variables defining connection `demo` (the token stays in the env)."""
    prefix = f"SOURCES__TRACTIAN__CONNECTIONS__{DEMO_CONNECTION.upper()}"
    return {
        "SOURCES__TRACTIAN__CONNECTION_NAMES": DEMO_CONNECTION,
        f"{prefix}__BASE_URL": base_url,
        f"{prefix}__API_TOKEN": token,
        "TRACTIAN_PARTITIONS_START": history_start.date().isoformat(),
    }


def dev_server_command(workspace: Path, host: str, port: int) -> list[str]:
    """`dg dev` (Dagster's current entry point; `dagster dev` warns that it is superseded)
    from this interpreter's environment, on our workspace file."""
    return [
        str(Path(sys.executable).parent / "dg"),
        "dev",
        "-w",
        str(workspace),
        "-h",
        host,
        "-p",
        str(port),
    ]


def start_in_own_group(command: list[str], env: dict[str, str], cwd: Path) -> subprocess.Popen:
    """Start `command` in its own process group (Dagster's dev server ignores SIGTERM otherwise)."""
    return subprocess.Popen(command, env=env, cwd=cwd, start_new_session=True)


def stop_group(process: subprocess.Popen, timeout_s: float = 20.0) -> None:
    """SIGINT the process group (a clean Dagster shutdown), then SIGKILL if it lingers."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGINT)
        process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    except ProcessLookupError:
        pass


def run_ui(args: argparse.Namespace) -> int:
    from sources.connections import connection_names

    workspace = WORKSPACE.resolve()
    if not workspace.exists():
        print(f"error: {WORKSPACE} not found: run from the repository root", file=sys.stderr)
        return 1
    home = DAGSTER_HOME.resolve()
    write_instance_config(home)
    env = {**os.environ, "DAGSTER_HOME": str(home)}
    simulator = None
    if not connection_names():
        simulator, demo_env = _start_demo_simulator()
        env.update(demo_env)
        print(f"no connection configured: using the simulator at {simulator.base_url} as 'demo'")
    # Ctrl-C and SIGTERM both stop the group. SIGINT is set explicitly: a process started
    # in the background of a non-interactive shell inherits SIGINT ignored.
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    process = start_in_own_group(dev_server_command(workspace, args.host, args.port), env, Path())
    print(f"Dagster UI: http://{args.host}:{args.port} (Ctrl-C stops)", flush=True)
    try:
        return process.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        stop_group(process)
        if simulator is not None:
            simulator.stop()


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _start_demo_simulator() -> tuple[Any, dict[str, str]]:
    """A real-time simulator with a few days of history, and the env naming it `demo`."""
    from simulator import SimConfig, Simulator

    simulator = Simulator(SimConfig(days=DEMO_HISTORY_DAYS), speed=1.0).start()
    history_start = datetime.now(UTC) - timedelta(days=DEMO_HISTORY_DAYS)
    return simulator, demo_environment(simulator.base_url, simulator.tokens["all"], history_start)
