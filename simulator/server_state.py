"""What the simulator's handlers and middlewares share: the World, the clock, the faults,
the rate limiter, and a few indexes and caches over the World."""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson
from aiohttp import web

from simulator.api_profiles import DEFAULT_LIMIT, INTEGRATION, PUBLIC, check_profile
from simulator.clock import SimClock
from simulator.faults import FaultBoard, RateLimiter
from simulator.timefmt import iso8601
from simulator.world import Token

if TYPE_CHECKING:
    from simulator.world import World

_LISTING_CACHE_SIZE = 64


def json_response(body: Any, status: int = 200) -> web.Response:
    data = orjson.dumps(body, option=orjson.OPT_SERIALIZE_NUMPY)
    return web.Response(body=data, status=status, content_type="application/json")


def _by_creation(record: dict[str, Any]) -> tuple[str, str]:
    return (record.get("createdAt") or "", record["id"])


@dataclass
class ServerState:
    """Everything the handlers and middlewares read: the World, the clock, the faults and
    the API profile (`integration` or `public`, see api_profiles.py)."""

    world: "World"
    clock: SimClock
    faults: FaultBoard
    limiter: RateLimiter | None = None
    profile: str = INTEGRATION
    # Called (on the server's loop) when a request changes a connection's status.
    on_connection_change: Callable[[], None] = lambda: None
    asset_companies: dict[str, str] = field(default_factory=dict)
    _listings: dict[tuple[str, str, int], list[dict[str, Any]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_profile(self.profile)
        self.reindex()

    @property
    def public(self) -> bool:
        return self.profile == PUBLIC

    @property
    def default_limit(self) -> int:
        return DEFAULT_LIMIT[self.profile]

    def reindex(self) -> None:
        """Rebuild the asset -> company index and drop cached listings (after a World change)."""
        self.asset_companies = {
            asset["id"]: company["id"]
            for company in self.world.companies
            for asset in self.world.assets(company["id"])
        }
        self._listings.clear()

    def listing(self, kind: str, company_id: str, as_of: int) -> list[dict[str, Any]]:
        """The company's `insights`/`events`/`work_orders` as of `as_of`, by (createdAt, id).

        Cached per clock reading: a frozen clock pages through one unchanging list."""
        key = (kind, company_id, as_of)
        if key not in self._listings:
            if len(self._listings) >= _LISTING_CACHE_SIZE:
                self._listings.clear()
            loader = getattr(self.world, kind)
            self._listings[key] = sorted(loader(company_id, as_of), key=_by_creation)
        return self._listings[key]

    def page_shift(self, token: Token, route: str, page: int) -> int:
        """The shifting-pages fault's offset for this page request (0 when inactive)."""
        if page == 1:
            return 0
        fault = self.faults.pick("shifting_pages", token.name, route)
        if fault is None:
            return 0
        k = fault.params["k"]
        return int(fault.draw() * (2 * k + 1)) - k

    def connection_body(self, token: Token) -> dict[str, Any]:
        status = self.faults.connection_status(token.name)
        return {
            "connectionId": token.connection_id,
            "status": status,
            "reauthorizationRequired": status == "reauthorization_required",
            "companyIds": list(token.company_ids),
            "checkedAt": iso8601(self.clock.now_ms()),
        }


STATE = web.AppKey("state", ServerState)
# The authenticated caller's token, set by the API middleware.
TOKEN = web.RequestKey("token", Token)
