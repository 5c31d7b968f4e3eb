"""Handlers of the telemetry endpoints: vibration, rotation and the energy family.

An asset the token may read but that has no sensor of the route's kind (a vibration
request for an energy component, any telemetry of an asset without sensor) answers 404
on the integration profile, and 204 (no samples) on the public one: the published asset
has no sensor type, so a client finds out which telemetry an asset has by probing.
"""

from collections.abc import Callable
from typing import Any

from aiohttp import web

from simulator.energy import INTERVAL_SERIES, QUANTITY_PHASES
from simulator.route_support import context
from simulator.server_query import ApiError, invalid, window_params
from simulator.server_state import STATE, json_response

Read = Callable[[str, int, int, int], dict[str, Any] | None]


def _telemetry(request: web.Request, sensor_type: str, read: Read) -> web.Response:
    start, end = window_params(request.query)
    state, token = context(request)
    asset_id = request.match_info["asset_id"]
    company_id = state.asset_companies.get(asset_id)
    if company_id is None:
        raise ApiError(404, "not_found", f"asset {asset_id} not found")
    if company_id not in token.company_ids:
        raise ApiError(403, "forbidden", f"this token may not read asset {asset_id}")
    component = state.world.component(asset_id)
    if component is None or component.sensor_type != sensor_type:
        if state.public:
            return web.Response(status=204)
        raise ApiError(404, "not_found", f"asset {asset_id} has no {sensor_type} sensor")
    body = read(asset_id, start, end, state.clock.now_ms())
    return web.Response(status=204) if body is None else json_response(body)


async def vibration(request: web.Request) -> web.Response:
    return _telemetry(request, "vibration", request.app[STATE].world.vibration)


async def rotation(request: web.Request) -> web.Response:
    return _telemetry(request, "vibration", request.app[STATE].world.rotation)


async def consumption(request: web.Request) -> web.Response:
    return _telemetry(request, "energy", request.app[STATE].world.consumption)


async def demand(request: web.Request) -> web.Response:
    return _telemetry(request, "energy", request.app[STATE].world.demand)


async def cost(request: web.Request) -> web.Response:
    return _telemetry(request, "energy", request.app[STATE].world.cost)


async def energy(request: web.Request) -> web.Response:
    """`/energy/{quantity}`: the API's hyphenated names; anything else (e.g. the old
    `active_power`) is a 422 naming the path parameter, as FastAPI answers an enum."""
    quantity = request.match_info["quantity"]
    if quantity not in QUANTITY_PHASES:
        expected = ", ".join(repr(q) for q in (*QUANTITY_PHASES, *INTERVAL_SERIES))
        raise invalid("path", "quantity", "enum", f"Input should be {expected}", quantity)
    world = request.app[STATE].world

    def read(asset_id: str, start: int, end: int, as_of: int) -> dict[str, Any] | None:
        return world.energy(asset_id, quantity, start, end, as_of)

    return _telemetry(request, "energy", read)
