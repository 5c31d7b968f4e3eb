"""The simulator's aiohttp application: authentication, fault injection, errors and stats.

Every API route (all but `/health` and the `/_sim` controls) goes through the same steps:
count it, check the bearer token (and the `invalid_token` fault), then the
`reauthorization_required` fault, the per-token rate limit, and the request faults
(`rate_limited`, `server_errors`, `resets`, `slow`), run the handler, and finally maybe
truncate the body (`truncated`). `/connection` takes only the token checks and the rate
limit, so that it can report a connection's status while its data requests fail.

Errors are rendered in the API profile's style (api_profiles.py); the `/_sim` controls,
which are no part of either API, always answer `{"error": {code, message}}`.
"""

import asyncio
import logging
import math
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from email.utils import formatdate
from typing import Any

import orjson
from aiohttp import web

from simulator.api_profiles import (
    INTEGRATION,
    PUBLIC_NO_TOKEN,
    PUBLIC_UNAUTHORIZED,
    error_body,
)
from simulator.server_query import ApiError, ValidationFailed
from simulator.server_routes import api_routes, health
from simulator.server_state import STATE, TOKEN, ServerState, json_response
from simulator.world import Token

logger = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_SERVER_ERROR_CODES = {
    500: "internal_error",
    502: "bad_gateway",
    503: "service_unavailable",
    504: "gateway_timeout",
}
RESET = "reset"
WAS_RESET = web.RequestKey("reset", bool)


class Stats:
    """API requests counted by route kind, token name and answer (status code or `reset`)."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.requests = 0
        self.by_route: Counter[str] = Counter()
        self.by_token: Counter[str] = Counter()
        self.by_status: Counter[str] = Counter()

    def describe(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "by_route": dict(self.by_route),
            "by_token": dict(self.by_token),
            "by_status": dict(self.by_status),
        }


STATS = web.AppKey("stats", Stats)


def _api_route(request: web.Request) -> str | None:
    name = request.match_info.route.name
    return name if name and name != "health" and not name.startswith("sim_") else None


@web.middleware
async def stats_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    route = _api_route(request)
    if route is None:
        return await handler(request)
    stats = request.app[STATS]
    stats.requests += 1
    stats.by_route[route] += 1
    response = await handler(request)
    token = request.get(TOKEN)
    stats.by_token[token.name if token else "unknown"] += 1
    stats.by_status[RESET if request.get(WAS_RESET) else str(response.status)] += 1
    return response


def _error_style(request: web.Request) -> str:
    """The profile whose error bodies this request gets (`/_sim` keeps one style)."""
    if request.path == "/_sim" or request.path.startswith("/_sim/"):
        return INTEGRATION
    return request.app[STATE].profile


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    style = _error_style(request)
    try:
        return await handler(request)
    except ApiError as exc:
        response = json_response(error_body(style, exc.code, exc.message), exc.status)
        response.headers.update(exc.headers)
        return response
    except ValidationFailed as exc:
        return json_response({"detail": exc.details}, 422)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status, "http_error")
        return json_response(error_body(style, code, exc.reason), exc.status)
    except Exception:
        logger.exception("simulator failed to answer %s", request.path)
        body = error_body(style, "internal_error", "Internal Server Error")
        return json_response(body, 500)


def _unauthorized(
    state: ServerState, code: str, message: str, *, no_token: bool = False
) -> ApiError:
    """A 401. The public API says only that the credentials do not work, whatever the
    reason; the integration layer names it (`invalid_token`, `reauthorization_required`)."""
    if state.public:
        return ApiError(401, code, PUBLIC_NO_TOKEN if no_token else PUBLIC_UNAUTHORIZED)
    return ApiError(401, code, message)


def _authenticate(request: web.Request, state: ServerState, route: str) -> Token:
    scheme, _, token_string = request.headers.get("Authorization", "").partition(" ")
    token = state.world.tokens.get(token_string.strip()) if scheme.lower() == "bearer" else None
    if token is None:
        no_token = not token_string.strip()
        raise _unauthorized(
            state, "invalid_token", "missing or unknown bearer token", no_token=no_token
        )
    request[TOKEN] = token
    if state.faults.pick("invalid_token", token.name, route):
        raise _unauthorized(state, "invalid_token", "the token is not valid")
    return token


def _check_reauthorization(state: ServerState, token: Token, route: str) -> None:
    fault = state.faults.pick("reauthorization_required", token.name, route)
    if fault is None:
        return
    if fault.affected == 1 and fault.params["after"] > 0:
        state.on_connection_change()
    raise _unauthorized(
        state, "reauthorization_required", "the customer's credentials changed: reauthorize"
    )


def _too_many_requests(retry_after: int, http_date: bool = False) -> ApiError:
    """A 429 whose Retry-After is in seconds, or (`http_date`) the HTTP date after that
    many seconds of the real clock, which is what a client compares it with."""
    if http_date:
        value = formatdate(math.ceil(time.time()) + retry_after, usegmt=True)
    else:
        value = str(retry_after)
    return ApiError(
        429,
        "rate_limited",
        f"too many requests: retry after {retry_after} s",
        headers={"Retry-After": value},
    )


def _check_rate_limit(state: ServerState, token: Token) -> None:
    retry_after = state.limiter.acquire(token.name) if state.limiter else None
    if retry_after is not None:
        raise _too_many_requests(retry_after)


def _request_company(request: web.Request, state: ServerState) -> str | None:
    """The company a request is about: in its path, its `x-company-id`, or its asset's."""
    info = request.match_info
    if "company_id" in info:
        return info["company_id"]
    if "asset_id" in info:
        return state.asset_companies.get(info["asset_id"])
    return request.headers.get("x-company-id")


def _check_failing_answers(
    state: ServerState, token: Token, route: str, company: str | None
) -> None:
    """The `rate_limited` and `server_errors` faults."""
    limited = state.faults.pick("rate_limited", token.name, route, company)
    if limited is not None:
        raise _too_many_requests(limited.params["retry_after"], limited.params["http_date"])
    fault = state.faults.pick("server_errors", token.name, route, company)
    if fault is not None:
        statuses = fault.params["statuses"]
        status = statuses[int(fault.draw() * len(statuses))]
        raise ApiError(status, _SERVER_ERROR_CODES[status], "simulated server error")


def _without_a_required_field(body: Any) -> Any:
    """The `malformed` fault: the first listed record loses `id`, a telemetry body
    `sampledAt`, a bare list its first item's `id`."""
    records = body.get("data") if isinstance(body, dict) else body
    if isinstance(records, list) and records and isinstance(records[0], dict):
        records[0].pop("id", None)
    elif isinstance(body, dict):
        body.pop("sampledAt", None)
    return body


async def _truncate(
    request: web.Request, response: web.Response, fraction: float, full: bool
) -> web.StreamResponse:
    body = response.body
    part = bytes(body[: max(1, int(len(body) * fraction))])
    truncated = web.StreamResponse(status=response.status, headers=response.headers)
    truncated.content_length = len(body) if full else len(part)
    await truncated.prepare(request)
    await truncated.write(part)
    request.transport.close()
    return truncated


# `/connection` reports a connection's status while its data requests fail: of the faults,
# only the token's reach it.
STATUS_ROUTE = "connection"
STATUS_ROUTE_FAULTS = ("invalid_token",)


@web.middleware
async def api_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    route = _api_route(request)
    if route is None:
        return await handler(request)
    state = request.app[STATE]
    token = _authenticate(request, state, route)
    if route == STATUS_ROUTE:
        _check_rate_limit(state, token)
        return await handler(request)
    _check_reauthorization(state, token, route)
    _check_rate_limit(state, token)
    company = _request_company(request, state)
    _check_failing_answers(state, token, route, company)
    if state.faults.pick("resets", token.name, route, company):
        request[WAS_RESET] = True
        request.transport.abort()
        return web.Response(status=204)
    slow = state.faults.pick("slow", token.name, route, company)
    if slow:
        await asyncio.sleep(slow.params["seconds"])
    response = await handler(request)
    if isinstance(response, web.Response) and response.status == 200 and response.body:
        if state.faults.pick("malformed", token.name, route, company):
            return json_response(_without_a_required_field(orjson.loads(response.body)))
        cut = state.faults.pick("truncated", token.name, route, company)
        if cut:
            return await _truncate(
                request, response, cut.params["fraction"], cut.params["full_length"]
            )
    return response


def build_app(
    state: ServerState, extra_routes: list[web.RouteDef] | None = None
) -> web.Application:
    """The API application serving `state` in its profile (`/health` only on the
    integration one); `extra_routes` adds the `/_sim` controls."""
    app = web.Application(middlewares=[stats_middleware, error_middleware, api_middleware])
    app[STATE] = state
    app[STATS] = Stats()
    if not state.public:
        app.router.add_get("/health", health, name="health")
    for kind, path, handler in api_routes(state.profile):
        app.router.add_get(path, handler, name=kind)
    app.router.add_routes(extra_routes or [])
    return app
