"""Names of the tables this layer writes, and how each one is rebuilt.

Three schemas: `clean` (typed, deduplicated, validated tables and daily aggregates),
`quarantine` (raw rows that failed a rule, one table per raw table, same name) and
`marts` (answers for the reliability team). Telemetry tables are partitioned by
(asset_id, UTC day): an incremental run rewrites the fact rows a sync brought and the
daily aggregates of their partitions (`row_sets`). The dimensions and maintenance
records (`WHOLE_TABLES`) are rebuilt whole by a full run and by a run whose new loads
hold rows of their raw tables (the catalog, every hour) or whose configuration changed;
the daily marts recompute what can have changed, the monthly KPIs are rebuilt whole.
"""

from transforms.raw import RAW_TABLES, TELEMETRY_TABLES

CLEAN = "clean"
MARTS = "marts"
QUARANTINE = "quarantine"
SCHEMAS = (CLEAN, QUARANTINE, MARTS)

DIM_COMPANY = "clean.dim_company"
DIM_LOCATION = "clean.dim_location"
DIM_ASSET = "clean.dim_asset"
BRIDGE_ASSET_ANCESTOR = "clean.bridge_asset_ancestor"
ASSET_ISO_CONFIG = "clean.asset_iso_config"
DIM_PRIORITY = "clean.dim_work_order_priority"
DIM_CATEGORY = "clean.dim_work_order_category"
FCT_VIBRATION = "clean.fct_vibration"
FCT_RPM = "clean.fct_rpm"
FCT_ENERGY = "clean.fct_energy"
FCT_ENERGY_CONSUMPTION = "clean.fct_energy_consumption"
FCT_ENERGY_DEMAND = "clean.fct_energy_demand"
FCT_ENERGY_COST = "clean.fct_energy_cost"
FCT_INSIGHT = "clean.fct_insight"
FCT_EVENT = "clean.fct_event"
FCT_WORK_ORDER = "clean.fct_work_order"
AGG_VIBRATION_DAILY = "clean.agg_vibration_daily"
AGG_ENERGY_DAILY = "clean.agg_energy_daily"
ASSET_HEALTH_DAILY = "marts.asset_health_daily"
SENSOR_HEALTH_DAILY = "marts.sensor_health_daily"
MAINTENANCE_KPIS_MONTHLY = "marts.maintenance_kpis_monthly"

# A full rebuild builds the telemetry tables under this suffix, then renames them.
STAGE_SUFFIX = "__stage"

# Run bookkeeping, kept next to the tables it describes.
RUNS = "clean._transform_runs"
LOADS = "clean._transform_loads"

# raw table -> the clean fact built from it (telemetry) ...
TELEMETRY_FACTS = {
    "vibration_samples": FCT_VIBRATION,
    "rpm_samples": FCT_RPM,
    "energy_samples": FCT_ENERGY,
    "energy_consumption": FCT_ENERGY_CONSUMPTION,
    "energy_demand": FCT_ENERGY_DEMAND,
    "energy_cost": FCT_ENERGY_COST,
}
# ... and the daily aggregate built from that fact.
DAILY_AGGREGATES = {
    "vibration_samples": AGG_VIBRATION_DAILY,
    "energy_samples": AGG_ENERGY_DAILY,
}
# raw table -> the clean table that holds its rows (every raw table has one; a detected
# sensor type is a column of its asset's row).
CLEAN_OF_RAW = {
    "companies": DIM_COMPANY,
    "locations": DIM_LOCATION,
    "assets": DIM_ASSET,
    "asset_sensor_types": DIM_ASSET,
    **TELEMETRY_FACTS,
    "insights": FCT_INSIGHT,
    "events": FCT_EVENT,
    "work_orders": FCT_WORK_ORDER,
    "work_order_priorities": DIM_PRIORITY,
    "work_order_categories": DIM_CATEGORY,
}

# ... and back: clean table -> the raw tables whose rows it holds.
RAW_OF_CLEAN = {
    clean: tuple(raw for raw, of in CLEAN_OF_RAW.items() if of == clean)
    for clean in CLEAN_OF_RAW.values()
}


def quarantine_table(raw_name: str) -> str:
    """The quarantine table of a raw table: same name, schema `quarantine`."""
    return f"{QUARANTINE}.{raw_name}"


# Partitioned tables -> the column whose UTC day, with asset_id, names the partition.
PARTITION_COLUMN: dict[str, str] = {
    **dict.fromkeys(TELEMETRY_FACTS.values(), "sampled_at"),
    **{quarantine_table(t.name): "sampled_at" for t in TELEMETRY_TABLES},
    **dict.fromkeys(DAILY_AGGREGATES.values(), "day"),
}
QUARANTINE_TABLES = tuple(quarantine_table(name) for name in RAW_TABLES)

# Built whole from the raw tables that are not telemetry: dimensions, maintenance records
# and their quarantines.
WHOLE_TABLES = (
    DIM_COMPANY,
    DIM_LOCATION,
    DIM_ASSET,
    BRIDGE_ASSET_ANCESTOR,
    ASSET_ISO_CONFIG,
    DIM_PRIORITY,
    DIM_CATEGORY,
    FCT_INSIGHT,
    FCT_EVENT,
    FCT_WORK_ORDER,
    *(quarantine_table(t.name) for t in RAW_TABLES.values() if not t.telemetry),
)
