"""Handlers of the integration layer's endpoints and of the asset tree."""

from aiohttp import web

from simulator.api_profiles import published_asset
from simulator.route_support import context, paged, require_company
from simulator.server_state import json_response


async def health(request: web.Request) -> web.Response:
    return json_response({"status": "ok", "version": "v1"})


async def connection(request: web.Request) -> web.Response:
    state, token = context(request)
    return json_response(state.connection_body(token))


async def companies(request: web.Request) -> web.Response:
    state, token = context(request)
    return json_response([c for c in state.world.companies if c["id"] in token.company_ids])


async def locations(request: web.Request) -> web.Response:
    company_id = request.match_info["company_id"]
    state = require_company(request, company_id)
    return paged(request, state.world.locations(company_id))


async def assets(request: web.Request) -> web.Response:
    """Public asset pages have no `total` and no sensor fields (api_profiles.py)."""
    company_id = request.match_info["company_id"]
    state = require_company(request, company_id)
    records = state.world.assets(company_id)
    if state.public:
        return paged(request, records, shape=published_asset, with_total=False)
    return paged(request, records)
