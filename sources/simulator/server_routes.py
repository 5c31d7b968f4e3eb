"""The simulated API's endpoints: what each route reads from the World and how it answers.

Authentication and fault injection happen before these handlers (see `server.py`); a
handler finds the caller's `Token` in `request[TOKEN]`. Every answer is as of the
clock's now.
"""

from collections.abc import Callable
from typing import Any

from aiohttp import web

from sources.simulator.server_query import (
    ApiError,
    bool_param,
    choice_param,
    in_range,
    invalid,
    iso_to_ms,
    missing,
    page_body,
    paging_params,
    timestamp_param,
    window_params,
)
from sources.simulator.server_state import STATE, TOKEN, ServerState, json_response
from sources.simulator.world import Token

ENERGY_QUANTITIES = ("current", "voltage", "active_power", "power_factor")
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


def _context(request: web.Request) -> tuple[ServerState, Token]:
    return request.app[STATE], request[TOKEN]


def _require_company(request: web.Request, company_id: str) -> ServerState:
    state, token = _context(request)
    if company_id not in token.company_ids:
        if any(c["id"] == company_id for c in state.world.companies):
            raise ApiError(403, "forbidden", f"this token may not read company {company_id}")
        raise ApiError(404, "not_found", f"company {company_id} not found")
    return state


def _paged(request: web.Request, records: list[dict[str, Any]]) -> web.Response:
    page, limit = paging_params(request.query)
    state, token = _context(request)
    shift = state.page_shift(token, request.match_info.route.name, page)
    return json_response(page_body(records, page, limit, shift))


async def health(request: web.Request) -> web.Response:
    return json_response({"status": "ok", "version": "v1"})


async def connection(request: web.Request) -> web.Response:
    state, token = _context(request)
    return json_response(state.connection_body(token))


async def companies(request: web.Request) -> web.Response:
    state, token = _context(request)
    return json_response([c for c in state.world.companies if c["id"] in token.company_ids])


async def locations(request: web.Request) -> web.Response:
    company_id = request.match_info["company_id"]
    state = _require_company(request, company_id)
    return _paged(request, state.world.locations(company_id))


async def assets(request: web.Request) -> web.Response:
    company_id = request.match_info["company_id"]
    state = _require_company(request, company_id)
    return _paged(request, state.world.assets(company_id))


async def insights(request: web.Request) -> web.Response:
    company_id = request.match_info["company_id"]
    state = _require_company(request, company_id)
    query = request.query
    start = timestamp_param(query, "referenceDateStart")
    end = timestamp_param(query, "referenceDateEnd")
    order = choice_param(query, "sort", ("createdAtAsc", "createdAtDesc"))
    deleted = bool_param(query, "deleted")
    records = [] if deleted else state.listing("insights", company_id, state.clock.now_ms())
    # List items carry no referenceDate; the model's referenceDate is the createdAt.
    records = [r for r in records if in_range(_ms(r, "createdAt"), start, end)]
    if order == "createdAtDesc":
        records.reverse()
    return _paged(request, records)


async def insight_detail(request: web.Request) -> web.Response:
    company_id = request.headers.get("x-company-id")
    if not company_id:
        raise missing("header", "x-company-id")
    state = _require_company(request, company_id)
    insight_id = request.match_info["insight_id"]
    now = state.clock.now_ms()
    listed = any(r["id"] == insight_id for r in state.listing("insights", company_id, now))
    detail = state.world.insight_detail(insight_id, now) if listed else None
    if detail is None:
        raise ApiError(404, "not_found", f"insight {insight_id} not found in company {company_id}")
    return json_response(detail)


def _ms(record: dict[str, Any], name: str) -> int | None:
    value = record.get(name)
    return None if value is None else iso_to_ms(value)


async def events(request: web.Request) -> web.Response:
    company_id = request.match_info["company_id"]
    state = _require_company(request, company_id)
    query = request.query
    created = (timestamp_param(query, "createdAtStart"), timestamp_param(query, "createdAtEnd"))
    started = (timestamp_param(query, "startDateStart"), timestamp_param(query, "startDateEnd"))
    types = _event_types(query.get("eventTypes"))
    deleted = bool_param(query, "deleted")
    records = [] if deleted else state.listing("events", company_id, state.clock.now_ms())
    records = [
        r
        for r in records
        if in_range(_ms(r, "createdAt"), *created)
        and in_range(_ms(r, "startDate"), *started)
        and (types is None or r["type"] in types)
    ]
    return _paged(request, records)


def _event_types(text: str | None) -> set[str] | None:
    if text is None:
        return None
    types = {t.strip() for t in text.split(",") if t.strip()}
    unknown = sorted(types - set(EVENT_TYPES))
    if unknown:
        raise invalid("query", "eventTypes", "enum", f"unknown event type {unknown[0]!r}", text)
    return types


async def work_orders(request: web.Request) -> web.Response:
    company_id = request.match_info["company_id"]
    state = _require_company(request, company_id)
    query = request.query
    by = choice_param(query, "filter", ("updatedAt",))
    start = timestamp_param(query, "start_date")
    end = timestamp_param(query, "end_date")
    if by is None and (start is not None or end is not None):
        raise invalid("query", "filter", "missing", "filter=updatedAt is required with dates", None)
    deleted = bool(bool_param(query, "deleted"))
    records = [
        r
        for r in state.listing("work_orders", company_id, state.clock.now_ms())
        if bool((r.get("deleted") or {}).get("value")) == deleted
        and in_range(_ms(r, "updatedAt"), start, end)
    ]
    return _paged(request, records)


async def work_order_priorities(request: web.Request) -> web.Response:
    company_id = request.match_info["company_id"]
    state = _require_company(request, company_id)
    return json_response(state.world.work_order_priorities(company_id))


async def work_order_categories(request: web.Request) -> web.Response:
    company_id = request.match_info["company_id"]
    state = _require_company(request, company_id)
    return _paged(request, state.world.work_order_categories(company_id))


def _telemetry(request: web.Request, sensor_type: str, read: Callable[..., Any]) -> web.Response:
    start, end = window_params(request.query)
    state, token = _context(request)
    asset_id = request.match_info["asset_id"]
    company_id = state.asset_companies.get(asset_id)
    if company_id is None:
        raise ApiError(404, "not_found", f"asset {asset_id} not found")
    if company_id not in token.company_ids:
        raise ApiError(403, "forbidden", f"this token may not read asset {asset_id}")
    component = state.world.component(asset_id)
    if component is None or component.sensor_type != sensor_type:
        raise ApiError(404, "not_found", f"asset {asset_id} has no {sensor_type} sensor")
    body = read(asset_id, start, end, state.clock.now_ms())
    return web.Response(status=204) if body is None else json_response(body)


async def vibration(request: web.Request) -> web.Response:
    return _telemetry(request, "vibration", request.app[STATE].world.vibration)


async def rotation(request: web.Request) -> web.Response:
    return _telemetry(request, "vibration", request.app[STATE].world.rotation)


async def consumption(request: web.Request) -> web.Response:
    return _telemetry(request, "energy", request.app[STATE].world.consumption)


async def energy(request: web.Request) -> web.Response:
    quantity = request.match_info["quantity"]
    if quantity not in ENERGY_QUANTITIES:
        expected = ", ".join(repr(q) for q in (*ENERGY_QUANTITIES, "consumption"))
        raise invalid("path", "quantity", "enum", f"Input should be {expected}", quantity)
    world = request.app[STATE].world

    def read(asset_id: str, start: int, end: int, as_of: int) -> dict[str, Any] | None:
        return world.energy(asset_id, quantity, start, end, as_of)

    return _telemetry(request, "energy", read)


# (route kind, path, handler); the kind names the route in stats and fault filters.
# `consumption` comes before `{quantity}` so that it is not taken for a quantity.
API_ROUTES: tuple[tuple[str, str, Callable[[web.Request], Any]], ...] = (
    ("connection", "/connection", connection),
    ("companies", "/companies", companies),
    ("locations", "/companies/{company_id}/locations", locations),
    ("assets", "/companies/{company_id}/assets", assets),
    ("insights", "/companies/{company_id}/insights", insights),
    ("insight", "/insights/{insight_id}", insight_detail),
    ("events", "/companies/{company_id}/events", events),
    ("workorders", "/companies/{company_id}/workorders", work_orders),
    (
        "workorder_priorities",
        "/companies/{company_id}/workorders/priorities",
        work_order_priorities,
    ),
    (
        "workorder_categories",
        "/companies/{company_id}/workorders/categories",
        work_order_categories,
    ),
    ("vibration", "/assets/{asset_id}/vibration", vibration),
    ("rotation", "/assets/{asset_id}/vibration/rotation", rotation),
    ("consumption", "/assets/{asset_id}/energy/consumption", consumption),
    ("energy", "/assets/{asset_id}/energy/{quantity}", energy),
)
ROUTE_KINDS = tuple(kind for kind, _, _ in API_ROUTES)
