"""`tractian-elt transform [--db PATH] [--full]`: build clean tables, marts, read copy.

On the configured warehouse: the DuckDB file (`--db`), or the DuckLake when the setting
`sources.tractian.warehouse` is `ducklake` (no read copy: its readers attach it).

Prints the run's summary; exit code 0 on success, 1 on a failure (named in one line).
It lives with the orchestration, which knows both layers: its default warehouse is the
one the sync writes.
"""

import argparse
import sys
from pathlib import Path

from sources.settings import DEFAULT_DB_PATH

DEFAULT_DB = Path(DEFAULT_DB_PATH)  # the warehouse file the sync writes


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "transform",
        help="build clean tables, quarantine and marts from the raw tables, publish the read copy",
        description=__doc__,
    )
    parser.add_argument(
        "--db", type=Path, default=DEFAULT_DB, help=f"warehouse (default {DEFAULT_DB})"
    )
    parser.add_argument(
        "--full", action="store_true", help="rebuild everything, not just what changed"
    )
    parser.add_argument(
        "--read-copy", type=Path, default=None, help="read copy path (default <db>_read.duckdb)"
    )
    parser.add_argument("--no-read-copy", action="store_true", help="do not publish the read copy")
    parser.add_argument(
        "--iso-config",
        type=Path,
        default=None,
        help="per-asset ISO class CSV (else $TRACTIAN_ISO_CONFIG)",
    )
    parser.add_argument(
        "--category-map",
        type=Path,
        default=None,
        help="work-order category -> kind CSV (else $TRACTIAN_CATEGORY_MAP)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import duckdb

    from sources.warehouses import WarehouseConfigError, configured
    from transforms.category_map import CategoryMapError
    from transforms.models import TableValidationError
    from transforms.warehouse.duckdb_io import RawTableError
    from transforms.warehouse.run import transform
    from transforms.zone_config import IsoConfigError

    try:
        warehouse = configured(args.db)
    except WarehouseConfigError as exc:
        print(f"transform: {exc}", file=sys.stderr)
        return 1
    if warehouse.db_path is not None and not warehouse.db_path.exists():
        print(
            f"transform: no warehouse at {args.db} (run `tractian-elt sync` first)", file=sys.stderr
        )
        return 1
    try:
        with warehouse.duckdb_target() as target:
            report = transform(
                target,
                full=args.full,
                read_copy=args.read_copy,
                publish=not args.no_read_copy,
                iso_config=args.iso_config,
                category_map_path=args.category_map,
            )
    except (
        TableValidationError,
        IsoConfigError,
        CategoryMapError,
        RawTableError,
        duckdb.Error,
        OSError,
    ) as exc:
        print(f"transform failed: {exc}", file=sys.stderr)
        return 1
    print(report.summary())
    return 0
