"""Real servers for the webhook tests: the receiver (in this process or as the CLI
subprocess a user would start) and a scripted HTTP endpoint that notifications go to."""

import asyncio
import base64
import contextlib
import http.server
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiohttp import web

from webhooks.inbox import Inbox
from webhooks.receiver import build_app
from webhooks.signing import signed_headers


def new_secret() -> str:
    return "whsec_" + base64.b64encode(os.urandom(32)).decode()


def event_body(event_type: str = "sync.completed", **data: object) -> bytes:
    payload = {"type": event_type, "timestamp": "2025-06-02T12:00:00Z", "data": data}
    return json.dumps(payload).encode()


def signed_request(secret: str, body: bytes, msg_id: str | None = None) -> dict[str, str]:
    """Headers of a correctly signed JSON request (signed now)."""
    msg_id = msg_id or f"msg_{uuid.uuid4().hex}"
    return signed_headers(secret, msg_id, body) | {"Content-Type": "application/json"}


def stored_ids(inbox_path: Path) -> list[str]:
    """The inbox's webhook ids, read with plain SQL (not through `Inbox`)."""
    if not inbox_path.exists():
        return []
    with contextlib.closing(sqlite3.connect(inbox_path)) as conn:
        return [row[0] for row in conn.execute("SELECT webhook_id FROM inbox_events ORDER BY seq")]


@contextlib.contextmanager
def running_receiver(
    inbox_path: Path,
    secrets: list[str],
    *,
    busy_timeout_s: float = 5.0,
    store_timeout_s: float = 8.0,
) -> Iterator[str]:
    """The receiver app on a free port in a background event loop; yields its URL."""
    loop = asyncio.new_event_loop()
    inbox = Inbox(inbox_path, busy_timeout_s=busy_timeout_s)
    app = build_app(inbox, secrets, store_timeout_s=store_timeout_s)
    runner = web.AppRunner(app, access_log=None)
    loop.run_until_complete(runner.setup())
    loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", 0).start())
    port = runner.addresses[0][1]
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}/webhooks"
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(timeout=15)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)
        loop.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cli(*args: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess:
    """Run `tractian-elt ...` (as `python -m orchestration.cli`) to completion."""
    command = [sys.executable, "-m", "orchestration.cli", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout)


def clean_env(**extra: str) -> dict[str, str]:
    """The test process's environment without any webhook settings, plus `extra`."""
    names = ("TRACTIAN_WEBHOOK_SECRETS", "TRACTIAN_NOTIFY_URL", "TRACTIAN_NOTIFY_SECRET")
    return {k: v for k, v in os.environ.items() if k not in names} | extra


class ReceiverProcess:
    """`tractian-elt webhooks serve` as a subprocess, the way a user starts it."""

    def __init__(self, inbox_path: Path, secret: str, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}/webhooks"
        command = [sys.executable, "-m", "orchestration.cli", "webhooks", "serve"]
        command += ["--port", str(self.port), "--inbox", str(inbox_path)]
        env = clean_env(TRACTIAN_WEBHOOK_SECRETS=secret)
        self.proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)
        self._wait_until_up()

    def _wait_until_up(self, timeout_s: float = 30.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the receiver exited with code {self.proc.returncode}")
            health = f"http://127.0.0.1:{self.port}/health"
            with contextlib.suppress(OSError), urllib.request.urlopen(health, timeout=1):
                return
            time.sleep(0.05)
        self.kill()
        raise RuntimeError("the receiver did not come up")

    def kill(self) -> None:
        """SIGKILL: no cleanup of any kind happens in the receiver."""
        self.proc.kill()
        self.proc.wait(timeout=10)

    def terminate(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=20)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.kill()
        if self.proc.stdout:
            self.proc.stdout.close()


class RecordedRequest:
    def __init__(self, headers: dict[str, str], body: bytes) -> None:
        self.headers = headers
        self.body = body


class ScriptedEndpoint:
    """A local HTTP endpoint answering POSTs from a script; the last entry repeats.

    An int entry is the status to answer; a float entry is seconds to stall before
    answering 200 (longer than the client's timeout, that is a timeout).
    """

    def __init__(self, script: list[int | float]) -> None:
        self.script = list(script)
        self.requests: list[RecordedRequest] = []
        endpoint = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length)
                headers = {k.lower(): v for k, v in self.headers.items()}
                step = endpoint._next(headers, body)
                if isinstance(step, float):
                    time.sleep(step)
                with contextlib.suppress(OSError):
                    self.send_response(200 if isinstance(step, float) else step)
                    self.send_header("Content-Length", "0")
                    self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/hooks/tractian?token=t0k"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._lock = threading.Lock()

    def _next(self, headers: dict[str, str], body: bytes) -> int | float:
        with self._lock:
            self.requests.append(RecordedRequest(headers, body))
            return self.script.pop(0) if len(self.script) > 1 else self.script[0]

    def start(self) -> "ScriptedEndpoint":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def endpoint_factory() -> Iterator:
    started: list[ScriptedEndpoint] = []

    def start(script: list[int | float]) -> ScriptedEndpoint:
        endpoint = ScriptedEndpoint(script).start()
        started.append(endpoint)
        return endpoint

    yield start
    for endpoint in started:
        endpoint.stop()
