"""What every API handler shares: the caller's context, company checks and paging.

Handlers raise `ApiError`; the server's error middleware renders it in the profile's
style (see api_profiles.py), so handlers never build error bodies themselves.
"""

from collections.abc import Callable
from typing import Any

from aiohttp import web

from simulator.server_query import ApiError, iso_to_ms, page_body, paging_params
from simulator.server_state import STATE, TOKEN, ServerState, json_response
from simulator.world import Token

Shape = Callable[[dict[str, Any]], dict[str, Any]]


def context(request: web.Request) -> tuple[ServerState, Token]:
    return request.app[STATE], request[TOKEN]


def require_company(request: web.Request, company_id: str) -> ServerState:
    """The state, once the caller's token may read `company_id` (403), which exists (404)."""
    state, token = context(request)
    if company_id not in token.company_ids:
        if any(c["id"] == company_id for c in state.world.companies):
            raise ApiError(403, "forbidden", f"this token may not read company {company_id}")
        raise ApiError(404, "not_found", f"company {company_id} not found")
    return state


def paged(
    request: web.Request,
    records: list[dict[str, Any]],
    shape: Shape | None = None,
    with_total: bool = True,
) -> web.Response:
    """One page of `records`; `shape` rewrites each record of the page (not the list)."""
    state, token = context(request)
    page, limit = paging_params(request.query, state.default_limit)
    shift = state.page_shift(token, request.match_info.route.name, page)
    body = page_body(records, page, limit, shift, with_total=with_total)
    if shape is not None:
        body["data"] = [shape(r) for r in body["data"]]
    return json_response(body)


def ms_of(record: dict[str, Any], name: str) -> int | None:
    value = record.get(name)
    return None if value is None else iso_to_ms(value)
