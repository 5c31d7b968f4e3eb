"""What a perfect connector would hold in its raw tables after syncing [start, as_of)
at as_of: the independent expectation for the connector's tests.

Built straight from the model (telemetry frames, catalog and ledger records), never by
parsing served JSON. Schemas are `sources.raw_schema` minus `connection_name`. The API
profile (api_profiles.py) decides what the connector can know:

- companies: the configured ids; `name` only on the integration profile (`/companies`),
  null on the public one, where no endpoint names a company.
- assets: `sensor_id`, `sensor_type`, `gateway_id` and `status` only on the integration
  profile (null on the public one); `sensors` on both.
- asset_sensor_types: one row per (non-removed) component of the companies, its sensor
  type `detected_by` "asset" (integration: the asset says) or "probe" (public: which
  telemetry endpoint answers with samples). On the public profile only the components
  a probe can find: with a visible sample in [start, as_of) (a gateway offline through
  the whole range hides its components' types until their samples arrive).

Which rows each table holds:
- companies, locations, assets, priorities, categories: the current snapshot (assets
  removed with World.remove_asset are left out; `missing_since` is null).
- telemetry: samples with start <= sampledAt < as_of that are visible at as_of;
  removed components are left out. Energy in the API's units: W, VAR, Wh, kW.
- insights: those with referenceDate (= createdAt) in [start, as_of), each in its state
  at as_of (the connector reads insights by referenceDate with a lookback and refreshes
  the detail of insights that are not yet checked and fixed).
- events: createdAt in [start, as_of) (events never change).
- work orders: updatedAt (as of as_of) in [start, as_of), deleted ones included.
"""

from collections.abc import Iterable

import pyarrow as pa
import pyarrow.compute as pc

from simulator.api_profiles import INTEGRATION, PUBLIC, check_profile
from simulator.asset_tree import Component
from simulator.ground_truth_records import json_text, record_tables, rows_to_table
from simulator.ground_truth_telemetry import energy_tables, vibration_tables
from simulator.world import World
from sources.raw_schema import RAW_TABLES


def ground_truth(
    world: World,
    company_ids: Iterable[str],
    start_ms: int,
    as_of_ms: int,
    profile: str = INTEGRATION,
) -> dict[str, pa.Table]:
    """Every raw table, in `RAW_TABLES` order, as a sync against `profile` should hold it."""
    public = check_profile(profile) == PUBLIC
    companies = list(company_ids)
    components = world.components(companies)
    telemetry = {
        **vibration_tables(world, components, start_ms, as_of_ms),
        **energy_tables(world, components, start_ms, as_of_ms),
    }
    if public:
        components = _probed(components, telemetry)
    tables = {
        "companies": _companies(world, companies, public),
        "locations": _locations(world, companies),
        "assets": _assets(world, companies, public),
        "asset_sensor_types": _sensor_types(components, public),
        **telemetry,
        **record_tables(world, companies, start_ms, as_of_ms),
    }
    return {name: tables[name] for name in RAW_TABLES}


def _companies(world: World, companies: list[str], public: bool) -> pa.Table:
    rows = [
        {"id": c["id"], "name": None if public else c["name"]}
        for c in world.companies
        if c["id"] in companies
    ]
    return rows_to_table("companies", rows)


def _locations(world: World, companies: list[str]) -> pa.Table:
    rows = [
        {
            "id": loc["id"],
            "company_id": loc["companyId"],
            "name": loc["name"],
            "parent_id": loc["parentId"],
            "missing_since": None,
        }
        for cid in companies
        for loc in world.locations(cid)
    ]
    return rows_to_table("locations", rows)


def _assets(world: World, companies: list[str], public: bool) -> pa.Table:
    def unpublished(a: dict, name: str) -> object:
        return None if public else a.get(name)

    rows = [
        {
            "id": a["id"],
            "company_id": a["companyId"],
            "name": a["name"],
            "location_id": a["locationId"],
            "parent_id": a["parentId"],
            "sensors": json_text(a["sensors"]),
            "sensor_id": unpublished(a, "sensorId"),
            "sensor_type": unpublished(a, "sensorType"),
            "gateway_id": unpublished(a, "gatewayId"),
            "status": unpublished(a, "status"),
            "code": a["code"],
            "criticality_id": a["criticalityId"],
            "manufacturer": a["manufacturer"],
            "model_type": a["modelType"],
            "serial_number": a["serialNumber"],
            "created_at": a["createdAt"],
            "updated_at": a["updatedAt"],
            "is_deleted": a["deleted"]["value"],
            "is_disabled": a["disabled"]["value"],
            "disabled_at": a["disabled"]["date"],
            "missing_since": None,
        }
        for cid in companies
        for a in world.assets(cid)
    ]
    return rows_to_table("assets", rows)


# the table whose samples a probe of each sensor type finds (energy: every quantity of a
# sample is served, active power among them)
_PROBED_IN = {"vibration": "vibration_samples", "energy": "energy_samples"}


def _probed(components: list[Component], telemetry: dict[str, pa.Table]) -> list[Component]:
    """The components with a visible sample of their type: those a probe finds."""
    sampled = {
        kind: set(pc.unique(telemetry[table].column("asset_id")).to_pylist())
        for kind, table in _PROBED_IN.items()
    }
    return [c for c in components if c.id in sampled.get(c.sensor_type, ())]


def _sensor_types(components: list[Component], public: bool) -> pa.Table:
    rows = [
        {
            "asset_id": c.id,
            "company_id": c.company_id,
            "sensor_type": c.sensor_type,
            "detected_by": "probe" if public else "asset",
        }
        for c in components
    ]
    return rows_to_table("asset_sensor_types", rows)
