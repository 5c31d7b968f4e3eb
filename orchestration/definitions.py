"""The Dagster code location: `tractian-elt ui`, or `dg dev -w workspace.yaml`.

Connections (and so the partitions) are read from configuration when the code location
loads, never at import; reload the code location after adding a connection.
"""

import os
from collections.abc import Mapping, Sequence
from typing import Any

import dagster as dg

from orchestration.assets_raw import build_raw_assets
from orchestration.assets_transform import build_transform_assets
from orchestration.automation import JOBS, SCHEDULES, transforms_after_inputs
from orchestration.partitions import DEFAULT_START_DATE, build_partitions
from orchestration.resources import default_resources
from orchestration.sensors_connection import CONNECTION_SENSORS
from orchestration.sensors_failure import FAILURE_SENSORS
from sources.connections import connection_names as configured_connection_names

# First day of the telemetry partitions (ISO date).
START_DATE_ENV = "TRACTIAN_PARTITIONS_START"


def build_definitions(
    connection_names: Sequence[str] | None = None,
    *,
    resources: Mapping[str, Any] | None = None,
    start_date: str | None = None,
) -> dg.Definitions:
    """Every asset, check, job, schedule and sensor, for the given (default: configured)
    connections; `resources` replaces the default ones (tests point them at tmp files)."""
    names = list(configured_connection_names() if connection_names is None else connection_names)
    start = start_date or os.environ.get(START_DATE_ENV, DEFAULT_START_DATE)
    partitions = build_partitions(names, start)
    return dg.Definitions(
        assets=[*build_raw_assets(partitions), *build_transform_assets()],
        jobs=JOBS,
        schedules=SCHEDULES,
        sensors=[*CONNECTION_SENSORS, *FAILURE_SENSORS, transforms_after_inputs],
        resources=dict(resources) if resources is not None else default_resources(names),
    )


@dg.definitions
def defs() -> dg.Definitions:
    return build_definitions()
