"""Dimensions: companies, locations, assets (with their paths), work-order lookups.

Pure functions from deduplicated raw frames to (clean, quarantined) frames.

- `path` joins the names from the root location down to the row itself with " / ",
  each name trimmed; `name` keeps the name as the API gave it. `depth` is the number of
  ancestors on the path (locations and assets): a root location or an asset with no
  parent and no location has depth 0.
- An asset hangs under its parent asset; the chain of parents ends at a top asset,
  whose location (if any) continues the path. `location_id` is the asset's own
  location, else its nearest ancestor's.
- `is_deleted`: for assets, the API's deleted flag or `missing_since` set (the asset
  vanished from the API's snapshot); for locations, which have no deleted flag,
  `missing_since` set. Deleted rows stay, so references to them still resolve.
- An asset's `sensor_type` is its own (an integration layer's field), else the one the
  connector detected (tractian_raw.asset_sensor_types: the published API has no sensor
  type); `sensor_type_source` says which (`asset` | the detection's `detected_by`).
  `sensor_id` is its own, else the first id of its `sensors` list (JSON; a malformed
  one counts as empty). It is a `component` when it has a sensor type, a sensor id or a
  non-empty `sensors` list.
- Quarantine: a parent that does not exist (`unknown_parent`; also for every descendant
  of such a row, whose path cannot be resolved), a loop in the parents (`cycle`), an
  asset whose location is not a clean location (`unknown_location`), a detected sensor
  type of an asset that is not a clean asset (`unknown_asset`).
"""

from datetime import datetime

import polars as pl

from transforms import category_map
from transforms.models import conform
from transforms.raw import ASSET_SENSOR_TYPES, ASSETS, LOAD_ID, LOCATIONS
from transforms.steps.json_lists import IDS, decode_json_list
from transforms.steps.rules import (
    CYCLE,
    UNKNOWN_ASSET,
    UNKNOWN_LOCATION,
    UNKNOWN_PARENT,
    Rule,
    split,
    unknown_reference,
)
from transforms.steps.tree import SEPARATOR, trimmed, walk_up
from transforms.tables import DIM_ASSET, DIM_CATEGORY, DIM_COMPANY, DIM_LOCATION, DIM_PRIORITY

Split = tuple[pl.DataFrame, pl.DataFrame]


def _walk_rules() -> list[Rule]:
    return [
        Rule(UNKNOWN_PARENT, pl.col("problem") == UNKNOWN_PARENT),
        Rule(CYCLE, pl.col("problem") == CYCLE),
    ]


def _raw_columns(frame: pl.DataFrame, raw_columns: list[str]) -> pl.DataFrame:
    return frame.select(*raw_columns, LOAD_ID, "rule", "rules", "quarantined_at")


def build_dim_location(locations: pl.DataFrame, quarantined_at: datetime) -> Split:
    """(dim_location, quarantined locations) from deduplicated raw locations."""
    walk = walk_up(locations.select("id", "parent_id", trimmed("name").alias("label")))
    walked = locations.join(walk.nodes, on="id", how="left")
    clean, quarantined = split(walked, _walk_rules(), quarantined_at)
    dim = clean.select(
        pl.col("id").alias("location_id"),
        "company_id",
        "name",
        pl.col("parent_id").alias("parent_location_id"),
        "path",
        "depth",
        pl.col("missing_since").is_not_null().alias("is_deleted"),
        "missing_since",
        "connection_name",
        LOAD_ID,
    )
    return conform(DIM_LOCATION, dim), _raw_columns(quarantined, list(LOCATIONS.columns))


def build_dim_asset(
    assets: pl.DataFrame,
    sensor_types: pl.DataFrame,
    dim_location: pl.DataFrame,
    quarantined_at: datetime,
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(dim_asset, quarantined assets, ancestor pairs of the clean assets), with the
    detected `sensor_types` (deduplicated raw asset_sensor_types) of the clean assets."""
    nodes = assets.select("id", "parent_id", trimmed("name").alias("label"), "location_id")
    walk = walk_up(nodes, carry="location_id")
    walked = assets.drop("location_id").join(walk.nodes, on="id", how="left")
    rules = [
        *_walk_rules(),
        unknown_reference(UNKNOWN_LOCATION, "location_id", dim_location["location_id"]),
    ]
    clean, quarantined = split(walked, rules, quarantined_at)
    detected = sensor_types.select(
        pl.col("asset_id").alias("id"),
        pl.col("sensor_type").alias("detected_sensor_type"),
        "detected_by",
    )
    located = clean.join(
        dim_location.select(
            "location_id",
            pl.col("path").alias("location_path"),
            pl.col("depth").alias("location_depth"),
        ),
        on="location_id",
        how="left",
    ).join(detected, on="id", how="left")
    dim = decode_json_list(located, "sensors", IDS, str).select(_asset_columns())
    quarantined = quarantined.drop("location_id").join(
        assets.select("id", "location_id"), on="id", how="left"
    )
    ancestors = walk.ancestors.join(dim.select(pl.col("asset_id").alias("id")), on="id")
    return conform(DIM_ASSET, dim), _raw_columns(quarantined, list(ASSETS.columns)), ancestors


def build_sensor_type_quarantine(
    sensor_types: pl.DataFrame, asset_ids: pl.Series, quarantined_at: datetime
) -> pl.DataFrame:
    """Detected sensor types of assets that are not in dim_asset (`asset_ids`)."""
    rules = [unknown_reference(UNKNOWN_ASSET, "asset_id", asset_ids)]
    _, quarantined = split(sensor_types, rules, quarantined_at)
    return _raw_columns(quarantined, list(ASSET_SENSOR_TYPES.columns))


def _asset_columns() -> list[pl.Expr | str]:
    """dim_asset's columns from a walked, located, clean asset frame joined to its
    detected sensor type, with its `sensors` decoded (`sensors_parsed`)."""
    sensor_type = pl.coalesce("sensor_type", "detected_sensor_type")
    sensor_type_source = (
        pl.when(pl.col("sensor_type").is_not_null())
        .then(pl.lit("asset"))
        .when(pl.col("detected_sensor_type").is_not_null())
        .then(pl.col("detected_by"))
    )
    sensors = pl.col("sensors_parsed")
    sensor_id = pl.coalesce("sensor_id", sensors.list.first())
    has_sensor = (
        sensor_type.is_not_null()
        | sensor_id.is_not_null()
        | (sensors.list.len() > 0).fill_null(False)
    )
    full_path = (
        pl.when(pl.col("location_path").is_null())
        .then(pl.col("path"))
        .otherwise(pl.concat_str(["location_path", pl.lit(SEPARATOR), "path"]))
    )
    deleted = pl.col("is_deleted").fill_null(False) | pl.col("missing_since").is_not_null()
    return [
        pl.col("id").alias("asset_id"),
        "company_id",
        "name",
        pl.when(has_sensor).then(pl.lit("component")).otherwise(pl.lit("asset")).alias("kind"),
        pl.col("parent_id").alias("parent_asset_id"),
        "location_id",
        full_path.alias("path"),
        (pl.col("depth") + (pl.col("location_depth") + 1).fill_null(0)).alias("depth"),
        sensor_id.alias("sensor_id"),
        sensor_type.alias("sensor_type"),
        sensor_type_source.alias("sensor_type_source"),
        "gateway_id",
        "status",
        deleted.alias("is_deleted"),
        "is_disabled",
        "criticality_id",
        "created_at",
        "updated_at",
        "missing_since",
        "connection_name",
        LOAD_ID,
    ]


def build_bridge(ancestors: pl.DataFrame) -> pl.DataFrame:
    """clean.bridge_asset_ancestor: every (asset, ancestor asset) pair, self at distance 0."""
    return ancestors.select(
        pl.col("id").alias("asset_id"), pl.col("ancestor_id").alias("ancestor_asset_id"), "distance"
    ).sort("asset_id", "distance")


def build_dim_company(companies: pl.DataFrame) -> pl.DataFrame:
    frame = companies.select(pl.col("id").alias("company_id"), "name", "connection_name", LOAD_ID)
    return conform(DIM_COMPANY, frame)


def build_dim_priority(priorities: pl.DataFrame) -> pl.DataFrame:
    frame = priorities.rename({"id": "priority_id", "order": "sort_order"})
    return conform(DIM_PRIORITY, frame)


def build_dim_category(categories: pl.DataFrame, mapping: pl.DataFrame) -> pl.DataFrame:
    """Work-order categories with the kind they give a work order (see category_map)."""
    kind, source = category_map.classify(mapping)
    frame = categories.with_columns(kind.alias("kind"), source.alias("kind_source"))
    return conform(DIM_CATEGORY, frame.rename({"id": "category_id"}))
