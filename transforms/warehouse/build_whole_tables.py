"""The whole-table steps of a run: dimensions and maintenance records.

Each step reads deduplicated raw rows, calls the pure builders, validates the results
against their models and replaces the tables (clean and quarantine). They are small
enough to rebuild whole, which a run does when a new load holds rows of their raw tables
or the configuration changed (`Plan.rebuild_whole_tables`); otherwise it reads back
what the telemetry steps need (`stored_dimensions`). Dimensions are computed before the
run's transaction opens (the telemetry staging needs them) and written inside it.
"""

from dataclasses import dataclass

import duckdb
import polars as pl

from transforms import category_map
from transforms.models import conform, table_schema, validate
from transforms.raw import (
    ASSET_SENSOR_TYPES,
    ASSETS,
    COMPANIES,
    EVENTS,
    INSIGHTS,
    LOCATIONS,
    WORK_ORDER_CATEGORIES,
    WORK_ORDER_PRIORITIES,
    WORK_ORDERS,
)
from transforms.steps import dims, records, vibration_zones
from transforms.tables import (
    ASSET_ISO_CONFIG,
    BRIDGE_ASSET_ANCESTOR,
    DIM_ASSET,
    DIM_CATEGORY,
    DIM_COMPANY,
    DIM_LOCATION,
    DIM_PRIORITY,
    FCT_EVENT,
    FCT_INSIGHT,
    FCT_WORK_ORDER,
    quarantine_table,
)
from transforms.warehouse.duckdb_io import fetch, read_raw, read_table, table_exists, write_table
from transforms.warehouse.incremental import Plan


@dataclass(frozen=True)
class Dimensions:
    """The dimension tables of this run (validated, not yet written), what later steps
    need from them, and which assets changed standing since the last run."""

    tables: dict[str, pl.DataFrame]
    asset_ids: pl.Series
    location_ids: pl.Series
    iso_limits: pl.DataFrame  # asset_id + vibration_zones.LIMIT_COLUMNS
    changed_assets: pl.Series  # joined or left dim_asset since the last run
    changed_limits: pl.Series  # ISO zone limits differ from the last run
    uncategorized_kind: str | None  # the category map's kind for no known category


def write_validated(conn: duckdb.DuckDBPyConnection, name: str, frame: pl.DataFrame) -> None:
    write_table(conn, name, validate(name, frame))


def _write_quarantine(conn: duckdb.DuckDBPyConnection, raw_name: str, frame: pl.DataFrame) -> None:
    name = quarantine_table(raw_name)
    write_validated(conn, name, conform(name, frame))


def _previous(conn: duckdb.DuckDBPyConnection, plan: Plan, name: str) -> pl.DataFrame | None:
    return None if plan.full or not table_exists(conn, name) else read_table(conn, name)


def _changed_ids(old: pl.DataFrame | None, new: pl.DataFrame) -> pl.Series:
    """Asset ids in one of the two dim_asset versions but not the other."""
    new_ids = new["asset_id"]
    if old is None:
        return new_ids.clear()
    old_ids = old["asset_id"]
    joined = new_ids.filter(~new_ids.is_in(old_ids.implode()))
    return pl.concat([joined, old_ids.filter(~old_ids.is_in(new_ids.implode()))])


def _changed_limits(old: pl.DataFrame | None, new: pl.DataFrame) -> pl.Series:
    if old is None:
        return pl.Series("asset_id", [], dtype=pl.String)
    columns = ["asset_id", *vibration_zones.LIMIT_COLUMNS]
    differs = new.select(columns).join(old.select(columns), on=columns, how="anti")
    return differs["asset_id"]


def compute_dimensions(
    conn: duckdb.DuckDBPyConnection,
    plan: Plan,
    overrides: pl.DataFrame,
    mapping: pl.DataFrame,
) -> Dimensions:
    """Companies, locations, assets, their bridge and ISO configuration (`overrides`),
    WO lookups (categories' kinds by the category `mapping`) and the quarantines of their raw
    tables; nothing is written yet (see write_dimensions)."""
    old_assets = _previous(conn, plan, DIM_ASSET)
    old_limits = _previous(conn, plan, ASSET_ISO_CONFIG)
    at = plan.started_at
    dim_location, bad_locations = dims.build_dim_location(read_raw(conn, LOCATIONS), at)
    sensor_types = read_raw(conn, ASSET_SENSOR_TYPES)
    dim_asset, bad_assets, ancestors = dims.build_dim_asset(
        read_raw(conn, ASSETS), sensor_types, dim_location, at
    )
    config = conform(ASSET_ISO_CONFIG, vibration_zones.asset_config(ancestors, overrides))
    tables = {
        DIM_COMPANY: dims.build_dim_company(read_raw(conn, COMPANIES)),
        DIM_LOCATION: dim_location,
        DIM_ASSET: dim_asset,
        BRIDGE_ASSET_ANCESTOR: conform(BRIDGE_ASSET_ANCESTOR, dims.build_bridge(ancestors)),
        ASSET_ISO_CONFIG: config,
        DIM_PRIORITY: dims.build_dim_priority(read_raw(conn, WORK_ORDER_PRIORITIES)),
        DIM_CATEGORY: dims.build_dim_category(read_raw(conn, WORK_ORDER_CATEGORIES), mapping),
        quarantine_table(LOCATIONS.name): bad_locations,
        quarantine_table(ASSETS.name): bad_assets,
        quarantine_table(ASSET_SENSOR_TYPES.name): dims.build_sensor_type_quarantine(
            sensor_types, dim_asset["asset_id"], at
        ),
    }
    # No rule applies to these raw tables: their quarantines stay empty.
    for raw in (COMPANIES, WORK_ORDER_PRIORITIES, WORK_ORDER_CATEGORIES):
        tables[quarantine_table(raw.name)] = pl.DataFrame(
            schema=table_schema(quarantine_table(raw.name))
        )
    return Dimensions(
        tables={name: validate(name, conform(name, frame)) for name, frame in tables.items()},
        asset_ids=dim_asset["asset_id"],
        location_ids=dim_location["location_id"],
        iso_limits=config.select("asset_id", *vibration_zones.LIMIT_COLUMNS),
        changed_assets=_changed_ids(old_assets, dim_asset),
        changed_limits=_changed_limits(old_limits, config),
        uncategorized_kind=category_map.uncategorized_kind(mapping),
    )


def stored_dimensions(conn: duckdb.DuckDBPyConnection) -> Dimensions:
    """What the telemetry steps need from the dimensions the last run wrote, for a run
    that leaves them as they are (nothing to write, no asset changed standing)."""
    no_assets = pl.Series("asset_id", [], dtype=pl.String)
    return Dimensions(
        tables={},
        asset_ids=fetch(conn, f"SELECT asset_id FROM {DIM_ASSET}")["asset_id"],
        location_ids=fetch(conn, f"SELECT location_id FROM {DIM_LOCATION}")["location_id"],
        iso_limits=read_table(conn, ASSET_ISO_CONFIG).select(
            "asset_id", *vibration_zones.LIMIT_COLUMNS
        ),
        changed_assets=no_assets,
        changed_limits=no_assets,
        uncategorized_kind=None,
    )


def write_dimensions(conn: duckdb.DuckDBPyConnection, dimensions: Dimensions) -> None:
    for name, frame in dimensions.tables.items():
        write_table(conn, name, frame)


def build_records(conn: duckdb.DuckDBPyConnection, plan: Plan, dimensions: Dimensions) -> None:
    """fct_insight, fct_event, fct_work_order and their quarantines."""
    at = plan.started_at
    assets, locations = dimensions.asset_ids, dimensions.location_ids
    insights, bad_insights = records.build_insights(read_raw(conn, INSIGHTS), assets, at)
    events, bad_events = records.build_events(read_raw(conn, EVENTS), assets, locations, at)
    lookups = (dimensions.tables[DIM_CATEGORY], dimensions.tables[DIM_PRIORITY])
    work_orders, bad_work_orders = records.build_work_orders(
        read_raw(conn, WORK_ORDERS), lookups, (assets, locations), at, dimensions.uncategorized_kind
    )
    for name, frame in (
        (FCT_INSIGHT, insights),
        (FCT_EVENT, events),
        (FCT_WORK_ORDER, work_orders),
    ):
        write_validated(conn, name, frame)
    for raw, frame in (
        (INSIGHTS, bad_insights),
        (EVENTS, bad_events),
        (WORK_ORDERS, bad_work_orders),
    ):
        _write_quarantine(conn, raw.name, frame)
