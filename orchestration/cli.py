"""`tractian-elt`: one console entry point for every program of the repository.

The simulator's and the webhook service's commands live in their own packages (each is a
program of its own); sync, status, transform, demo and ui live here, in the one package
that knows both the connector and the transforms.

Subcommand modules expose `register(subparsers)`, which adds a parser whose `func`
default takes the parsed arguments and returns the process exit code. They keep heavy
imports inside that function so `--help` and the other commands stay fast.
"""

import argparse
import importlib
import sys

# (module, ...) each exposing register(subparsers); order is the order of --help.
COMMAND_MODULES = (
    "simulator.cli",
    "orchestration.sync_cli",
    "orchestration.transform_cli",
    "webhooks.cli",
    "orchestration.demo",
    "orchestration.ui",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tractian-elt",
        description="Tractian industrial IoT data into a DuckDB warehouse.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
