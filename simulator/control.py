"""The simulator as a Python object: start it, inject faults, move its clock, read stats.

`Simulator` serves the API from a background thread with its own event loop, so a test
or the demo can drive it from ordinary synchronous code:

    with Simulator(SimConfig(seed=7), now=datetime(2025, 6, 2, tzinfo=UTC)) as sim:
        requests.get(sim.base_url + "/companies", headers={"Authorization": ...})
        sim.set_fault("server_errors", count=2)

`profile` chooses the API it imitates: "integration" (default: the published API plus an
integration layer) or "public" (exactly the published API); see api_profiles.py. The
ground truth follows the same profile.

Every control mutates state on the server's loop, never beside it. The same controls are
served under `/_sim` (see `control_routes.py`) for other processes.
"""

import asyncio
import dataclasses
import threading
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any, TypeVar

import pyarrow as pa
from aiohttp import web

from simulator.api_profiles import INTEGRATION, check_profile
from simulator.clock import SimClock, to_ms, wall_minute_ms
from simulator.control_routes import control_routes
from simulator.faults import FaultBoard, RateLimiter, parse_fault_spec, resolve_params
from simulator.ground_truth import ground_truth
from simulator.platform_events import PlatformEvents
from simulator.server import STATS, STATUS_ROUTE, STATUS_ROUTE_FAULTS, Stats, build_app
from simulator.server_routes import ROUTE_KINDS
from simulator.server_state import ServerState
from simulator.timefmt import iso8601
from simulator.webhook_sender import DEFAULT_RETRY_DELAYS, WebhookSender, resolve_secret
from simulator.world import SimConfig, World

T = TypeVar("T")
FaultSpec = str | tuple[str, dict[str, Any]]
DEFAULT_RATE_LIMIT = 200.0
DEFAULT_BURST = 400


def _moment_ms(moment: datetime | int) -> int:
    return moment if isinstance(moment, int) else to_ms(moment)


class Simulator:
    """A running (once started) simulated Tractian API on `host:port` (0: a free port)."""

    def __init__(
        self,
        config: SimConfig | None = None,
        *,
        now: datetime | int | None = None,
        speed: float = 0.0,
        rate_limit: float | None = DEFAULT_RATE_LIMIT,
        burst: int = DEFAULT_BURST,
        faults: Iterable[FaultSpec] = (),
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
        webhook_retry_delays: tuple[float, ...] = DEFAULT_RETRY_DELAYS,
        host: str = "127.0.0.1",
        port: int = 0,
        profile: str = INTEGRATION,
    ) -> None:
        self.profile = check_profile(profile)
        secret = resolve_secret(webhook_secret) if webhook_url else None
        self.config = config or SimConfig()
        self.host, self.port = host, port
        start_ms = wall_minute_ms() if now is None else _moment_ms(now)
        self.clock = SimClock(start_ms, speed)
        self.world = World(self.config, start_ms)
        limiter = RateLimiter(rate_limit, burst) if rate_limit else None
        board = FaultBoard(self.config.seed)
        self._state = ServerState(self.world, self.clock, board, limiter, self.profile)
        for spec in faults:
            name, params = parse_fault_spec(spec) if isinstance(spec, str) else spec
            board.set(name, self._checked_params(name, params))
        sender = None
        if webhook_url and secret:
            sender = WebhookSender(webhook_url, secret, retry_delays=webhook_retry_delays)
        self._events = PlatformEvents(self.world, self.clock, board, sender)
        self._state.on_connection_change = self._events.publish_connection_changes
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None

    # -- lifecycle -------------------------------------------------------------------
    def start(self) -> "Simulator":
        """Serve from a background thread; returns once the port is listening."""
        if self._runner is not None:
            raise RuntimeError("a Simulator starts once; make a new one to serve again")
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="tractian-simulator", daemon=True
        )
        self._thread.start()
        try:
            asyncio.run_coroutine_threadsafe(self._serve(), self._loop).result()
        except BaseException:
            self.stop()
            raise
        return self

    async def _serve(self) -> None:
        app = build_app(self._state, control_routes(self))
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]
        await self._events.start()

    def stop(self) -> None:
        """Stop serving and release the port (idempotent)."""
        loop, self._loop = self._loop, None
        if loop is None:
            return
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result()
        loop.call_soon_threadsafe(loop.stop)
        assert self._thread is not None
        self._thread.join()
        loop.close()

    async def _shutdown(self) -> None:
        await self._events.close()
        assert self._runner is not None
        await self._runner.cleanup()

    def __enter__(self) -> "Simulator":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _call(self, fn: Callable[[], T]) -> T:
        """Run `fn` on the server's loop (directly when not serving or already on it)."""
        loop = self._loop
        if loop is None or threading.current_thread() is self._thread:
            return fn()

        async def run() -> T:
            return fn()

        return asyncio.run_coroutine_threadsafe(run(), loop).result()

    # -- what clients need -----------------------------------------------------------
    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def tokens(self) -> dict[str, str]:
        """Token name (the lower-cased company name, or `all`) -> bearer token string."""
        return {token.name: value for value, token in self.world.tokens.items()}

    # -- controls --------------------------------------------------------------------
    def _checked_params(self, name: str, raw: dict[str, Any]) -> dict[str, Any]:
        params = resolve_params(name, raw)
        if params["token"] is not None and params["token"] not in self.tokens:
            raise ValueError(f"fault {name!r}: no token named {params['token']!r}")
        if params["route"] is not None and params["route"] not in ROUTE_KINDS:
            raise ValueError(f"fault {name!r}: unknown route {params['route']!r}")
        if params["route"] == STATUS_ROUTE and name not in STATUS_ROUTE_FAULTS:
            raise ValueError(
                f"fault {name!r} never reaches route {STATUS_ROUTE!r}, which answers while "
                f"data requests fail; only {', '.join(STATUS_ROUTE_FAULTS)} does"
            )
        known = {c["id"] for c in self.world.companies}
        if params["company"] is not None and params["company"] not in known:
            raise ValueError(f"fault {name!r}: unknown company {params['company']!r}")
        return params

    def set_fault(self, name: str, **params: Any) -> dict[str, Any]:
        """Activate fault `name` (see `faults.py` for names and parameters)."""
        checked = self._checked_params(name, params)
        return self._call(lambda: self._events.set_fault(name, checked))

    def clear_faults(self, name: str | None = None) -> None:
        """Clear every fault, or those named `name` (clearing reauthorization = reconnected)."""
        self._call(lambda: self._events.clear_faults(name))

    def faults(self) -> list[dict[str, Any]]:
        return self._call(self._state.faults.describe)

    def remove_asset(self, asset_id: str) -> None:
        """Delete an asset from the World (gone from listings, 404 after); KeyError if unknown."""

        def remove() -> None:
            if asset_id not in self._state.asset_companies:
                raise KeyError(asset_id)
            self.world.remove_asset(asset_id)
            self._state.reindex()

        self._call(remove)

    def set_now(self, moment: datetime | int) -> None:
        self.clock.set(_moment_ms(moment))

    def advance(self, delta: timedelta | int) -> None:
        """Move the clock forwards by a timedelta or a number of milliseconds."""
        self.clock.advance(delta if isinstance(delta, int) else int(delta.total_seconds() * 1000))

    def connection_status(self, token_name: str) -> str:
        return self._call(lambda: self._state.faults.connection_status(token_name))

    def stats(self) -> dict[str, Any]:
        """API requests served: `requests`, `by_route`, `by_token`, `by_status`."""
        return self._call(lambda: self._stats().describe())

    def reset_stats(self) -> None:
        self._call(lambda: self._stats().reset())

    def _stats(self) -> Stats:
        if self._runner is None:
            raise RuntimeError("simulator not started")
        return self._runner.app[STATS]

    def state(self) -> dict[str, Any]:
        """Profile, clock, faults, connections, rate limit, webhooks, tokens, tariffs, stats."""
        return self._call(self._describe)

    def _describe(self) -> dict[str, Any]:
        state = self._state
        return {
            "profile": self.profile,
            "now": iso8601(self.clock.now_ms()),
            "speed": self.clock.speed,
            "config": dataclasses.asdict(self.config),
            "faults": state.faults.describe(),
            "connections": self._events.connections(),
            "rateLimit": state.limiter.describe() if state.limiter else None,
            "webhooks": self._events.describe_sender(),
            "tokens": self.tokens,
            "tariffs": {cid: t.describe() for cid, t in self.world.tariffs.items()},
            "stats": self._stats().describe() if self._runner else None,
        }

    def ground_truth(
        self, company_ids: Iterable[str], start: datetime | int, as_of: datetime | int | None = None
    ) -> dict[str, pa.Table]:
        """What a perfect sync since `start`, as of `as_of` (default: now), should hold,
        reading this simulator's profile."""
        as_of_ms = self.clock.now_ms() if as_of is None else _moment_ms(as_of)
        ids, start_ms = list(company_ids), _moment_ms(start)
        return self._call(
            lambda: ground_truth(self.world, ids, start_ms, as_of_ms, profile=self.profile)
        )
