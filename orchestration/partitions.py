"""Partitions: connections (static, from configuration at load time) and UTC days.

Connections are a static dimension: they change with configuration, and a change of
configuration is a code-location reload anyway. Telemetry is partitioned by
connection × day, so a backfill of any range is one click; catalog tables by
connection only (a catalog sync reads snapshots and windows kept in state, not days).
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import dagster as dg

CONNECTION, DAY = "connection", "day"
DEFAULT_START_DATE = "2025-01-01"

Window = tuple[datetime, datetime]


@dataclass(frozen=True)
class Partitions:
    """The partition definitions every asset, job and schedule shares."""

    connections: dg.StaticPartitionsDefinition
    telemetry: dg.MultiPartitionsDefinition

    @property
    def connection_names(self) -> list[str]:
        return list(self.connections.get_partition_keys())


def build_partitions(connection_names: Sequence[str], start_date: str) -> Partitions:
    """Connection partitions for `connection_names`; days from `start_date` through today."""
    connections = dg.StaticPartitionsDefinition(list(connection_names))
    # end_offset=1: today's partition exists while the day is still running.
    days = dg.DailyPartitionsDefinition(start_date=start_date, end_offset=1, timezone="UTC")
    return Partitions(
        connections, dg.MultiPartitionsDefinition({CONNECTION: connections, DAY: days})
    )


def telemetry_key(connection: str, day: date) -> dg.MultiPartitionKey:
    return dg.MultiPartitionKey({CONNECTION: connection, DAY: day.isoformat()})


def split_key(partition_key: str) -> tuple[str, date]:
    """(connection, day) of a telemetry partition key."""
    # Multi-partition keys join their dimensions in name order: "connection|day".
    connection, day = str(partition_key).split("|")
    return connection, date.fromisoformat(day)


def day_window(day: date) -> Window:
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return start, start + timedelta(days=1)


def windows_by_connection(partition_keys: Iterable[str]) -> dict[str, list[Window]]:
    """Per connection, its partitions' days merged into contiguous [start, end) windows."""
    days: dict[str, set[date]] = {}
    for key in partition_keys:
        connection, day = split_key(key)
        days.setdefault(connection, set()).add(day)
    return {name: _contiguous(sorted(found)) for name, found in sorted(days.items())}


def _contiguous(days: list[date]) -> list[Window]:
    windows: list[Window] = []
    for day in days:
        start, end = day_window(day)
        if windows and windows[-1][1] == start:
            windows[-1] = (windows[-1][0], end)
        else:
            windows.append((start, end))
    return windows
