"""Millisecond time constants and the API's timestamp format `YYYY-MM-DDTHH:MM:SS.mmmZ`."""

from datetime import UTC, datetime
from functools import lru_cache

import numpy as np

MINUTE_MS = 60_000
HOUR_MS = 3_600_000
DAY_MS = 86_400_000
WEEK_MS = 7 * DAY_MS
# 1970-01-01 was a Thursday: (days + _EPOCH_WEEKDAY) % 7 gives Monday = 0.
_EPOCH_WEEKDAY = 3


# Lookup tables: formatting each timestamp with f-string padding is several times slower.
_HOUR_MINUTE = [f"T{h:02d}:{m:02d}:" for h in range(24) for m in range(60)]
_SECOND = [f"{s:02d}." for s in range(60)]
_MILLI = [f"{i:03d}Z" for i in range(1000)]


@lru_cache(maxsize=4096)
def _date(day: int) -> str:
    return f"{datetime.fromtimestamp(day * 86400, UTC):%Y-%m-%d}"


def iso8601(ms: int | None) -> str | None:
    """One timestamp in the API's format (None stays None)."""
    if ms is None:
        return None
    day, rest = divmod(ms, DAY_MS)
    minute, rest = divmod(rest, MINUTE_MS)
    second, milli = divmod(rest, 1000)
    return f"{_date(day)}{_HOUR_MINUTE[minute]}{_SECOND[second]}{_MILLI[milli]}"


def iso_list(ms: np.ndarray) -> list[str]:
    """Many timestamps in the API's format."""
    text = np.datetime_as_string(ms.astype("datetime64[ms]"), unit="ms", timezone="UTC")
    return text.tolist()


def weekday(ms: np.ndarray) -> np.ndarray:
    """Day of week, Monday = 0, in UTC."""
    return (ms // DAY_MS + _EPOCH_WEEKDAY) % 7


def ceil_div(a: int, b: int) -> int:
    return -((-a) // b)
