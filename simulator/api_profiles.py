"""Which API the simulator imitates: `integration` (the default) or `public`.

- `public` serves exactly the published part (P) of the API contract: no `/health`,
  `/connection` or `/companies` (404 like any unknown path), assets without the demo
  dump's `sensorType`/`sensorId`/`gatewayId`/`status` and asset pages without `total`,
  `limit` 10 by default, FastAPI-style errors `{"detail": "..."}`, any token problem a
  plain 401 (the published API has no reauthorization code), and 204 for telemetry of
  the wrong kind of sensor (a client can only find out by probing).
- `integration` adds what an integration layer in front of Tractian offers (I): the
  endpoints above, sensor fields on assets, totals on every page, `{"error": {code,
  message}}` bodies with reauthorization codes, 404 for telemetry of the wrong sensor.

The profile lives on the server side (ServerState, Simulator), never in the World: the
model is the same; only what the API shows of it differs.
"""

from typing import Any

INTEGRATION = "integration"
PUBLIC = "public"
PROFILES = (INTEGRATION, PUBLIC)

# Route kinds only the integration layer serves (`/health` is not an API route kind).
INTEGRATION_ONLY_ROUTES = frozenset({"connection", "companies"})
UNPUBLISHED_ASSET_FIELDS = frozenset({"sensorType", "sensorId", "gatewayId", "status"})
DEFAULT_LIMIT = {INTEGRATION: 100, PUBLIC: 10}
# A public 401 never says why: a wrong, revoked or expired token all look the same.
PUBLIC_UNAUTHORIZED = "Invalid authentication credentials"
PUBLIC_NO_TOKEN = "Not authenticated"


def check_profile(name: str) -> str:
    """`name` if it is a profile; ValueError naming the choices otherwise."""
    if name not in PROFILES:
        raise ValueError(f"unknown profile {name!r} (known: {', '.join(PROFILES)})")
    return name


def published_asset(asset: dict[str, Any]) -> dict[str, Any]:
    """An asset as the public API shows it: without the demo dump's sensor fields."""
    return {k: v for k, v in asset.items() if k not in UNPUBLISHED_ASSET_FIELDS}


def error_body(profile: str, code: str, message: str) -> dict[str, Any]:
    """The body of a non-validation error in `profile`'s style."""
    if profile == PUBLIC:
        return {"detail": message}
    return {"error": {"code": code, "message": message}}
