"""The inbound webhook receiver: verify, store durably, then answer.

`POST /webhooks` answers, in this order of checks:
- 411 no body; 413 a body over 64 KiB (refused on `Content-Length`, and cut off while
  reading when there is none); 415 a `Content-Type` that is not JSON; 408 a body that
  takes over 5 s to arrive;
- 401 any verification failure (missing or malformed headers included);
- 415 a body that is not JSON;
- 503 the inbox could not store the event within `STORE_TIMEOUT_SECONDS` (the sender
  retries); 200 stored, or already stored (a duplicate `webhook-id`).
A 200 is only sent after the event's commit has been fsynced.

SQLite commits block, so they run in one writer thread that stores whatever requests have
queued up in a single transaction (group commit: one fsync for many events) while the
event loop goes on verifying. `GET /health` answers 200 when the server is up.
"""

import asyncio
import logging
import queue
import threading
import time
from datetime import UTC, datetime

import orjson
from aiohttp import web

from webhooks.inbox import Inbox, InboxEvent
from webhooks.settings import MAX_BODY_BYTES, STORE_TIMEOUT_SECONDS, WEBHOOK_PATH
from webhooks.signing import SignatureError, verify

logger = logging.getLogger(__name__)

_SIGNATURE_HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")
_PRUNE_INTERVAL_S = 3600.0
_MAX_BATCH = 512
# A sender that trickles its body must not hold a connection (or the 10-second budget).
_BODY_READ_TIMEOUT_S = 5.0


class GroupCommitWriter:
    """Stores events submitted from the event loop, as many per commit as are waiting.

    `submit` returns a future that resolves, after the commit, to True (new), False
    (duplicate) or None (the commit failed, or did not finish within `timeout_s`).
    """

    def __init__(self, inbox: Inbox) -> None:
        self._inbox = inbox
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="inbox-writer", daemon=True)
        self._loop: asyncio.AbstractEventLoop | None = None

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._thread.start()

    def stop(self) -> None:
        """Store what is queued, then stop the thread and close the inbox."""
        self._queue.put(None)
        self._thread.join()
        self._inbox.close()

    def submit(self, event: InboxEvent, timeout_s: float) -> "asyncio.Future[bool | None]":
        future = self._loop.create_future()
        timer = self._loop.call_later(timeout_s, _settle, [future], None)
        future.add_done_callback(lambda _: timer.cancel())
        self._queue.put((event, future))
        return future

    def _run(self) -> None:
        next_prune = 0.0
        while True:
            if time.monotonic() >= next_prune:
                self._prune()
                next_prune = time.monotonic() + _PRUNE_INTERVAL_S
            try:
                first = self._queue.get(timeout=_PRUNE_INTERVAL_S)
            except queue.Empty:
                continue
            batch, stopping = self._drain(first)
            if batch:
                self._commit(batch)
            if stopping:
                return

    def _drain(self, first: tuple | None) -> tuple[list[tuple], bool]:
        """`first` plus whatever else is queued, up to a batch; True once told to stop."""
        batch: list[tuple] = []
        item = first
        while item is not None:
            batch.append(item)
            if len(batch) == _MAX_BATCH:
                return batch, False
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return batch, False
        return batch, True

    def _commit(self, batch: list[tuple]) -> None:
        try:
            outcome: list[bool] | None = self._inbox.store([event for event, _ in batch])
        except Exception:
            # The thread must survive any failure: the affected requests answer 503.
            logger.exception("inbox commit of %d events failed", len(batch))
            outcome = None
        futures = [future for _, future in batch]
        self._loop.call_soon_threadsafe(_settle, futures, outcome)

    def _prune(self) -> None:
        try:
            pruned = self._inbox.prune()
        except Exception:
            logger.exception("pruning the inbox failed")
            return
        if pruned:
            logger.info("pruned %d processed events past the dedupe window", pruned)


def _settle(futures: list[asyncio.Future], outcome: list[bool] | None) -> None:
    for position, future in enumerate(futures):
        if not future.done():
            future.set_result(None if outcome is None else outcome[position])


def _error(status: int, code: str, message: str) -> web.Response:
    response = web.json_response({"error": {"code": code, "message": message}}, status=status)
    if status == 413:
        response.force_close()
    return response


def _is_json_type(content_type: str) -> bool:
    return content_type == "application/json" or content_type.endswith("+json")


class _Receiver:
    def __init__(self, secrets: list[str], writer: GroupCommitWriter, timeout_s: float) -> None:
        self._secrets = secrets
        self._writer = writer
        self._timeout_s = timeout_s

    async def handle(self, request: web.Request) -> web.Response:
        body_or_error = await self._read_body(request)
        if isinstance(body_or_error, web.Response):
            return body_or_error
        body = body_or_error
        headers = {name: request.headers.get(name, "") for name in _SIGNATURE_HEADERS}
        try:
            webhook_id = verify(self._secrets, headers, body)
        except (SignatureError, ValueError) as exc:
            logger.debug("rejected a webhook from %s: %s", request.remote, exc)
            return _error(401, "invalid_signature", str(exc))
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError:
            return _error(415, "unsupported_media_type", "the body is not JSON")
        event_type = payload.get("type") if isinstance(payload, dict) else None
        event = InboxEvent(
            webhook_id=webhook_id,
            webhook_timestamp=int(headers["webhook-timestamp"]),
            event_type=event_type if isinstance(event_type, str) else None,
            body=body.decode(),
            received_at=datetime.now(UTC),
        )
        return await self._store(event)

    async def _read_body(self, request: web.Request) -> bytes | web.Response:
        """The raw body, or the 411/413/415 answer for a request that has none usable."""
        if not request.body_exists:
            return _error(411, "length_required", "the request has no body")
        if (request.content_length or 0) > MAX_BODY_BYTES:
            return _error(413, "payload_too_large", f"the body exceeds {MAX_BODY_BYTES} bytes")
        if "Content-Type" in request.headers and not _is_json_type(request.content_type):
            return _error(415, "unsupported_media_type", "the Content-Type is not JSON")
        try:
            async with asyncio.timeout(_BODY_READ_TIMEOUT_S):
                body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return _error(413, "payload_too_large", f"the body exceeds {MAX_BODY_BYTES} bytes")
        except TimeoutError:
            return _error(408, "request_timeout", "the body did not arrive in time")
        return body or _error(411, "length_required", "the request has no body")

    async def _store(self, event: InboxEvent) -> web.Response:
        is_new = await self._writer.submit(event, self._timeout_s)
        if is_new is None:
            return _error(503, "storage_unavailable", "the event could not be stored; retry")
        answer = {"webhookId": event.webhook_id, "duplicate": not is_new}
        return web.Response(body=orjson.dumps(answer), content_type="application/json")


async def _health(_request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def build_app(
    inbox: Inbox, secrets: list[str], *, store_timeout_s: float = STORE_TIMEOUT_SECONDS
) -> web.Application:
    """The receiver as an aiohttp application; it owns `inbox` and closes it on cleanup."""
    if not secrets:
        raise ValueError("the receiver needs at least one webhook secret")
    writer = GroupCommitWriter(inbox)
    receiver = _Receiver(list(secrets), writer, store_timeout_s)
    app = web.Application(client_max_size=MAX_BODY_BYTES)
    app.router.add_post(WEBHOOK_PATH, receiver.handle)
    app.router.add_get("/health", _health)

    async def start_writer(_app: web.Application) -> None:
        writer.start(asyncio.get_running_loop())

    async def stop_writer(_app: web.Application) -> None:
        await asyncio.to_thread(writer.stop)

    app.on_startup.append(start_writer)
    app.on_cleanup.append(stop_writer)
    return app


def serve(host: str, port: int, inbox: Inbox, secrets: list[str]) -> None:
    """Run the receiver until SIGINT/SIGTERM; in-flight requests finish first."""
    app = build_app(inbox, secrets)
    print(
        f"receiving webhooks at http://{host}:{port}{WEBHOOK_PATH} into {inbox.path}",
        flush=True,
    )
    web.run_app(app, host=host, port=port, access_log=None, print=None, shutdown_timeout=10.0)
