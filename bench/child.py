"""One contender, or one transform, in a fresh process, so that each is timed and its
peak memory read on its own:

    TRACTIAN_API_TOKEN=... python -m bench.child connector --base-url URL --db FILE

prints one JSON line: `seconds` (the sync alone, not the interpreter's start-up),
`cpu_s`, `peak_rss_mb`, `rows` (telemetry rows fetched), `samples` (telemetry rows in
the raw tables afterwards), `requests` and `bytes`; a sync also `now` (the clock its
windows end at) and `probed_assets` (monitored assets whose sensor type a probe found,
in this sync or an earlier one). `--companies ID,...` configures the companies, as the
published API (no `/companies`) needs; `--telemetry-only` syncs the telemetry tables
alone, as the 15-minute schedule does. What a contender needs is imported before the
clock starts.
"""

import argparse
import importlib
import json
import os
import resource
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from sources import raw_schema as rs
from sources.client import iso8601
from sources.sensor_types import PROBED

CONNECTION_NAME = "bench"
TELEMETRY = [name for name, table in rs.RAW_TABLES.items() if table.telemetry]


def _token() -> str:
    return os.environ["TRACTIAN_API_TOKEN"]


def _connector(args: argparse.Namespace) -> dict[str, Any]:
    from sources.connections import Connection
    from sources.pipeline import sync

    connection = Connection(CONNECTION_NAME, args.base_url, _token(), args.companies)
    # --telemetry-only: the telemetry tables alone, as the 15-minute schedule syncs them.
    resources = TELEMETRY if args.telemetry_only else None
    report = sync(connection, args.db, start=args.start, resources=resources, show_progress=False)
    rows = sum(report.rows.get(name, 0) for name in TELEMETRY)
    return {
        "rows": rows,
        "requests": report.requests,
        "bytes": report.bytes,
        "now": iso8601(report.now),
        "probed_assets": _probed_assets(args.db),
    }


def _probed_assets(db_path: Path) -> int:
    """Assets of this connection whose sensor type the connector learned by probing."""
    table = f"{rs.DATASET}.{rs.ASSET_SENSOR_TYPES.name}"
    with duckdb.connect(str(db_path), read_only=True) as con:
        if rs.ASSET_SENSOR_TYPES.name not in rs.present_tables(con):
            return 0
        query = f"SELECT count(*) FROM {table} WHERE connection_name = ? AND detected_by = ?"
        return con.execute(query, [CONNECTION_NAME, PROBED]).fetchall()[0][0]


def _client(args: argparse.Namespace) -> Any:
    from sources.client import TractianClient

    return TractianClient(args.base_url, _token())


def _client_stats(client: Any) -> dict[str, Any]:
    return {"requests": client.stats.requests, "bytes": client.stats.bytes}


def _floor(args: argparse.Namespace) -> dict[str, Any]:
    from bench.floor import sync_floor

    client = _client(args)
    figures = sync_floor(
        client, CONNECTION_NAME, args.db, start=args.start, company_ids=args.companies
    )
    return figures | _client_stats(client)


def _naive(args: argparse.Namespace) -> dict[str, Any]:
    from bench.naive import sync_naive

    client = _client(args)
    sync_naive(client, CONNECTION_NAME, args.db, slice_every=args.slice_every)
    return _client_stats(client)


def _transform(args: argparse.Namespace) -> dict[str, Any]:
    from transforms.warehouse.run import transform

    report = transform(args.db, full=args.full, publish=not args.no_publish)
    return {
        "rebuilt_partitions": report.rebuilt_partitions,
        "up_to_date": report.up_to_date,
        "whole_tables_kept": report.whole_tables_kept,
        "rows": report.rows,
    }


def _sql_floor(args: argparse.Namespace) -> dict[str, Any]:
    from bench.sql_floor import build

    with duckdb.connect(str(args.db)) as con:
        return {"rows": build(con)}


RUNNERS = {
    "connector": _connector,
    "floor": _floor,
    "naive": _naive,
    "transform": _transform,
    "sql_floor": _sql_floor,
}
# Imported before the clock starts; the runners' own imports then cost nothing.
MODULES = {
    "connector": ["sources.pipeline", "sources.connections"],
    "floor": ["bench.floor", "sources.client"],
    "naive": ["bench.naive", "sources.client"],
    "transform": ["transforms.warehouse.run"],
    "sql_floor": ["bench.sql_floor"],
}


def telemetry_samples(db_path: Path) -> int:
    """Telemetry rows in the raw tables of `db_path`."""
    with duckdb.connect(str(db_path), read_only=True) as con:
        present = rs.present_tables(con)
        return sum(
            con.execute(f"SELECT count(*) FROM {rs.DATASET}.{name}").fetchall()[0][0]
            for name in TELEMETRY
            if name in present
        )


def peak_rss_mb() -> float:
    """This process's peak resident memory, MB. Linux's VmHWM, not `ru_maxrss`: that one
    carries the parent's peak over fork and exec, so every child would read at least
    the bench's own memory (measured: 411 MB for a transform of 5,000 samples)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _ids(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="run one benchmark contender")
    parser.add_argument("contender", choices=sorted(RUNNERS))
    parser.add_argument("--base-url", default="")
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--start", type=datetime.fromisoformat, default=None)
    parser.add_argument("--slice-every", type=int, default=20)
    parser.add_argument("--companies", type=_ids, default=(), help="company ids, comma-separated")
    parser.add_argument("--full", action="store_true")
    parser.add_argument("--telemetry-only", action="store_true", help="connector: telemetry only")
    parser.add_argument("--no-publish", action="store_true", help="transform: no read copy")
    args = parser.parse_args(argv)
    args.db.parent.mkdir(parents=True, exist_ok=True)
    for module in MODULES[args.contender]:
        importlib.import_module(module)
    cpu, started = _cpu_seconds(), time.perf_counter()
    result = RUNNERS[args.contender](args)
    result["seconds"] = time.perf_counter() - started
    result["cpu_s"] = _cpu_seconds() - cpu
    result["peak_rss_mb"] = peak_rss_mb()
    result["samples"] = telemetry_samples(args.db)
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
