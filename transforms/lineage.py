"""What every table this layer writes is built from: the one declaration of its lineage.

`INPUTS[table]` names the tables a table's rows depend on, raw tables by their
qualified name (`tractian_raw.assets`). The Dagster assets take their dependencies from
here, and `tests/transforms/test_lineage.py` holds it to what the steps really read:
emptying a raw table changes exactly the tables downstream of it.
"""

from graphlib import TopologicalSorter

from transforms import tables as t
from transforms.raw import RAW_SCHEMA


def raw(name: str) -> str:
    """Raw table `assets` -> `tractian_raw.assets`."""
    return f"{RAW_SCHEMA}.{name}"


INPUTS: dict[str, tuple[str, ...]] = {
    t.DIM_COMPANY: (raw("companies"),),
    t.DIM_LOCATION: (raw("locations"),),
    t.DIM_ASSET: (raw("assets"), raw("asset_sensor_types"), t.DIM_LOCATION),
    t.BRIDGE_ASSET_ANCESTOR: (t.DIM_ASSET,),
    t.ASSET_ISO_CONFIG: (t.BRIDGE_ASSET_ANCESTOR,),
    t.DIM_PRIORITY: (raw("work_order_priorities"),),
    t.DIM_CATEGORY: (raw("work_order_categories"),),
    t.FCT_VIBRATION: (raw("vibration_samples"), t.DIM_ASSET, t.ASSET_ISO_CONFIG),
    t.FCT_RPM: (raw("rpm_samples"), t.DIM_ASSET),
    t.FCT_ENERGY: (raw("energy_samples"), t.DIM_ASSET),
    t.FCT_ENERGY_CONSUMPTION: (raw("energy_consumption"), t.DIM_ASSET),
    t.FCT_ENERGY_DEMAND: (raw("energy_demand"), t.DIM_ASSET),
    t.FCT_ENERGY_COST: (raw("energy_cost"), t.DIM_ASSET),
    t.AGG_VIBRATION_DAILY: (t.FCT_VIBRATION,),
    t.AGG_ENERGY_DAILY: (t.FCT_ENERGY,),
    t.FCT_INSIGHT: (raw("insights"), t.DIM_ASSET),
    t.FCT_EVENT: (raw("events"), t.DIM_ASSET, t.DIM_LOCATION),
    t.FCT_WORK_ORDER: (
        raw("work_orders"),
        t.DIM_ASSET,
        t.DIM_LOCATION,
        t.DIM_CATEGORY,
        t.DIM_PRIORITY,
    ),
    # The daily marts' grid of component-days and their `as_of` ("now") come from both
    # daily aggregates; so do the powered hours the monthly KPIs start from.
    t.ASSET_HEALTH_DAILY: (
        t.AGG_VIBRATION_DAILY,
        t.AGG_ENERGY_DAILY,
        t.FCT_INSIGHT,
        t.ASSET_ISO_CONFIG,
        t.DIM_ASSET,
    ),
    t.SENSOR_HEALTH_DAILY: (
        t.AGG_VIBRATION_DAILY,
        t.AGG_ENERGY_DAILY,
        t.DIM_ASSET,
        *(t.quarantine_table(name) for name in t.TELEMETRY_FACTS),
    ),
    t.MAINTENANCE_KPIS_MONTHLY: (
        t.AGG_VIBRATION_DAILY,
        t.AGG_ENERGY_DAILY,
        t.BRIDGE_ASSET_ANCESTOR,
        t.FCT_WORK_ORDER,
        t.FCT_EVENT,
        t.DIM_ASSET,
    ),
    # A quarantine holds the raw rows that broke a rule; some rules look up a dimension
    # (an unknown asset, an unknown location).
    t.quarantine_table("locations"): (raw("locations"),),
    t.quarantine_table("assets"): (raw("assets"), t.DIM_LOCATION),
    t.quarantine_table("asset_sensor_types"): (raw("asset_sensor_types"), t.DIM_ASSET),
    t.quarantine_table("insights"): (raw("insights"), t.DIM_ASSET),
    t.quarantine_table("events"): (raw("events"), t.DIM_ASSET, t.DIM_LOCATION),
    t.quarantine_table("work_orders"): (raw("work_orders"), t.DIM_ASSET, t.DIM_LOCATION),
    **{t.quarantine_table(name): (raw(name), t.DIM_ASSET) for name in t.TELEMETRY_FACTS},
    **{
        t.quarantine_table(name): (raw(name),)
        for name in ("companies", "work_order_priorities", "work_order_categories")
    },
}

# Inputs first: the order a run builds the tables in, and Dagster reports them in.
BUILD_ORDER: tuple[str, ...] = tuple(
    TopologicalSorter(
        {n: [i for i in ins if i in INPUTS] for n, ins in INPUTS.items()}
    ).static_order()
)


def upstream(table: str) -> set[str]:
    """Every table `table` depends on, directly or through other tables."""
    seen: set[str] = set()
    todo = list(INPUTS.get(table, ()))
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(INPUTS.get(name, ()))
    return seen
