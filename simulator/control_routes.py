"""`/_sim/...`: the simulator's test and demo controls over HTTP (no token needed).

- `GET /_sim/state`: profile, clock, faults, connection statuses, rate limit, webhooks,
  tokens, tariffs, stats
- `POST /_sim/faults` `{"name": "slow", "params": {"seconds": 2}}` or `{"spec": "slow:seconds=2"}`
- `DELETE /_sim/faults[?name=NAME]`: clear every fault, or one kind
- `POST /_sim/clock` `{"now": ISO}` | `{"advanceSeconds": N}` | `{"speed": X}` (combinable)
- `DELETE /_sim/assets/{assetId}`: remove an asset from the World
- `GET /_sim/stats`, `DELETE /_sim/stats`: API request counters, and their reset

These are not part of Tractian's API; they exist so tests and the demo can steer a
simulator running in another process. Bad input answers 400 `invalid_request`.
"""

import json
from typing import TYPE_CHECKING, Any

from aiohttp import web

from simulator.faults import parse_fault_spec
from simulator.server_query import ApiError, iso_to_ms
from simulator.server_state import json_response

if TYPE_CHECKING:
    from simulator.control import Simulator


def _bad(message: str) -> ApiError:
    return ApiError(400, "invalid_request", message)


async def _json_object(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except json.JSONDecodeError:
        raise _bad("the body is not JSON") from None
    if not isinstance(body, dict):
        raise _bad("the body must be a JSON object")
    return body


def control_routes(sim: "Simulator") -> list[web.RouteDef]:
    """The `/_sim` routes steering `sim`."""

    async def state(request: web.Request) -> web.Response:
        return json_response(sim.state())

    async def set_fault(request: web.Request) -> web.Response:
        body = await _json_object(request)
        try:
            if "spec" in body:
                name, params = parse_fault_spec(str(body["spec"]))
            else:
                name, params = str(body.get("name")), body.get("params") or {}
                if not isinstance(params, dict):
                    raise ValueError("params must be a JSON object")
            return json_response({"fault": sim.set_fault(name, **params)})
        except ValueError as exc:
            raise _bad(str(exc)) from None

    async def clear_faults(request: web.Request) -> web.Response:
        sim.clear_faults(request.query.get("name"))
        return json_response({"faults": sim.faults()})

    async def clock(request: web.Request) -> web.Response:
        body = await _json_object(request)
        try:
            if "now" in body:
                sim.set_now(iso_to_ms(str(body["now"])))
            if "advanceSeconds" in body:
                sim.advance(int(float(body["advanceSeconds"]) * 1000))
            if "speed" in body:
                sim.clock.set_speed(float(body["speed"]))
        except (TypeError, ValueError) as exc:
            raise _bad(f"bad clock change: {exc}") from None
        return json_response({"now": sim.state()["now"], "speed": sim.clock.speed})

    async def remove_asset(request: web.Request) -> web.Response:
        asset_id = request.match_info["asset_id"]
        try:
            sim.remove_asset(asset_id)
        except KeyError:
            raise ApiError(404, "not_found", f"asset {asset_id} not found") from None
        return json_response({"removed": asset_id})

    async def stats(request: web.Request) -> web.Response:
        return json_response(sim.stats())

    async def reset_stats(request: web.Request) -> web.Response:
        sim.reset_stats()
        return json_response(sim.stats())

    return [
        web.get("/_sim/state", state, name="sim_state"),
        web.post("/_sim/faults", set_fault, name="sim_set_fault"),
        web.delete("/_sim/faults", clear_faults, name="sim_clear_faults"),
        web.post("/_sim/clock", clock, name="sim_clock"),
        web.delete("/_sim/assets/{asset_id}", remove_asset, name="sim_remove_asset"),
        web.get("/_sim/stats", stats, name="sim_stats"),
        web.delete("/_sim/stats", reset_stats, name="sim_reset_stats"),
    ]
