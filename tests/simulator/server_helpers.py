"""Small helpers for the simulator server tests: HTTP calls, the demo dump, free ports."""

import importlib.resources
import json
import socket
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import requests

DUMP_NAME = "tractian-demo-api.json"


@cache
def demo_dump() -> dict[str, Any]:
    """The demo dump read straight from the package data, independently of the World."""
    data = importlib.resources.files("sources.simulator").joinpath("data", DUMP_NAME)
    return json.loads(data.read_bytes())


def company_id(name: str) -> str:
    return next(c["id"] for c in demo_dump()["companies"] if c["name"] == name)


def get(
    sim: Any,
    path: str,
    token: str | None = "all",
    params: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 10.0,
) -> requests.Response:
    """GET `path` with the bearer token named `token` (None: no Authorization header)."""
    sent = dict(headers or {})
    if token is not None:
        sent["Authorization"] = f"Bearer {sim.tokens[token]}"
    return requests.get(sim.base_url + path, params=params, headers=sent, timeout=timeout)


def page_through(
    sim: Any, path: str, token: str = "all", limit: int = 100, **params: Any
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every record of a paged list, and the page bodies (without their data)."""
    records, pages = [], []
    page = 1
    while True:
        response = get(sim, path, token, {**params, "page": page, "limit": limit})
        assert response.status_code == 200, response.text
        body = response.json()
        records.extend(body.pop("data"))
        pages.append(body)
        if not body["hasNextPage"]:
            return records, pages
        page += 1


def iso(moment: datetime) -> str:
    return (
        moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    )


def window(end: datetime, days: float = 7) -> dict[str, str]:
    return {"start": iso(end - timedelta(days=days)), "end": iso(end)}


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def components(sensor_type: str, company: str) -> list[dict[str, Any]]:
    """The dump's components of one sensor type in one company (by name)."""
    assets = demo_dump()[company_id(company)]["assets"]
    return [a for a in assets if a.get("sensorType") == sensor_type]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
