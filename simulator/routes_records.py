"""Handlers of the maintenance records: insights, events, work orders and their lists."""

from typing import Any

from aiohttp import web

from simulator.route_support import ms_of, paged, require_company
from simulator.server_query import (
    ApiError,
    bool_param,
    choice_param,
    in_range,
    invalid,
    missing,
    timestamp_param,
)
from simulator.server_state import json_response

EVENT_TYPES = (
    "functionalFailure",
    "plannedStop",
    "potentialFailure",
    "powerOutage",
    "powerRestored",
    "powerSupplyProblem",
    "processAdjustment",
    "totalFailure",
    "unplannedOperation",
    "unplannedStop",
)


def _insight_shape(description: bool, prescriptions: bool) -> Any:
    """A listed insight carries `description` only with loadDescription=true, and
    `prescriptions` (none modeled) only with loadPrescription=true."""

    def shape(record: dict[str, Any]) -> dict[str, Any]:
        out = {k: v for k, v in record.items() if description or k != "description"}
        if prescriptions:
            out["prescriptions"] = []
        return out

    return shape


async def insights(request: web.Request) -> web.Response:
    company_id = request.match_info["company_id"]
    state = require_company(request, company_id)
    query = request.query
    start = timestamp_param(query, "referenceDateStart")
    end = timestamp_param(query, "referenceDateEnd")
    order = choice_param(query, "sort", ("createdAtAsc", "createdAtDesc"))
    deleted = bool_param(query, "deleted")
    shape = _insight_shape(
        bool(bool_param(query, "loadDescription")), bool(bool_param(query, "loadPrescription"))
    )
    records = [] if deleted else state.listing("insights", company_id, state.clock.now_ms())
    # List items carry no referenceDate; the model's referenceDate is the createdAt.
    records = [r for r in records if in_range(ms_of(r, "createdAt"), start, end)]
    if order == "createdAtDesc":
        records.reverse()
    return paged(request, records, shape=shape)


async def insight_detail(request: web.Request) -> web.Response:
    company_id = request.headers.get("x-company-id")
    if not company_id:
        raise missing("header", "x-company-id")
    state = require_company(request, company_id)
    insight_id = request.match_info["insight_id"]
    now = state.clock.now_ms()
    listed = any(r["id"] == insight_id for r in state.listing("insights", company_id, now))
    detail = state.world.insight_detail(insight_id, now) if listed else None
    if detail is None:
        raise ApiError(404, "not_found", f"insight {insight_id} not found in company {company_id}")
    return json_response(detail)


async def events(request: web.Request) -> web.Response:
    company_id = request.match_info["company_id"]
    state = require_company(request, company_id)
    query = request.query
    created = (timestamp_param(query, "createdAtStart"), timestamp_param(query, "createdAtEnd"))
    started = (timestamp_param(query, "startDateStart"), timestamp_param(query, "startDateEnd"))
    ended = (timestamp_param(query, "endDateStart"), timestamp_param(query, "endDateEnd"))
    types = _event_types(query.get("eventTypes"))
    deleted = bool_param(query, "deleted")
    records = [] if deleted else state.listing("events", company_id, state.clock.now_ms())
    records = [
        r
        for r in records
        if in_range(ms_of(r, "createdAt"), *created)
        and in_range(ms_of(r, "startDate"), *started)
        and in_range(ms_of(r, "endDate"), *ended)
        and (types is None or r["type"] in types)
    ]
    return paged(request, records)


def _event_types(text: str | None) -> set[str] | None:
    if text is None:
        return None
    types = {t.strip() for t in text.split(",") if t.strip()}
    unknown = sorted(types - set(EVENT_TYPES))
    if unknown:
        raise invalid("query", "eventTypes", "enum", f"unknown event type {unknown[0]!r}", text)
    return types


async def work_orders(request: web.Request) -> web.Response:
    """`filter=createdAt|updatedAt` picks the field that `start_date`/`end_date` bound."""
    company_id = request.match_info["company_id"]
    state = require_company(request, company_id)
    query = request.query
    by = choice_param(query, "filter", ("createdAt", "updatedAt"))
    start = timestamp_param(query, "start_date")
    end = timestamp_param(query, "end_date")
    if by is None and (start is not None or end is not None):
        message = "filter=createdAt or filter=updatedAt is required with dates"
        raise invalid("query", "filter", "missing", message, None)
    deleted = bool(bool_param(query, "deleted"))
    records = [
        r
        for r in state.listing("work_orders", company_id, state.clock.now_ms())
        if bool((r.get("deleted") or {}).get("value")) == deleted
        and (by is None or in_range(ms_of(r, by), start, end))
    ]
    return paged(request, records)


async def work_order_priorities(request: web.Request) -> web.Response:
    """Paged like the other lists (contract v2); no priority is ever deleted."""
    company_id = request.match_info["company_id"]
    state = require_company(request, company_id)
    deleted = bool_param(request.query, "deleted")
    return paged(request, [] if deleted else state.world.work_order_priorities(company_id))


async def work_order_categories(request: web.Request) -> web.Response:
    company_id = request.match_info["company_id"]
    state = require_company(request, company_id)
    return paged(request, state.world.work_order_categories(company_id))
