"""Request parameters of the simulated API: parsing, validation errors and paging.

Validation failures answer 422 with FastAPI's body (`{"detail": [{type, loc, msg,
input}]}`), as the real API does, in every profile; other errors are `ApiError`s, whose
body depends on the profile (see api_profiles.py).
"""

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from simulator.clock import to_ms

MAX_WINDOW_MS = 7 * 24 * 3600 * 1000
# The published API documents no maximum page size; this one is modeled (M).
MAX_LIMIT = 1000


class ApiError(Exception):
    """An error answered with `status`: `{"error": {"code", "message"}}` on the integration
    profile, `{"detail": message}` on the public one."""

    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


class ValidationFailed(Exception):
    """A 422: one or more FastAPI-style validation errors."""

    def __init__(self, details: list[dict[str, Any]]) -> None:
        super().__init__(details[0]["msg"])
        self.details = details


def invalid(where: str, name: str, kind: str, msg: str, value: Any) -> ValidationFailed:
    return ValidationFailed([{"type": kind, "loc": [where, name], "msg": msg, "input": value}])


def missing(where: str, name: str) -> ValidationFailed:
    return invalid(where, name, "missing", "Field required", None)


@lru_cache(maxsize=65536)
def iso_to_ms(text: str) -> int:
    """Milliseconds of an ISO 8601 timestamp (`Z` or offset; naive is UTC); ValueError if not."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return to_ms(moment)


def timestamp_param(query: Mapping[str, str], name: str, *, required: bool = False) -> int | None:
    text = query.get(name)
    if text is None or text == "":
        if required:
            raise missing("query", name)
        return None
    try:
        return iso_to_ms(text)
    except ValueError:
        raise invalid(
            "query", name, "datetime_from_date_parsing", "Input should be a valid datetime", text
        ) from None


def window_params(query: Mapping[str, str]) -> tuple[int, int]:
    """`start` and `end` (both required), `start < end`, at most 7 days apart."""
    errors = []
    bounds = []
    for name in ("start", "end"):
        try:
            bounds.append(timestamp_param(query, name, required=True))
        except ValidationFailed as exc:
            errors.extend(exc.details)
    if errors:
        raise ValidationFailed(errors)
    start, end = bounds
    if end <= start:
        raise invalid(
            "query", "end", "value_error", "Value error, end must be after start", query["end"]
        )
    if end - start > MAX_WINDOW_MS:
        raise invalid(
            "query",
            "end",
            "value_error",
            "Value error, window must not exceed 7 days",
            query["end"],
        )
    return start, end


def int_param(query: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    text = query.get(name)
    if text is None:
        return default
    try:
        value = int(text)
    except ValueError:
        raise invalid(
            "query", name, "int_parsing", "Input should be a valid integer", text
        ) from None
    if value < low:
        raise invalid("query", name, "greater_than_equal", f"Input should be >= {low}", text)
    if value > high:
        raise invalid("query", name, "less_than_equal", f"Input should be <= {high}", text)
    return value


def bool_param(query: Mapping[str, str], name: str) -> bool | None:
    text = query.get(name)
    if text is None:
        return None
    lowered = text.lower()
    if lowered in ("true", "1", "yes", "on"):
        return True
    if lowered in ("false", "0", "no", "off"):
        return False
    raise invalid("query", name, "bool_parsing", "Input should be a valid boolean", text)


def choice_param(query: Mapping[str, str], name: str, choices: Sequence[str]) -> str | None:
    text = query.get(name)
    if text is None or text in choices:
        return text
    expected = ", ".join(repr(c) for c in choices)
    raise invalid("query", name, "enum", f"Input should be {expected}", text)


def paging_params(query: Mapping[str, str], default_limit: int) -> tuple[int, int]:
    """`page` (>= 1, default 1) and `limit` (1..1000, default `default_limit`)."""
    return (
        int_param(query, "page", 1, 1, 10**9),
        int_param(query, "limit", default_limit, 1, MAX_LIMIT),
    )


def page_body(
    records: Sequence[Any], page: int, limit: int, shift: int = 0, *, with_total: bool = True
) -> dict[str, Any]:
    """One page of `records`; `shift` moves the page's start (the shifting-pages fault).
    `with_total=False` leaves `total` out, as the published asset pages do."""
    start = max(0, (page - 1) * limit + shift)
    total = {"total": len(records)} if with_total else {}
    return {
        "data": list(records[start : start + limit]),
        "page": page,
        "limit": limit,
        **total,
        "hasNextPage": start + limit < len(records),
    }


def in_range(ms: int | None, start: int | None, end: int | None) -> bool:
    """`start <= ms < end`, either bound optional; a missing value is out of any range."""
    if start is None and end is None:
        return True
    if ms is None:
        return False
    return (start is None or ms >= start) and (end is None or ms < end)
