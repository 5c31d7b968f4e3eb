"""Turns the simulator's state changes into webhook events.

- a connection's status changes (a reauthorization fault set, triggered or cleared,
  `offline` toggled): `connection.reauthorization_required`, or
  `connection.status_changed` with the new `online`/`offline` status;
- a `server_errors` burst starts: `system.error` for each connection it hits;
- the clock passes a gateway's reconnect (its buffered, late samples become readable):
  `sync.completed` for each connection that can read the gateway's company.

Runs on the server's event loop. Without a webhook URL it still tracks statuses, so the
`/connection` answers and the state report stay right, and simply sends nothing.
"""

import asyncio
import contextlib
from typing import TYPE_CHECKING, Any

from simulator.clock import SimClock
from simulator.faults import FaultBoard
from simulator.timefmt import iso8601
from simulator.webhook_sender import WebhookSender

if TYPE_CHECKING:
    from simulator.world import World

RECONNECT_POLL_SECONDS = 0.1


class PlatformEvents:
    """Applies fault changes and sends the events they (and the clock) cause."""

    def __init__(
        self, world: "World", clock: SimClock, faults: FaultBoard, sender: WebhookSender | None
    ) -> None:
        self._world = world
        self._clock = clock
        self._faults = faults
        self._sender = sender
        self._tokens = sorted(world.tokens.values(), key=lambda t: t.name)
        self._statuses = self._current_statuses()
        self._watcher: asyncio.Task[None] | None = None
        self._gateway_companies: dict[str, set[str]] = {}
        for company in world.companies:
            for asset in world.assets(company["id"]):
                if asset.get("gatewayId"):
                    self._gateway_companies.setdefault(asset["gatewayId"], set()).add(company["id"])

    async def start(self) -> None:
        if self._sender is None:
            return
        await self._sender.start()
        self._watcher = asyncio.create_task(self._watch_reconnects())

    async def close(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
        if self._sender is not None:
            await self._sender.close()

    def set_fault(self, name: str, params: dict[str, Any]) -> dict[str, Any]:
        fault = self._faults.set(name, params)
        if name == "server_errors":
            for token in self._tokens:
                if fault.matches(token.name, None):
                    self._send(
                        "system.error",
                        {
                            "connectionId": token.connection_id,
                            "code": "server_error",
                            "message": "the API is answering server errors",
                        },
                    )
        self.publish_connection_changes()
        return fault.describe()

    def clear_faults(self, name: str | None) -> None:
        self._faults.clear(name)
        self.publish_connection_changes()

    def _current_statuses(self) -> dict[str, str]:
        return {t.name: self._faults.connection_status(t.name) for t in self._tokens}

    def publish_connection_changes(self) -> None:
        """Send an event for each connection whose status changed since the last call."""
        statuses = self._current_statuses()
        for token in self._tokens:
            status = statuses[token.name]
            if status == self._statuses[token.name]:
                continue
            data = {"connectionId": token.connection_id, "companyIds": list(token.company_ids)}
            if status == "reauthorization_required":
                self._send("connection.reauthorization_required", data)
            else:
                self._send("connection.status_changed", {**data, "status": status})
        self._statuses = statuses

    def connections(self) -> dict[str, dict[str, Any]]:
        return {
            t.name: {
                "connectionId": t.connection_id,
                "status": self._faults.connection_status(t.name),
                "companyIds": list(t.company_ids),
            }
            for t in self._tokens
        }

    def describe_sender(self) -> dict[str, Any] | None:
        return self._sender.describe() if self._sender else None

    def _send(self, event_type: str, data: dict[str, Any], at_ms: int | None = None) -> None:
        if self._sender is not None:
            moment = self._clock.now_ms() if at_ms is None else at_ms
            self._sender.send(event_type, iso8601(moment), data)

    async def _watch_reconnects(self) -> None:
        checked = self._clock.now_ms()
        while True:
            await asyncio.sleep(RECONNECT_POLL_SECONDS)
            now = self._clock.now_ms()
            if now > checked:
                for gateway_id, at_ms in self._world.gateway_reconnects(checked, now):
                    self._announce_reconnect(gateway_id, at_ms)
            checked = now

    def _announce_reconnect(self, gateway_id: str, at_ms: int) -> None:
        for company_id in sorted(self._gateway_companies.get(gateway_id, ())):
            for token in self._tokens:
                if company_id in token.company_ids:
                    data = {
                        "connectionId": token.connection_id,
                        "companyId": company_id,
                        "gatewayId": gateway_id,
                        "reconnectedAt": iso8601(at_ms),
                    }
                    self._send("sync.completed", data, at_ms)
