"""Asset keys: the warehouse's schema and table name, so the UI reads like the database."""

import dagster as dg

from sources import raw_schema as rs


def raw_key(table: str) -> dg.AssetKey:
    """Raw table `vibration_samples` -> `tractian_raw/vibration_samples`."""
    return dg.AssetKey([rs.DATASET, table])


def table_key(qualified: str) -> dg.AssetKey:
    """`clean.dim_asset` -> `clean/dim_asset`; a raw table `tractian_raw.assets` gets the
    same key as `raw_key("assets")`."""
    return dg.AssetKey(qualified.split("."))
