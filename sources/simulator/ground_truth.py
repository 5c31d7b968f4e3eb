"""What a perfect connector would hold in its raw tables after syncing [start, as_of)
at as_of: the independent expectation for the connector's tests.

Built straight from the model (telemetry frames, catalog and ledger records), never by
parsing served JSON. Schemas are `sources.raw_schema` minus `connection_name`.

Which rows each table holds:
- companies, locations, assets, priorities, categories: the current snapshot (assets
  removed with World.remove_asset are left out; `missing_since` is null).
- telemetry: samples with start <= sampledAt < as_of that are visible at as_of;
  removed components are left out.
- insights: those with referenceDate (= createdAt) in [start, as_of), each in its state
  at as_of (the connector reads insights by referenceDate with a lookback and refreshes
  the detail of insights that are not yet checked and fixed).
- events: createdAt in [start, as_of) (events never change).
- work orders: updatedAt (as of as_of) in [start, as_of), deleted ones included.
"""

from collections.abc import Iterable

import orjson
import pyarrow as pa

from sources.raw_schema import RAW_TABLES
from sources.simulator.ground_truth_telemetry import TS, energy_tables, schema_of, vibration_tables
from sources.simulator.world import World


def _json(value: object) -> str:
    return orjson.dumps(value).decode()


def ground_truth(
    world: World, company_ids: Iterable[str], start_ms: int, as_of_ms: int
) -> dict[str, pa.Table]:
    companies = list(company_ids)
    components = world.components(companies)
    tables = {
        "companies": _companies(world, companies),
        "locations": _locations(world, companies),
        "assets": _assets(world, companies),
        **vibration_tables(world, components, start_ms, as_of_ms),
        **energy_tables(world, components, start_ms, as_of_ms),
        "insights": _insights(world, companies, start_ms, as_of_ms),
        "events": _events(world, companies, start_ms, as_of_ms),
        "work_orders": _work_orders(world, companies, start_ms, as_of_ms),
        "work_order_priorities": _priorities(world, companies),
        "work_order_categories": _categories(world, companies),
    }
    return {name: tables[name] for name in RAW_TABLES}


def _rows_to_table(table: str, rows: list[dict]) -> pa.Table:
    """Rows of API values; timestamp columns hold the API's ISO strings (or None)."""
    schema = schema_of(table)
    arrays = []
    for field in schema:
        values = [r[field.name] for r in rows]
        if field.type == TS:
            arrays.append(pa.array(values, pa.string()).cast(TS))
        else:
            arrays.append(pa.array(values, field.type))
    return pa.Table.from_arrays(arrays, schema=schema)


def _companies(world: World, companies: list[str]) -> pa.Table:
    rows = [c for c in world.companies if c["id"] in companies]
    return _rows_to_table("companies", rows)


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
    return _rows_to_table("locations", rows)


def _assets(world: World, companies: list[str]) -> pa.Table:
    rows = [
        {
            "id": a["id"],
            "company_id": a["companyId"],
            "name": a["name"],
            "location_id": a["locationId"],
            "parent_id": a["parentId"],
            "sensors": _json(a["sensors"]),
            "sensor_id": a.get("sensorId"),
            "sensor_type": a.get("sensorType"),
            "gateway_id": a.get("gatewayId"),
            "status": a.get("status"),
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
    return _rows_to_table("assets", rows)


def _insights(world: World, companies: list[str], start_ms: int, as_of_ms: int) -> pa.Table:
    rows = []
    for cid in companies:
        for record in world.ledger.existing(cid, "insight", as_of_ms):
            if not start_ms <= record.created_ms < as_of_ms:
                continue
            i = record.at(as_of_ms)
            rows.append(
                {
                    "id": i["id"],
                    "company_id": cid,
                    "type": i["type"],
                    "number": i["number"],
                    "created_at": i["createdAt"],
                    "asset_id": i["assetId"],
                    "inspection_id": i["inspectionId"],
                    "description": i["description"],
                    "event_id": i["eventId"],
                    "status": i["status"],
                    "fix_status": i["fixStatus"],
                    "reference_date": i["referenceDate"],
                    "updated_at": i["updatedAt"],
                }
            )
    return _rows_to_table("insights", rows)


def _events(world: World, companies: list[str], start_ms: int, as_of_ms: int) -> pa.Table:
    rows = [
        {
            "id": e["id"],
            "company_id": e["companyId"],
            "type": e["type"],
            "asset_id": e["assetId"],
            "location_id": e["locationId"],
            "description": e["description"],
            "start_date": e["startDate"],
            "end_date": e["endDate"],
            "created_at": e["createdAt"],
            "created_by_user_id": e["createdByUserId"],
        }
        for cid in companies
        for record in world.ledger.existing(cid, "event", as_of_ms)
        if start_ms <= record.created_ms < as_of_ms
        for e in (record.versions[0],)
    ]
    return _rows_to_table("events", rows)


def _work_orders(world: World, companies: list[str], start_ms: int, as_of_ms: int) -> pa.Table:
    rows = []
    for cid in companies:
        for record in world.ledger.existing(cid, "work_order", as_of_ms):
            if not start_ms <= record.updated_ms(as_of_ms) < as_of_ms:
                continue
            w = record.at(as_of_ms)
            rows.append(
                {
                    "id": w["id"],
                    "company_id": cid,
                    "number": w["number"],
                    "status": w["status"],
                    "title": w["title"],
                    "asset_id": w["assetId"],
                    "location_id": w["locationId"],
                    "priority_id": w["priorityId"],
                    "category_ids": _json(w["categoryIds"]),
                    "created_at": w["createdAt"],
                    "updated_at": w["updatedAt"],
                    "started_at": w["startedAt"],
                    "due_date": w["dueDate"],
                    "canceled_at": w["canceledAt"],
                    "canceled_reason": w["canceledReason"],
                    "is_deleted": w["deleted"]["value"],
                    "elapsed_intervals": _json(w["elapsedIntervals"]),
                    "total_cost": w["totalCost"]["total"],
                }
            )
    return _rows_to_table("work_orders", rows)


def _priorities(world: World, companies: list[str]) -> pa.Table:
    rows = [
        {
            "id": p["id"],
            "company_id": cid,
            "name": p["name"],
            "color": p["color"],
            "order": p["order"],
        }
        for cid in companies
        for p in world.work_order_priorities(cid)
    ]
    return _rows_to_table("work_order_priorities", rows)


def _categories(world: World, companies: list[str]) -> pa.Table:
    rows = [
        {
            "id": c["id"],
            "company_id": cid,
            "name": c["name"],
            "color": c["color"],
            "code": c["code"],
            "type": c["type"],
            "is_preventive": c["isPreventive"],
            "include_in_indicators": c["includeInIndicators"],
        }
        for cid in companies
        for c in world.work_order_categories(cid)
    ]
    return _rows_to_table("work_order_categories", rows)
