"""Small helpers for the simulator server tests: HTTP calls, error bodies, value checks,
the demo dump, free ports."""

import importlib.resources
import json
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import requests

DUMP_NAME = "tractian-demo-api.json"


@cache
def demo_dump() -> dict[str, Any]:
    """The demo dump read straight from the package data, independently of the World."""
    data = importlib.resources.files("simulator").joinpath("data", DUMP_NAME)
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


def error_code(response: requests.Response) -> tuple[int, str]:
    """(status, code) of an integration-profile error: a body of exactly
    `{"error": {"code", "message"}}`."""
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message"}, body
    return response.status_code, body["error"]["code"]


@contextmanager
def pristine(sim: Any, now: datetime | None = None) -> Iterator[Any]:
    """A module's shared simulator with no faults and fresh stats (and the clock at `now`,
    if given), cleared of faults again afterwards."""
    sim.clear_faults()
    if now is not None:
        sim.set_now(now)
    sim.reset_stats()
    yield sim
    sim.clear_faults()


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


def iso8601(moment: datetime) -> str:
    return (
        moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    )


def window(end: datetime, days: float = 7) -> dict[str, str]:
    return {"start": iso8601(end - timedelta(days=days)), "end": iso8601(end)}


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def is_iso_z(text: Any) -> bool:
    return isinstance(text, str) and text.endswith("Z") and parse_iso(text).tzinfo is not None


def is_number_or_null(values: list[Any]) -> bool:
    return all(v is None or isinstance(v, int | float) for v in values)


def components(sensor_type: str, company: str) -> list[dict[str, Any]]:
    """The dump's components of one sensor type in one company (by name)."""
    assets = demo_dump()[company_id(company)]["assets"]
    return [a for a in assets if a.get("sensorType") == sensor_type]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
