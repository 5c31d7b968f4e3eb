"""`tractian-elt sync` and `tractian-elt status`: the connector from a shell or cron.

Exit codes: 0 success; 1 a failure after which what loaded is kept (retry later);
3 a connection needs a person (reauthorization required or invalid token).
"""

import argparse
import sys
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from sources.cli_types import moment, non_negative_float

if TYPE_CHECKING:
    from sources.api_features import Health
    from sources.connections import Connection
    from sources.pipeline import SyncReport
    from sources.warehouses import Warehouse

EXIT_OK, EXIT_FAILED, EXIT_NEEDS_ATTENTION = 0, 1, 3


def register(subparsers: argparse._SubParsersAction) -> None:
    sync = subparsers.add_parser(
        "sync",
        help="sync connections into the warehouse, then transform",
        description="Sync one or every configured connection into the raw dataset, then "
        "rebuild the clean tables and marts the sync touched.",
    )
    _connection_args(sync)
    sync.add_argument(
        "--db", type=Path, default=None, help="warehouse DuckDB file (the duckdb backend)"
    )
    sync.add_argument("--start", type=moment, help="backfill from this ISO time (re-reads)")
    sync.add_argument(
        "--lookback", type=_hours, default=None, help="hours re-read for late data (default 48)"
    )
    sync.add_argument("--no-transform", action="store_true", help="load raw tables only")
    sync.add_argument("--quiet", action="store_true", help="no progress lines")
    sync.set_defaults(func=run_sync)

    status = subparsers.add_parser("status", help="print each connection's health")
    _connection_args(status)
    status.set_defaults(func=run_status)


def _connection_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--connection", help="a configured connection (default: all)")
    parser.add_argument(
        "--base-url",
        help="API base URL; without --connection the token comes from TRACTIAN_API_TOKEN",
    )
    parser.add_argument(
        "--companies",
        type=_company_ids,
        default=(),
        metavar="ID,...",
        help="with --base-url: the company ids to sync (needed against the published API, "
        "which cannot list them)",
    )


def _company_ids(value: str) -> tuple[str, ...]:
    ids = tuple(part.strip() for part in value.split(",") if part.strip())
    if not ids:
        raise argparse.ArgumentTypeError("expected comma-separated company ids")
    return ids


def _hours(value: str) -> timedelta:
    return timedelta(hours=non_negative_float(value))


def resolve_connections(
    name: str | None, base_url: str | None, companies: tuple[str, ...] = ()
) -> list["Connection"]:
    """The connections a command acts on, from flags and configuration."""
    from dataclasses import replace

    from sources.connections import (
        ConnectionConfigError,
        ad_hoc_connection,
        connection_names,
        load_connection,
    )

    if companies and not base_url:
        raise ConnectionConfigError(
            "--companies goes with --base-url; a configured connection's companies are "
            "set in its configuration"
        )
    if base_url and not name:
        return [ad_hoc_connection("default", base_url, companies)]
    if name:
        connection = load_connection(name)
        if base_url:
            connection = replace(connection, base_url=base_url)
        return [replace(connection, company_ids=companies)] if companies else [connection]
    names = connection_names()
    if not names:
        raise ConnectionConfigError(
            "no connection configured: add one under [sources.tractian.connections.<name>] "
            "in .dlt/config.toml (see README), or pass --base-url with TRACTIAN_API_TOKEN set"
        )
    return [load_connection(n) for n in names]


def run_sync(args: argparse.Namespace) -> int:
    from sources import settings
    from sources.connections import ConnectionConfigError
    from sources.errors import TractianError
    from sources.pipeline import ConnectionNeedsAttention, SyncFailed, sync
    from sources.warehouses import WarehouseConfigError, WarehouseError, configured

    try:
        connections = resolve_connections(args.connection, args.base_url, args.companies)
    except ConnectionConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    try:
        warehouse = configured(args.db)
    except WarehouseConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    lookback = args.lookback if args.lookback is not None else settings.DEFAULT_LOOKBACK
    exit_code, loaded = EXIT_OK, False
    for connection in connections:
        try:
            report = sync(
                connection,
                warehouse,
                start=args.start,
                lookback=lookback,
                show_progress=not args.quiet,
            )
            loaded = True
            print(_summary(report))
        except ConnectionNeedsAttention as exc:
            print(f"error: {exc}", file=sys.stderr)
            exit_code = EXIT_NEEDS_ATTENTION
        except SyncFailed as exc:
            loaded = True
            print(f"error: {exc}", file=sys.stderr)
            exit_code = max(exit_code, EXIT_FAILED)
        except ConnectionConfigError as exc:
            print(f"error: {exc}", file=sys.stderr)
            exit_code = max(exit_code, EXIT_FAILED)
        except TractianError as exc:
            print(f"error: connection {connection.name!r}: {exc}", file=sys.stderr)
            exit_code = max(exit_code, EXIT_FAILED)
        except WarehouseError as exc:
            print(f"error: connection {connection.name!r}: warehouse: {exc}", file=sys.stderr)
            exit_code = max(exit_code, EXIT_FAILED)
    if loaded and not args.no_transform:
        exit_code = max(exit_code, _transform(warehouse))
    return exit_code


def _summary(report: "SyncReport") -> str:
    rows = ", ".join(f"{t} {n:,}" for t, n in report.rows.items() if n)
    migrated = "".join(f"\n  raw tables upgraded to contract v2: {m}" for m in report.migrated)
    return (
        f"connection {report.connection!r}: synced up to {report.now:%Y-%m-%dT%H:%M:%SZ} in "
        f"{report.seconds:.1f}s, {report.requests:,} requests; rows: {rows or 'none new'}"
        f"{migrated}"
    )


def _transform(warehouse: "Warehouse") -> int:
    from transforms.warehouse.run import transform

    try:
        with warehouse.duckdb_target() as target:
            result = transform(target)
    except Exception as exc:  # the raw load is committed; say why the rebuild failed
        print(f"error: transform failed (raw data is loaded): {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(result.summary())
    return EXIT_OK


def run_status(args: argparse.Namespace) -> int:
    from sources.api_features import check_health
    from sources.connections import ConnectionConfigError, client_for
    from sources.errors import TractianError

    try:
        connections = resolve_connections(args.connection, args.base_url, args.companies)
    except ConnectionConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    exit_code = EXIT_OK
    for connection in connections:
        try:
            health = check_health(client_for(connection), connection)
        except ConnectionConfigError as exc:
            print(f"{connection.name}: misconfigured ({exc})")
            exit_code = max(exit_code, EXIT_FAILED)
            continue
        except TractianError as exc:
            print(f"{connection.name}: unreachable ({exc})")
            exit_code = max(exit_code, EXIT_FAILED)
            continue
        print(_health_line(connection, health))
        if health.detail:
            exit_code = EXIT_NEEDS_ATTENTION
    return exit_code


def _health_line(connection: "Connection", health: "Health") -> str:
    name = connection.name
    if health.features is None or health.detail:
        return f"{name}: {health.status} ({health.detail})"
    features = health.features
    checked = (features.connection or {}).get("checkedAt") or "now, local clock"
    source = "configured" if connection.company_ids else "listed by /companies"
    companies = ", ".join(c["id"] for c in health.companies) or "none"
    return (
        f"{name}: {health.status} (checked {checked}); companies ({source}): {companies}; "
        f"optional endpoints: {features.describe()}"
    )
