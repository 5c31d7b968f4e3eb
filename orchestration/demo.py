"""`tractian-elt demo`: the whole ELT against the embedded simulator, then a summary.

What `make demo` runs: a newcomer sees the connector load a simulated plant (the real
asset trees of Tractian's public demo companies, with synthetic telemetry), the
transforms build clean tables and marts, and a summary answers the first questions a
reliability team asks.
"""

import argparse
from pathlib import Path

from sources import settings
from sources.cli_types import int_at_least

DEFAULT_DEMO_DB = Path(settings.DEFAULT_DB_PATH)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="sync the embedded simulator, transform, print a summary",
        description="Start the embedded simulator, sync every resource into the warehouse, "
        "build clean tables and marts, and print a summary from the marts.",
    )
    parser.add_argument("--db", type=Path, default=DEFAULT_DEMO_DB, help="warehouse DuckDB file")
    parser.add_argument(
        "--days", type=int_at_least(1), default=14, help="days of simulated history (default 14)"
    )
    parser.set_defaults(func=run_demo)


def run_demo(args: argparse.Namespace) -> int:
    from orchestration.mart_summaries import SUMMARIZED_MARTS, mart_summary
    from simulator import SimConfig, Simulator
    from sources.connections import Connection
    from sources.pipeline import sync
    from transforms.warehouse.run import transform

    print(f"Starting the simulator ({args.days} days of history) ...", flush=True)
    with Simulator(SimConfig(days=args.days)) as sim:
        connection = Connection("demo", sim.base_url, sim.tokens["all"])
        print(f"Syncing connection 'demo' from {sim.base_url} into {args.db} ...", flush=True)
        report = sync(connection, args.db)
    print(
        f"Loaded {sum(report.rows.values()):,} rows with {report.requests:,} requests "
        f"in {report.seconds:.1f}s."
    )
    result = transform(args.db)
    print(result.summary())
    for mart in SUMMARIZED_MARTS:
        print()
        print(mart_summary(result.read_copy, mart))
    print(
        f"\nQuery it: duckdb -readonly {result.read_copy}  (tables: docs/catalogue.md), "
        "or `make ui` for the Dagster UI."
    )
    return 0
