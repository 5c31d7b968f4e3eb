"""B6: four connections synced at once into a DuckLake on PostgreSQL, against the same
four synced one after another into the DuckDB file; then a full transform on each.

Each sync is `tractian-elt sync --connection NAME --no-transform`, a process of its own,
configured as a user configures it (environment variables); the lake's catalog is a
database on a PostgreSQL server this benchmark starts on 127.0.0.1 and stops. Rows/s
counts the telemetry rows the four syncs left in the raw tables over the wall time.
"""

import os
import subprocess
import sys
import time
from itertools import cycle, islice
from pathlib import Path
from typing import Any

from bench.simproc import SimProcess
from sources import raw_dataset
from sources import raw_schema as rs
from sources.warehouses import Warehouse
from tests import postgres_server
from transforms.warehouse.run import transform

CONNECTIONS = 4
REPO = Path(__file__).resolve().parents[1]


def run(
    sim: SimProcess, work_dir: Path, token: str | None = None, connections: int = CONNECTIONS
) -> dict[str, Any]:
    """B6 against a running integration-profile simulator: one company per connection,
    round robin over the simulator's companies (it has three, so the first has two
    connections, as a company synced by two teams would), or, with `token` (the smoke
    run), every connection reading that token's companies."""
    companies = sorted((name for name in sim.tokens if name != "all"), reverse=True)
    tokens = [token] * connections if token else list(islice(cycle(companies), connections))
    names = [f"c{i}" for i in range(connections)]
    base_env = _connections_env(sim, dict(zip(names, tokens, strict=True)))
    file_dir, lake_dir = work_dir / "b6-file", work_dir / "b6-lake"
    db = file_dir / "warehouse" / "tractian.duckdb"

    started = time.monotonic()
    for name in names:
        _wait(_sync(name, file_dir, base_env))
    file_s = time.monotonic() - started
    file_rows = _telemetry_rows(Warehouse.duckdb_file(db), names)
    file_transform_s = _timed_transform(Warehouse.duckdb_file(db))

    server = postgres_server.start()
    try:
        catalog = server.create_database("b6_lake")
        lake_env = base_env | {
            "SOURCES__TRACTIAN__WAREHOUSE": "ducklake",
            "DESTINATION__DUCKLAKE__CREDENTIALS__CATALOG": catalog,
            "DESTINATION__DUCKLAKE__CREDENTIALS__STORAGE__BUCKET_URL": str(lake_dir / "data"),
        }
        started = time.monotonic()
        for process in [_sync(name, lake_dir, lake_env) for name in names]:
            _wait(process)
        lake_s = time.monotonic() - started
        lake = Warehouse.ducklake(catalog, str(lake_dir / "data"), lake_dir / "reader")
        lake_rows = _telemetry_rows(lake, names)
        lake_transform_s = _timed_transform(lake)
    finally:
        server.stop()
    return {
        "connections": connections,
        "tokens": tokens,
        "file_sequential_s": file_s,
        "file_rows": file_rows,
        "file_rows_per_s": file_rows / file_s,
        "lake_parallel_s": lake_s,
        "lake_rows": lake_rows,
        "lake_rows_per_s": lake_rows / lake_s,
        "lake_over_file_wall": lake_s / file_s,
        "file_transform_s": file_transform_s,
        "lake_transform_s": lake_transform_s,
    }


def _connections_env(sim: SimProcess, tokens: dict[str, str]) -> dict[str, str]:
    env = dict(os.environ)
    for name, token in tokens.items():
        prefix = f"SOURCES__TRACTIAN__CONNECTIONS__{name.upper()}__"
        env[prefix + "BASE_URL"] = sim.base_url
        env[prefix + "API_TOKEN"] = sim.tokens[token]
    return env


def _sync(name: str, cwd: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    cwd.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "orchestration.cli", "sync", "--connection", name]
    return subprocess.Popen(
        [*command, "--no-transform", "--quiet"],
        cwd=cwd,
        env=env | {"PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _wait(process: subprocess.Popen[str]) -> None:
    output = process.communicate()[0]
    if process.returncode != 0:
        raise RuntimeError(f"B6 sync failed:\n{output[-3000:]}")


def _telemetry_rows(warehouse: Warehouse, names: list[str]) -> int:
    with warehouse.sql_client() as client:
        return sum(raw_dataset.rows_held(client, t.name, names) for t in rs.TELEMETRY_TABLES)


def _timed_transform(warehouse: Warehouse) -> float:
    started = time.monotonic()
    with warehouse.duckdb_target() as target:
        transform(target, full=True, publish=False)
    return time.monotonic() - started
