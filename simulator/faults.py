"""Fault profiles the simulator can inject, and the per-token rate limiter.

A fault is activated with a name and parameters (`server_errors:count=3`, or
`set_fault("server_errors", count=3)`). Each activation counts the requests it matches
(its own counter, starting at 0) and chooses which to affect with a hash of
(seed, fault name, request number), so the same test run affects the same requests.

Parameters every fault takes:
- `token`: the token name (`jaguar`, `tobias`, `apex` or `all`) it applies to; all if unset.
- `route`: the route kind it applies to (e.g. `vibration`, `assets`); all if unset.
- `company`: the company id it applies to (the company in the path, the `x-company-id`
  header, or the asset's company); every request if unset, only requests about a
  company if set.
Request-selecting faults (`server_errors`, `resets`, `slow`, `truncated`, `malformed`,
`rate_limited`)
also take `after` (matching requests let through first, default 0), `count` (requests
affected at most; default 3 for server_errors and 1 for the others, unlimited when only
`rate` is given) and `rate` (fraction of matching requests affected, default 1).
`reauthorization_required` takes `after` (from request after+1 on, until cleared).

Specific parameters: `server_errors` `statuses` (e.g. `500/503`), `slow` `seconds`,
`truncated` `fraction` of the body sent and `full_length` (true: Content-Length of the
whole body, the connection closes early; false: a complete response of invalid JSON),
`rate_limited` `retry_after` seconds and `http_date` (true: Retry-After as the HTTP
date that many seconds later, instead of the seconds), `shifting_pages` `k` (pages after
the first start up to k records early or late).
"""

import hashlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

SERVER_ERROR_STATUSES = (500, 502, 503, 504)


def _int_at_least(low: int) -> Callable[[Any], int]:
    def convert(value: Any) -> int:
        number = int(value)
        if number < low or (isinstance(value, float) and not value.is_integer()):
            raise ValueError(f"must be an integer >= {low}")
        return number

    return convert


def _fraction(value: Any) -> float:
    number = float(value)
    if not 0 < number <= 1:
        raise ValueError("must be a number in (0, 1]")
    return number


def _fraction_open(value: Any) -> float:
    number = float(value)
    if not 0 < number < 1:
        raise ValueError("must be a number in (0, 1)")
    return number


def _positive_float(value: Any) -> float:
    number = float(value)
    if not number > 0 or math.isinf(number):
        raise ValueError("must be a positive number of seconds")
    return number


def _statuses(value: Any) -> tuple[int, ...]:
    items = value.split("/") if isinstance(value, str) else list(value)
    statuses = tuple(int(item) for item in items)
    if not statuses or any(s not in SERVER_ERROR_STATUSES for s in statuses):
        raise ValueError(f"must be a /-separated subset of {SERVER_ERROR_STATUSES}")
    return statuses


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if str(value).lower() in ("true", "false"):
        return str(value).lower() == "true"
    raise ValueError("must be true or false")


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError("must be a non-empty string")
    return value


_COMMON = {"token": (_text, None), "route": (_text, None), "company": (_text, None)}
_SELECTING = {"after": (_int_at_least(0), 0), "count": (_int_at_least(1), None)}
_SELECTING_RATE = {**_SELECTING, "rate": (_fraction, 1.0)}

# name -> (parameters with their converters and defaults, default count when selecting)
FAULT_KINDS: dict[str, tuple[dict[str, tuple[Callable[[Any], Any], Any]], int | None]] = {
    "server_errors": ({**_SELECTING_RATE, "statuses": (_statuses, SERVER_ERROR_STATUSES)}, 3),
    "resets": (_SELECTING_RATE, 1),
    "slow": ({**_SELECTING_RATE, "seconds": (_positive_float, 5.0)}, 1),
    "truncated": (
        {**_SELECTING_RATE, "fraction": (_fraction_open, 0.5), "full_length": (_flag, True)},
        1,
    ),
    # a 200 whose body lacks a required field (`id` of a listed record, `sampledAt`)
    "malformed": (_SELECTING_RATE, 1),
    "rate_limited": (
        {**_SELECTING_RATE, "retry_after": (_int_at_least(1), 1), "http_date": (_flag, False)},
        1,
    ),
    "shifting_pages": ({"k": (_int_at_least(1), 3)}, None),
    "reauthorization_required": ({"after": (_int_at_least(0), 0)}, None),
    "invalid_token": ({}, None),
    "offline": ({}, None),
}


def resolve_params(name: str, raw: dict[str, Any]) -> dict[str, Any]:
    """Validated parameters of fault `name`, defaults filled in; ValueError names the culprit."""
    if name not in FAULT_KINDS:
        raise ValueError(f"unknown fault {name!r} (known: {', '.join(FAULT_KINDS)})")
    specific, default_count = FAULT_KINDS[name]
    accepted = {**_COMMON, **specific}
    unknown = sorted(set(raw) - set(accepted))
    if unknown:
        raise ValueError(f"fault {name!r} takes no parameter {unknown[0]!r}")
    params = {}
    for key, (convert, default) in accepted.items():
        if raw.get(key) is None:
            params[key] = default
            continue
        try:
            params[key] = convert(raw[key])
        except (TypeError, ValueError) as exc:
            raise ValueError(f"fault {name!r} parameter {key!r} {exc}") from None
    if "count" in params and params["count"] is None and raw.get("rate") is None:
        params["count"] = default_count
    return params


def parse_fault_spec(spec: str) -> tuple[str, dict[str, Any]]:
    """`NAME[:key=value,...]` -> (name, validated params), e.g. `slow:seconds=2,count=1`."""
    name, _, rest = spec.partition(":")
    raw: dict[str, str] = {}
    for item in filter(None, rest.split(",")):
        key, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"fault parameter {item!r} is not key=value")
        raw[key.strip()] = value.strip()
    return name.strip(), resolve_params(name.strip(), raw)


def unit_hash(seed: int, name: str, n: int, salt: str = "") -> float:
    """A reproducible pseudo-random number in [0, 1) for request `n` of fault `name`."""
    digest = hashlib.blake2b(f"{seed}:{name}:{n}:{salt}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


@dataclass
class Fault:
    """One activation of a fault profile, with its own request counter."""

    name: str
    params: dict[str, Any]
    seed: int
    seen: int = 0
    affected: int = 0
    draws: int = field(default=0, repr=False)

    def matches(
        self, token_name: str | None, route: str | None, company: str | None = None
    ) -> bool:
        """Whether it applies to this token, route (None: any) and company."""
        wanted_token, wanted_route = self.params["token"], self.params["route"]
        wanted_company = self.params.get("company")
        return (
            (wanted_token is None or wanted_token == token_name)
            and (wanted_route is None or route is None or wanted_route == route)
            and (wanted_company is None or wanted_company == company)
        )

    def select(self) -> bool:
        """Count one matching request; whether this fault affects it."""
        n, self.seen = self.seen, self.seen + 1
        if n < self.params.get("after", 0):
            return False
        count = self.params.get("count")
        if count is not None and self.affected >= count:
            return False
        rate = self.params.get("rate", 1.0)
        if rate < 1 and unit_hash(self.seed, self.name, n) >= rate:
            return False
        self.affected += 1
        return True

    def draw(self) -> float:
        """The next reproducible number in [0, 1) for this fault's choices (status, offset)."""
        n, self.draws = self.draws, self.draws + 1
        return unit_hash(self.seed, self.name, n, salt="draw")

    def describe(self) -> dict[str, Any]:
        params = {k: list(v) if isinstance(v, tuple) else v for k, v in self.params.items()}
        return {"name": self.name, "params": params, "seen": self.seen, "affected": self.affected}


class FaultBoard:
    """The active faults: at most one activation per (name, token)."""

    def __init__(self, seed: int) -> None:
        self._seed = seed
        self._faults: dict[tuple[str, str | None], Fault] = {}

    def set(self, name: str, params: dict[str, Any]) -> Fault:
        """Activate (or restart) fault `name`; `params` as returned by `resolve_params`."""
        fault = Fault(name, params, self._seed)
        self._faults[(name, params["token"])] = fault
        return fault

    def clear(self, name: str | None = None) -> None:
        """Deactivate every fault, or every activation of `name`."""
        self._faults = {k: f for k, f in self._faults.items() if name is not None and k[0] != name}

    def matching(
        self, name: str, token_name: str | None, route: str | None, company: str | None = None
    ) -> list[Fault]:
        return [
            f
            for (n, _), f in self._faults.items()
            if n == name and f.matches(token_name, route, company)
        ]

    def pick(
        self, name: str, token_name: str | None, route: str | None, company: str | None = None
    ) -> Fault | None:
        """The first activation of `name` that selects this request (all matching ones count it)."""
        chosen = None
        for fault in self.matching(name, token_name, route, company):
            if fault.select() and chosen is None:
                chosen = fault
        return chosen

    def connection_status(self, token_name: str) -> str:
        """`reauthorization_required`, `offline` or `online`, as injected for this token."""
        for fault in self.matching("reauthorization_required", token_name, None):
            if fault.affected > 0 or fault.params["after"] == 0:
                return "reauthorization_required"
        if self.matching("offline", token_name, None):
            return "offline"
        return "online"

    def describe(self) -> list[dict[str, Any]]:
        return [fault.describe() for fault in self._faults.values()]


class RateLimiter:
    """A token bucket per key: `rate` requests per second on average, bursts up to `burst`."""

    def __init__(self, rate: float, burst: int) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate limit needs rate > 0 and burst >= 1")
        self.rate = rate
        self.burst = burst
        self._buckets: dict[str, tuple[float, float]] = {}

    def acquire(self, key: str, now: float | None = None) -> int | None:
        """Take one request from `key`'s bucket: None if allowed, else Retry-After seconds."""
        now = time.monotonic() if now is None else now
        level, last = self._buckets.get(key, (float(self.burst), now))
        level = min(float(self.burst), level + (now - last) * self.rate)
        if level >= 1:
            self._buckets[key] = (level - 1, now)
            return None
        self._buckets[key] = (level, now)
        return max(1, math.ceil((1 - level) / self.rate))

    def describe(self) -> dict[str, float]:
        return {"rate": self.rate, "burst": self.burst}
