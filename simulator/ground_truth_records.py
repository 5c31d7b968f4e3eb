"""Ground-truth tables of the maintenance records: insights, events, work orders, and the
work-order priority and category lists. Rows come from the ledger's records as of
`as_of`, filtered by the window the connector reads them by (see ground_truth.py)."""

import orjson
import pyarrow as pa

from simulator.ground_truth_telemetry import TS, schema_of
from simulator.world import World


def json_text(value: object) -> str:
    return orjson.dumps(value).decode()


def rows_to_table(table: str, rows: list[dict]) -> pa.Table:
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


def record_tables(
    world: World, companies: list[str], start_ms: int, as_of_ms: int
) -> dict[str, pa.Table]:
    return {
        "insights": _insights(world, companies, start_ms, as_of_ms),
        "events": _events(world, companies, start_ms, as_of_ms),
        "work_orders": _work_orders(world, companies, start_ms, as_of_ms),
        "work_order_priorities": _priorities(world, companies),
        "work_order_categories": _categories(world, companies),
    }


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
    return rows_to_table("insights", rows)


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
    return rows_to_table("events", rows)


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
                    "category_ids": json_text(w["categoryIds"]),
                    "created_at": w["createdAt"],
                    "updated_at": w["updatedAt"],
                    "started_at": w["startedAt"],
                    "due_date": w["dueDate"],
                    "canceled_at": w["canceledAt"],
                    "canceled_reason": w["canceledReason"],
                    "is_deleted": w["deleted"]["value"],
                    "elapsed_intervals": json_text(w["elapsedIntervals"]),
                    "total_cost": w["totalCost"]["total"],
                }
            )
    return rows_to_table("work_orders", rows)


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
    return rows_to_table("work_order_priorities", rows)


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
    return rows_to_table("work_order_categories", rows)
