"""The machine configuration file of the ISO zones: which assets are group 1 or flexible.

A CSV with header `asset_id,machine_group,foundation`, named by `--iso-config` or the
environment variable in CONFIG_ENV; rows apply as `steps.vibration_zones.asset_config`
describes.
"""

import os
from pathlib import Path

import polars as pl

from transforms.config_csv import read_config_csv
from transforms.steps.vibration_zones import ZONE_LIMITS

CONFIG_ENV = "TRACTIAN_ISO_CONFIG"


class IsoConfigError(ValueError):
    """The ISO configuration file is malformed; the message names the file and the line."""


def read_overrides(path: Path | None) -> pl.DataFrame:
    """The configured assets (asset_id, machine_group, foundation); empty without a file."""
    schema = {"asset_id": pl.String, "machine_group": pl.Int64, "foundation": pl.String}
    if path is None:
        return pl.DataFrame(schema=schema)
    frame = read_config_csv(path, schema, "ISO config", IsoConfigError)
    for line, row in enumerate(frame.iter_rows(named=True), start=2):
        if (row["machine_group"], row["foundation"]) not in ZONE_LIMITS or not row["asset_id"]:
            raise IsoConfigError(
                f"ISO config {path} line {line}: need an asset_id, machine_group 1 or 2 and "
                f"foundation rigid or flexible, got {row}"
            )
    return frame.unique("asset_id", keep="last", maintain_order=True)


def load(path: Path | None) -> pl.DataFrame:
    """The configuration at `path`, else at the path in CONFIG_ENV, else none."""
    named = path or (Path(env) if (env := os.environ.get(CONFIG_ENV)) else None)
    return read_overrides(named)
