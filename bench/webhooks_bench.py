"""Benchmark: verified, durably stored webhook events per second through the receiver.

Starts `tractian-elt webhooks serve` as a subprocess on loopback with a fresh inbox, fires
correctly signed events at it from `concurrency` concurrent clients for `duration_s`,
then reads the inbox file directly, before stopping the receiver: every event that got a
2xx must be there (`lost` must be 0). The load generator shares the machine's cores with
the receiver, so the figure is a floor.

    .venv/bin/python -m bench.webhooks_bench --duration 10 --concurrency 64
"""

import argparse
import asyncio
import base64
import json
import os
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

from webhooks.signing import signed_headers


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_up(base_url: str, proc: subprocess.Popen, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the receiver exited with code {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{base_url}/health", timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("the receiver did not come up")


def _signed_request(secret: str, host: str) -> tuple[str, bytes]:
    msg_id = f"msg_{uuid.uuid4().hex}"
    body = json.dumps(
        {"type": "sync.completed", "timestamp": "2025-01-01T00:00:00Z", "data": {"id": msg_id}}
    ).encode()
    headers = signed_headers(secret, msg_id, body)
    head = (
        f"POST /webhooks HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n"
        + "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        + "\r\n"
    )
    return msg_id, head.encode() + body


async def _read_status(reader: asyncio.StreamReader) -> int:
    """Read one HTTP/1.1 response; its status code."""
    status = int((await reader.readline()).split()[1])
    length = 0
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    await reader.readexactly(length)
    return status


async def _client(port, secret, deadline, acked, latencies, failures) -> None:
    """One keep-alive connection sending events back to back (a minimal HTTP client: the
    aiohttp client would take as much CPU as the receiver it measures)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while time.monotonic() < deadline:
            msg_id, request = _signed_request(secret, f"127.0.0.1:{port}")
            started = time.perf_counter()
            writer.write(request)
            status = await _read_status(reader)
            if status == 200:
                acked.append(msg_id)
                latencies.append((time.perf_counter() - started) * 1000)
            else:
                failures.append(status)
    finally:
        writer.close()


async def _load(port: int, secret: str, duration_s: float, concurrency: int) -> tuple:
    acked: list[str] = []
    latencies: list[float] = []
    failures: list[int] = []
    started = time.monotonic()
    deadline = started + duration_s
    clients = (
        _client(port, secret, deadline, acked, latencies, failures) for _ in range(concurrency)
    )
    await asyncio.gather(*clients)
    return acked, latencies, failures, time.monotonic() - started


def _stored_ids(inbox_path: Path) -> set[str]:
    with sqlite3.connect(inbox_path) as conn:
        return {row[0] for row in conn.execute("SELECT webhook_id FROM inbox_events")}


def run(duration_s: float = 5.0, concurrency: int = 64) -> dict:
    """Load the receiver for `duration_s`; events/s that were verified and stored, and losses."""
    secret = "whsec_" + base64.b64encode(os.urandom(32)).decode()
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as tmp:
        inbox_path = Path(tmp) / "inbox.sqlite"
        command = [sys.executable, "-m", "orchestration.cli", "webhooks", "serve"]
        command += ["--port", str(port), "--inbox", str(inbox_path)]
        env = os.environ | {"TRACTIAN_WEBHOOK_SECRETS": secret}
        proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
        try:
            _wait_until_up(base_url, proc)
            load = _load(port, secret, duration_s, concurrency)
            acked, latencies, failures, elapsed = asyncio.run(load)
            # Checked while the receiver still runs: a 2xx must not wait for a clean exit.
            lost = len(set(acked) - _stored_ids(inbox_path))
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
    quantiles = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    return {
        "scenario": "webhooks_receiver",
        "duration_s": round(elapsed, 2),
        "concurrency": concurrency,
        "events_stored": len(acked),
        "events_per_s": round(len(acked) / elapsed, 1),
        "non_2xx": len(failures),
        "lost": lost,
        "latency_p50_ms": round(quantiles[49], 2),
        "latency_p99_ms": round(quantiles[98], 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=5.0, help="seconds of load")
    parser.add_argument("--concurrency", type=int, default=64, help="concurrent clients")
    args = parser.parse_args(argv)
    result = run(args.duration, args.concurrency)
    print(json.dumps(result, indent=2))
    return 0 if result["lost"] == 0 and result["non_2xx"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
