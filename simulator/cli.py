"""`tractian-elt simulator`: serve the simulated API; `... simulator ground-truth`: export
what a perfect sync should hold, one parquet file per raw table.

    tractian-elt simulator [--host H] [--port N] [--seed N] [--days N] [--scale N]
                           [--now ISO] [--profile integration|public] [--speed X]
                           [--rate-limit RPS] [--burst N] [--fault NAME[:k=v,...]]...
                           [--webhook-url URL]
    tractian-elt simulator ground-truth --companies ID|NAME,... --start ISO [--as-of ISO]
                           [--seed N] [--days N] [--scale N] [--now ISO]
                           [--profile integration|public] --out DIR

`--profile public` serves exactly the published API (no /connection, /companies, sensor
fields...; see simulator/api_profiles.py); the ground truth must be asked for
the same profile as the server it describes. The webhook secret comes from
TRACTIAN_SIMULATOR_WEBHOOK_SECRET, never from a flag.
"""

import argparse
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from simulator.api_profiles import INTEGRATION, PROFILES
from simulator.faults import FAULT_KINDS, parse_fault_spec
from sources.cli_types import int_at_least, moment, non_negative_float

DEFAULT_PORT = 8710


def _fault(text: str) -> str:
    """A `NAME[:k=v,...]` fault spec, checked here so that a bad one names `--fault`."""
    try:
        parse_fault_spec(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def _add_world_options(parser: argparse.ArgumentParser, *, with_defaults: bool) -> None:
    """--seed/--days/--scale/--now/--profile; without defaults on a subcommand, so that
    values given before the subcommand's name are not overwritten by its defaults."""

    def default(value: Any) -> Any:
        return value if with_defaults else argparse.SUPPRESS

    parser.add_argument("--seed", type=int_at_least(0), default=default(7), help="default 7")
    parser.add_argument(
        "--days", type=int_at_least(1), default=default(14), help="days of history (14)"
    )
    parser.add_argument(
        "--scale", type=int_at_least(1), default=default(1), help="components multiplier (1)"
    )
    parser.add_argument(
        "--now",
        type=moment,
        default=default(None),
        help="start time (default: now, to the minute)",
    )
    parser.add_argument(
        "--profile",
        choices=PROFILES,
        default=default(INTEGRATION),
        help="the API imitated: integration (default: published API plus integration "
        "layer) or public (exactly the published API)",
    )


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "simulator",
        help="serve the simulated Tractian API (tokens printed at start-up)",
        description="Serve the simulated Tractian API until interrupted; with the "
        "ground-truth subcommand, write what a perfect sync should hold instead.",
        epilog=f"faults: {', '.join(FAULT_KINDS)} (parameters: simulator/faults.py). "
        "Webhooks are signed with the secret in $TRACTIAN_SIMULATOR_WEBHOOK_SECRET.",
    )
    _add_world_options(parser, with_defaults=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument(
        "--port", type=int_at_least(0), default=DEFAULT_PORT, help=f"{DEFAULT_PORT}; 0: any free"
    )
    parser.add_argument("--speed", type=non_negative_float, default=0.0, help="sim s per real s")
    parser.add_argument(
        "--rate-limit", type=non_negative_float, default=200.0, metavar="RPS", help="0: off"
    )
    parser.add_argument("--burst", type=int_at_least(1), default=400)
    parser.add_argument(
        "--fault", type=_fault, action="append", default=[], metavar="NAME[:k=v,...]"
    )
    parser.add_argument("--webhook-url", help="POST signed events here")
    parser.set_defaults(func=serve)

    commands = parser.add_subparsers(dest="simulator_command", metavar="[ground-truth]")
    truth = commands.add_parser(
        "ground-truth",
        help="write what a perfect sync should hold, one parquet per raw table",
        description="Write the simulator's ground truth, one parquet file per raw table.",
    )
    _add_world_options(truth, with_defaults=False)
    truth.add_argument("--companies", required=True, help="comma-separated ids or names")
    truth.add_argument("--start", type=moment, required=True)
    truth.add_argument("--as-of", type=moment, help="default: --now")
    truth.add_argument("--out", type=Path, required=True)
    truth.set_defaults(func=write_ground_truth)


def _config(args: argparse.Namespace) -> Any:
    from simulator.world import SimConfig

    return SimConfig(seed=args.seed, days=args.days, scale=args.scale)


def _fail(message: str, code: int = 2) -> int:
    print(f"tractian-elt simulator: error: {message}", file=sys.stderr)
    return code


def serve(args: argparse.Namespace) -> int:
    from simulator.control import Simulator

    try:
        sim = Simulator(
            _config(args),
            now=args.now,
            speed=args.speed,
            rate_limit=args.rate_limit or None,
            burst=args.burst,
            faults=args.fault,
            webhook_url=args.webhook_url,
            host=args.host,
            port=args.port,
            profile=args.profile,
        )
    except ValueError as exc:
        return _fail(str(exc))
    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())
    try:
        sim.start()
    except OSError as exc:
        return _fail(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}", 1)
    _print_banner(sim)
    while not stopping.wait(0.5):
        pass
    sim.stop()
    return 0


def _print_banner(sim: Any) -> None:
    state = sim.state()
    config = state["config"]
    print(
        f"Tractian API simulator serving {sim.base_url} ({sim.profile} profile, "
        f"seed {config['seed']}, "
        f"{config['days']} days, scale {config['scale']}, now {state['now']}, "
        f"speed {sim.clock.speed:g})"
    )
    names = {c["id"]: c["name"] for c in sim.world.companies}
    for value, token in sorted(sim.world.tokens.items(), key=lambda item: item[1].name):
        companies = ", ".join(names[cid] for cid in token.company_ids)
        print(f"token {token.name} ({companies}): {value}")
    print(f"controls: {sim.base_url}/_sim/state; Ctrl-C stops", flush=True)


def write_ground_truth(args: argparse.Namespace) -> int:
    import pyarrow.parquet as pq

    from simulator.clock import to_ms, wall_minute_ms
    from simulator.ground_truth import ground_truth
    from simulator.world import World

    now_ms = wall_minute_ms() if args.now is None else to_ms(args.now)
    world = World(_config(args), now_ms)
    by_name = {c["name"]: c["id"] for c in world.companies}
    known = set(by_name.values())
    company_ids = []
    for item in filter(None, (part.strip() for part in args.companies.split(","))):
        company_id = by_name.get(item, item)
        if company_id not in known:
            return _fail(f"--companies: unknown company {item!r}")
        company_ids.append(company_id)
    as_of_ms = now_ms if args.as_of is None else to_ms(args.as_of)
    tables = ground_truth(world, company_ids, to_ms(args.start), as_of_ms, profile=args.profile)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, table in tables.items():
        pq.write_table(table, args.out / f"{name}.parquet")
    print(f"wrote {len(tables)} tables to {args.out}")
    return 0
