"""The Dagster layer against a real simulator, real DuckDB files and a real Dagster
instance in a tmp dir. Connection `plant` reads the simulator's small Jaguar company;
alerts go through the real signed notifier to a real local HTTP endpoint."""

import contextlib
import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from orchestration.definitions import build_definitions
from orchestration.resources import default_resources
from tests.conftest import SIM_NOW
from tests.webhooks.conftest import ScriptedEndpoint, new_secret

CONNECTION = "plant"
TOKEN = "jaguar"
START_DATE = "2025-05-20"
POOLS = {"concurrency": {"pools": {"default_limit": 1}}}
TRANSFORM_GROUPS = ("clean", "quarantine", "marts")


def connection_env(monkeypatch: pytest.MonkeyPatch, name: str, base_url: str, token: str) -> None:
    prefix = f"SOURCES__TRACTIAN__CONNECTIONS__{name.upper()}"
    monkeypatch.setenv(f"{prefix}__BASE_URL", base_url)
    monkeypatch.setenv(f"{prefix}__API_TOKEN", token)


@dataclass
class Stack:
    """Everything a test drives: simulator, definitions, instance and the alert endpoint."""

    sim: Any
    defs: dg.Definitions
    instance: dg.DagsterInstance
    resources: dict[str, Any]
    home: Path
    endpoint: ScriptedEndpoint
    notify_secret: str

    @property
    def db_path(self) -> Path:
        return Path(self.resources["warehouse"].db_path)

    def run(
        self, job: str, partition_key: str | None = None, **kwargs: Any
    ) -> dg.ExecuteInProcessResult:
        return self.defs.resolve_job_def(job).execute_in_process(
            instance=self.instance, partition_key=partition_key, **kwargs
        )

    def run_transform(self, **kwargs: Any) -> dg.ExecuteInProcessResult:
        graph = self.defs.resolve_asset_graph()
        keys = {k for k in graph.get_all_asset_keys() if k.path[0] in TRANSFORM_GROUPS}
        job = self.defs.resolve_implicit_global_asset_job_def().get_subset(asset_selection=keys)
        return job.execute_in_process(instance=self.instance, **kwargs)

    def tick(self, sensor: str, cursor: str | None = None) -> Any:
        """One evaluation of `sensor`, as the daemon would do it."""
        definition = self.defs.resolve_sensor_def(sensor)
        # Runs executed in process have no code location; a run-status sensor only
        # watches runs of its own location, so it gets none either.
        watches_runs = isinstance(definition, dg.RunStatusSensorDefinition)
        with dg.build_sensor_context(
            instance=self.instance,
            cursor=cursor,
            resources=self.resources,
            definitions=None if watches_runs else self.defs,
        ) as context:
            return definition.evaluate_tick(context)

    def schedule_tick(self, schedule: str, at: datetime) -> Any:
        return schedule_tick(self.defs, self.instance, self.resources, schedule, at)

    def alerts(self) -> list[tuple[str, dict[str, Any]]]:
        """(event type, data) of every notification queued, oldest first (plain SQL)."""
        outbox = self.resources["alerts"].outbox_path
        if not Path(outbox).exists():
            return []
        with contextlib.closing(sqlite3.connect(outbox)) as conn:
            rows = conn.execute("SELECT event_type, body FROM outbox ORDER BY rowid").fetchall()
        return [(kind, json.loads(body)["data"]) for kind, body in rows]

    def company_ids(self) -> list[str]:
        return list(self.sim.world.tokens[self.sim.tokens[TOKEN]].company_ids)

    def truth(self, start: datetime = SIM_NOW - timedelta(days=14)) -> dict[str, Any]:
        return self.sim.ground_truth(self.company_ids(), start)


def schedule_tick(
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    resources: dict[str, Any],
    schedule: str,
    at: datetime,
) -> Any:
    """One evaluation of `schedule` scheduled at `at`, as the daemon would do it."""
    with dg.build_schedule_context(
        instance=instance,
        scheduled_execution_time=at,
        resources=resources,
        repository_def=defs.get_repository_def(),
    ) as context:
        return defs.resolve_schedule_def(schedule).evaluate_tick(context)


@pytest.fixture
def sim(simulator_factory: Any) -> Any:
    from simulator import SimConfig

    return simulator_factory(SimConfig(days=2), rate_limit=None)


@pytest.fixture
def endpoint() -> Iterator[ScriptedEndpoint]:
    started = ScriptedEndpoint([200]).start()
    yield started
    started.stop()


def make_stack(
    sim: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    endpoint: ScriptedEndpoint,
    **resource_overrides: Any,
) -> Iterator[Stack]:
    connection_env(monkeypatch, CONNECTION, sim.base_url, sim.tokens[TOKEN])
    secret = new_secret()
    monkeypatch.setenv("TRACTIAN_NOTIFY_URL", endpoint.url)
    monkeypatch.setenv("TRACTIAN_NOTIFY_SECRET", secret)
    home = tmp_path / "warehouse"
    resources = default_resources([CONNECTION], home) | resource_overrides
    defs = build_definitions([CONNECTION], resources=resources, start_date=START_DATE)
    (tmp_path / "dagster").mkdir()
    with dg.instance_for_test(temp_dir=str(tmp_path / "dagster"), overrides=POOLS) as instance:
        yield Stack(sim, defs, instance, resources, home, endpoint, secret)


@pytest.fixture
def stack(sim: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, endpoint: Any) -> Any:
    yield from make_stack(sim, tmp_path, monkeypatch, endpoint)


def day(year: int, month: int, day_: int) -> datetime:
    return datetime(year, month, day_, tzinfo=UTC)
