"""The one module that speaks HTTP to the Tractian API.

Bearer auth, connect/read timeouts, retries with bounded exponential backoff and full
jitter (5xx, resets, timeouts, truncated JSON), `Retry-After` (seconds or an HTTP date)
on 429 shared by every thread of the client, typed errors for 401/403/404/422 with the
message of either error body the contract knows (the published API's FastAPI
`{"detail": ...}`, the integration layer's `{"error": {code, message}}`), 204 as an
empty window, and `page`/`limit` paging that tolerates records shifting between pages.
"""

import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlencode

import orjson
import urllib3
from urllib3.exceptions import HTTPError as TransportError

from sources import settings
from sources.errors import (
    Forbidden,
    InvalidToken,
    NotFound,
    ReauthorizationRequired,
    RequestRejected,
    TractianError,
    TransientError,
)

RETRYABLE_STATUS = frozenset({500, 502, 503, 504})
# A multi-page list without `total` is taken as complete after this many passes in a row
# add nothing (a record that every one of them skips is not seen): 4 walks when the
# records hold still.
STABLE_PASSES = 3


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = settings.MAX_ATTEMPTS
    backoff_base_s: float = settings.BACKOFF_BASE_S
    backoff_max_s: float = settings.BACKOFF_MAX_S
    max_retry_after_s: float = settings.MAX_RETRY_AFTER_S
    max_rate_limited_waits: int = settings.MAX_RATE_LIMITED_WAITS

    def backoff(self, attempt: int) -> float:
        """Full-jitter delay before retry number `attempt` (1-based)."""
        cap = min(self.backoff_max_s, self.backoff_base_s * 2 ** (attempt - 1))
        return random.uniform(0, cap)


@dataclass
class RequestStats:
    requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    bytes: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, **counts: int) -> None:
        with self._lock:
            for name, value in counts.items():
                setattr(self, name, getattr(self, name) + value)


def iso8601(ts: datetime) -> str:
    """The API's timestamp format: ISO 8601 UTC with milliseconds and `Z`."""
    return ts.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z"


class TractianClient:
    """A thread-safe client for one connection (one base URL and token)."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        connect_timeout_s: float = settings.CONNECT_TIMEOUT_S,
        read_timeout_s: float = settings.READ_TIMEOUT_S,
        retry: RetryPolicy | None = None,
        page_limit: int = settings.PAGE_LIMIT,
        pool_size: int = settings.TELEMETRY_CONCURRENCY,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not token:
            raise ValueError("API token is empty")
        self.base_url = base_url.rstrip("/")
        self.retry = retry or RetryPolicy()
        self.page_limit = page_limit
        self._sleep = sleep
        # urllib3 directly: requests costs ~10 ms more per telemetry window (bench/).
        self._pool = urllib3.PoolManager(
            maxsize=pool_size,
            block=False,
            retries=False,
            timeout=urllib3.Timeout(connect=connect_timeout_s, read=read_timeout_s),
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
        )
        self._pause_lock = threading.Lock()
        self._paused_until = 0.0
        self.stats = RequestStats()

    def __repr__(self) -> str:  # never show the token
        return f"TractianClient({self.base_url!r})"

    def get(self, path: str, params: dict[str, Any] | None = None, **headers: str) -> Any:
        """GET `path` and return its decoded JSON, or None for 204; retries what is transient."""
        attempt, waits = 0, 0
        while True:
            self._wait_if_paused()
            try:
                return self._get_once(path, params, headers)
            except _RateLimited as limited:
                waits += 1
                self.stats.add(rate_limited=1)
                if waits > self.retry.max_rate_limited_waits:
                    raise TransientError(
                        f"GET {path}: still rate limited after {waits} waits"
                    ) from None
                self._pause(min(limited.retry_after_s, self.retry.max_retry_after_s))
            except _Retryable as failure:
                attempt += 1
                if attempt >= self.retry.max_attempts:
                    raise TransientError(
                        f"GET {path}: {failure} (gave up after {attempt} attempts)"
                    ) from None
                self.stats.add(retries=1)
                self._sleep(self.retry.backoff(attempt))

    def _get_once(self, path: str, params: dict[str, Any] | None, headers: dict[str, str]) -> Any:
        url = self.base_url + path
        if params:
            url += "?" + urlencode(params)
        try:
            response = self._pool.request(
                "GET", url, headers={**self._pool.headers, **headers} if headers else None
            )
        except TransportError as exc:  # resets, timeouts, bodies cut short
            raise _Retryable(type(exc).__name__) from None
        body = response.data
        self.stats.add(requests=1, bytes=len(body))
        status = response.status
        if status == 204:
            return None
        if status == 200:
            try:
                return orjson.loads(body)
            except orjson.JSONDecodeError:
                raise _Retryable("truncated or invalid JSON body") from None
        if status == 429:
            raise _RateLimited(_retry_after(response))
        if status in RETRYABLE_STATUS:
            raise _Retryable(f"HTTP {status}")
        raise _error_for(status, body, path)

    def _pause(self, seconds: float) -> None:
        with self._pause_lock:
            self._paused_until = max(self._paused_until, time.monotonic() + seconds)

    def _wait_if_paused(self) -> None:
        delay = self._paused_until - time.monotonic()
        if delay > 0:
            self._sleep(delay)

    def paginate(
        self, path: str, params: dict[str, Any] | None = None, *, key: str = "id"
    ) -> list[dict[str, Any]]:
        """Every record of a paged list, once each, even if records shift while paging.

        Page-number paging over changing data repeats records (inserted before the
        cursor) and skips some (deleted before it). Repeats are merged by `key`; passes
        repeat until every one of `total` records was seen. A list without `total` (the
        published API's asset pages) cannot show a skip, so it is walked until
        STABLE_PASSES passes in a row found nothing new (one pass when it fits on one
        page, which page-number paging cannot shift). A pass that merely sees what the
        earlier ones saw proves nothing: shifting pages skip the same records again.
        """
        records: dict[str, dict[str, Any]] = {}
        unchanged = 0  # passes in a row that found nothing new
        for attempt in range(settings.MAX_PAGING_PASSES):
            before = len(records)
            total, pages = self._one_pass(path, params or {}, records, key)
            if total is not None and len(records) >= total:
                return list(records.values())
            unchanged = unchanged + 1 if attempt and len(records) == before else 0
            if total is None and (pages <= 1 or unchanged >= STABLE_PASSES):
                return list(records.values())
        raise TransientError(
            f"GET {path}: records kept shifting while paging "
            f"({len(records)} of {total} after {settings.MAX_PAGING_PASSES} passes)"
        )

    def _one_pass(
        self, path: str, params: dict[str, Any], records: dict[str, dict[str, Any]], key: str
    ) -> tuple[int | None, int]:
        """One walk over every page into `records`: (`total` if given, pages read)."""
        total, pages = None, 0
        for body in self._pages(path, params):
            total, pages = body.get("total"), pages + 1
            for record in body["data"]:
                records[record[key]] = record
        return total, pages

    def _pages(self, path: str, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
        page = 1
        while True:
            try:
                body = self.get(path, {**params, "page": page, "limit": self.page_limit})
            except RequestRejected as rejected:
                if page > 1 or not self._smaller_pages(rejected):
                    raise
                continue
            if body is None:
                return
            yield body
            if not body.get("hasNextPage"):
                return
            page += 1

    def _smaller_pages(self, rejected: RequestRejected) -> bool:
        """After a page size the API refused (it documents no maximum), take the next
        smaller fallback for this client; False when there is none left."""
        smaller = [n for n in settings.PAGE_LIMIT_FALLBACKS if n < self.page_limit]
        if "limit" not in str(rejected) or not smaller:
            return False
        self.page_limit = smaller[0]
        return True


class _Retryable(Exception):
    pass


class _RateLimited(Exception):
    def __init__(self, retry_after_s: float) -> None:
        super().__init__(f"rate limited, retry after {retry_after_s}s")
        self.retry_after_s = retry_after_s


def _retry_after(response: urllib3.BaseHTTPResponse) -> float:
    """Seconds to wait: `Retry-After` as delay-seconds or an HTTP date (RFC 9110), else 1."""
    value = response.headers.get("Retry-After", "1").strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return 1.0
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _error_for(status: int, body: bytes, path: str) -> TractianError:
    code, message = _error_code(body)
    where = f"GET {path}: HTTP {status}"
    if status == 401 and code == ReauthorizationRequired.code:
        return ReauthorizationRequired(f"{where} reauthorization_required")
    if status == 401:
        return InvalidToken(f"{where} invalid_token")
    if status == 403:
        return Forbidden(f"{where} forbidden: {message}")
    if status == 404:
        return NotFound(f"{where} not found: {message}")
    return RequestRejected(f"{where}: {message}")


def _error_code(body: bytes) -> tuple[str, str]:
    """(integration-layer code or "", message) of an error body, whichever style it has."""
    try:
        decoded = orjson.loads(body)
    except orjson.JSONDecodeError:
        return "", body[:200].decode(errors="replace")
    if not isinstance(decoded, dict):
        return "", orjson.dumps(decoded).decode()[:500]
    error = decoded.get("error")
    if isinstance(error, dict):
        return str(error.get("code", "")), str(error.get("message", ""))
    detail = decoded.get("detail")
    if isinstance(detail, str):
        return "", detail
    if isinstance(detail, list):  # FastAPI validation errors: where and what, each
        return "", "; ".join(_validation_message(item) for item in detail)[:500]
    return "", orjson.dumps(decoded).decode()[:500]


def _validation_message(item: Any) -> str:
    if not isinstance(item, dict):
        return str(item)
    where = ".".join(str(part) for part in item.get("loc") or [])
    return f"{where}: {item.get('msg', '')}" if where else str(item.get("msg", ""))
