"""The simulated API's endpoints: route kind, path and handler of each, per profile.

Authentication and fault injection happen before the handlers (see `server.py`); a
handler finds the caller's `Token` in `request[TOKEN]`. Every answer is as of the
clock's now. The route kind names a route in stats and in fault filters.
"""

from collections.abc import Callable
from typing import Any

from simulator.api_profiles import INTEGRATION_ONLY_ROUTES, PUBLIC
from simulator.routes_catalog import assets, companies, connection, health, locations
from simulator.routes_records import (
    events,
    insight_detail,
    insights,
    work_order_categories,
    work_order_priorities,
    work_orders,
)
from simulator.routes_telemetry import (
    consumption,
    cost,
    demand,
    energy,
    rotation,
    vibration,
)

__all__ = ["API_ROUTES", "ROUTE_KINDS", "api_routes", "health"]

Route = tuple[str, str, Callable[..., Any]]

# `consumption`, `demand` and `cost` come before `{quantity}` so that they are not taken
# for quantities (aiohttp matches routes in the order they were added).
API_ROUTES: tuple[Route, ...] = (
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
    ("demand", "/assets/{asset_id}/energy/demand", demand),
    ("cost", "/assets/{asset_id}/energy/cost", cost),
    ("energy", "/assets/{asset_id}/energy/{quantity}", energy),
)
ROUTE_KINDS = tuple(kind for kind, _, _ in API_ROUTES)


def api_routes(profile: str) -> tuple[Route, ...]:
    """The routes `profile` serves: the public one leaves out the integration layer's."""
    if profile == PUBLIC:
        return tuple(r for r in API_ROUTES if r[0] not in INTEGRATION_ONLY_ROUTES)
    return API_ROUTES
