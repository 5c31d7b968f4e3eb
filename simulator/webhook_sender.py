"""Posts the simulator's events to a webhook URL, signed per Standard Webhooks.

Events queue up and a background task on the server's event loop delivers them in
order, so a request never waits on a webhook. A failed delivery (non-2xx, connection
error, timeout) is retried after each of `retry_delays`, re-signed with a fresh
timestamp and the same `webhook-id` each time, as the specification asks.
"""

import asyncio
import contextlib
import logging
import os
import uuid
from typing import Any

import aiohttp
import orjson

from webhooks.signing import decode_secret, signed_headers

SECRET_ENV = "TRACTIAN_SIMULATOR_WEBHOOK_SECRET"
DEFAULT_RETRY_DELAYS = (0.5, 2.0, 5.0)

logger = logging.getLogger(__name__)


def resolve_secret(secret: str | None = None) -> str:
    """`secret`, else the environment's; ValueError (never showing it) if absent or malformed."""
    value = secret if secret is not None else os.environ.get(SECRET_ENV)
    if not value:
        raise ValueError(f"{SECRET_ENV} must be set to a whsec_... secret to send webhooks")
    try:
        decode_secret(value)
    except ValueError:
        raise ValueError(f"{SECRET_ENV} is not a valid whsec_<base64> secret") from None
    return value


class WebhookSender:
    """Delivers events to `url` one after another from a background task."""

    def __init__(
        self,
        url: str,
        secret: str,
        *,
        retry_delays: tuple[float, ...] = DEFAULT_RETRY_DELAYS,
        timeout_seconds: float = 10.0,
    ) -> None:
        self.url = url
        self._secret = secret
        self._retry_delays = retry_delays
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._queue: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None
        self.sent = 0
        self.delivered = 0
        self.failed = 0

    async def start(self) -> None:
        self._session = aiohttp.ClientSession(timeout=self._timeout)
        self._task = asyncio.create_task(self._deliver_forever())

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._session is not None:
            await self._session.close()

    def send(self, event_type: str, timestamp: str, data: dict[str, Any]) -> str:
        """Queue one event (call on the server's loop); returns its `webhook-id`."""
        msg_id = f"msg_{uuid.uuid4().hex}"
        body = orjson.dumps({"type": event_type, "timestamp": timestamp, "data": data})
        self._queue.put_nowait((msg_id, body))
        self.sent += 1
        return msg_id

    def describe(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "sent": self.sent,
            "delivered": self.delivered,
            "failed": self.failed,
            "pending": self._queue.qsize(),
        }

    async def _deliver_forever(self) -> None:
        while True:
            msg_id, body = await self._queue.get()
            if await self._deliver(msg_id, body):
                self.delivered += 1
            else:
                self.failed += 1
                logger.warning("webhook %s not delivered to %s", msg_id, self.url)

    async def _deliver(self, msg_id: str, body: bytes) -> bool:
        for delay in (0.0, *self._retry_delays):
            await asyncio.sleep(delay)
            if await self._post_once(msg_id, body):
                return True
        return False

    async def _post_once(self, msg_id: str, body: bytes) -> bool:
        assert self._session is not None
        headers = signed_headers(self._secret, msg_id, body)
        headers["content-type"] = "application/json"
        try:
            async with self._session.post(self.url, data=body, headers=headers) as response:
                return 200 <= response.status < 300
        except (aiohttp.ClientError, TimeoutError):
            return False
