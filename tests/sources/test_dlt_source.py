"""The `tractian` dlt source in a user's own pipeline: configuration from dlt's config and
secrets, exactly-once into PostgreSQL across syncs with late data, failures that raise
unless a partial load is asked for, and no process-wide setting changed by importing."""

import ast
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dlt
import pytest
from dlt.pipeline.exceptions import PipelineStepFailed

from simulator import SimConfig, Simulator
from sources import tractian
from sources.errors import SourceFailures
from sources.warehouses import Warehouse
from tests.sources.conftest import assert_matches_truth, raw_rows, token_companies, utc

NOW = utc(2026, 11, 20, 12, 0)
REPO = Path(__file__).resolve().parents[2]
PERSISTENT = {"rate": 1.0, "count": 10**6}


@pytest.fixture
def sim():
    with Simulator(SimConfig(seed=11, days=3), now=NOW) as simulator:
        yield simulator


@pytest.fixture
def configured(sim, monkeypatch):
    """The source's settings as a user sets them: dlt config and secrets (here, env)."""
    monkeypatch.setenv("SOURCES__TRACTIAN__BASE_URL", sim.base_url)
    monkeypatch.setenv("SOURCES__TRACTIAN__API_TOKEN", sim.tokens["tobias"])
    return sim


def offline_component(sim):
    """A component whose gateway is offline at NOW, and when it reconnects."""
    ms = int(NOW.timestamp() * 1000)
    for component in sim.world.components(token_companies(sim, "tobias")):
        for begin, end in sim.world.gateway_outages(component.gateway_id, ms - 1, ms + 1):
            if begin <= ms < end:
                return component, datetime.fromtimestamp(end / 1000, UTC)
    pytest.fail("no gateway offline at the test's clock: pick another seed")


def samples_of(warehouse, component) -> int:
    table = "vibration_samples" if component.sensor_type == "vibration" else "energy_consumption"
    return raw_rows(warehouse, table).column("asset_id").to_pylist().count(component.id)


def test_a_users_pipeline_loads_exactly_once_into_postgres_across_syncs_with_late_data(
    configured, postgres_database, tmp_path
):
    sim = configured
    component, reconnect = offline_component(sim)

    # What a user writes (pipelines_dir only keeps the test's files in its tmp dir).
    pipeline = dlt.pipeline(
        "plant_raw",
        destination=dlt.destinations.postgres(postgres_database),
        dataset_name="tractian_raw",
        pipelines_dir=str(tmp_path),
    )
    first = pipeline.run(tractian())
    sim.set_now(reconnect + timedelta(minutes=1))
    second = pipeline.run(tractian())

    warehouse = Warehouse.from_url(postgres_database, pipelines_dir=tmp_path / "reader")
    truth = sim.ground_truth(token_companies(sim, "tobias"), NOW - timedelta(days=14))
    assert_matches_truth(warehouse, truth, "default")
    vibration = raw_rows(warehouse, "vibration_samples")
    late = [
        t
        for a, t in zip(*vibration.select(["asset_id", "sampled_at"]).columns, strict=True)
        if a.as_py() == component.id and t.as_py() > NOW - timedelta(hours=1)
    ]
    energy = raw_rows(warehouse, "energy_consumption")
    assert late or component.id in energy.column("asset_id").to_pylist()
    with warehouse.sql_client() as client:
        name = client.make_qualified_table_name("vibration_samples")
        with client.execute_query(f"SELECT DISTINCT _dlt_load_id FROM {name}") as cursor:
            load_ids = {row[0] for row in cursor.fetchall()}
    assert load_ids <= set(first.loads_ids) | set(second.loads_ids)
    assert load_ids & set(second.loads_ids), "the second sync added the late samples"


def test_companies_resolve_from_config(configured, monkeypatch, tmp_path):
    sim = configured
    monkeypatch.setenv("SOURCES__TRACTIAN__API_TOKEN", sim.tokens["all"])
    jaguar = next(c for c in token_companies(sim, "all") if c in token_companies(sim, "jaguar"))
    monkeypatch.setenv("SOURCES__TRACTIAN__COMPANIES", f'["{jaguar}"]')
    db = tmp_path / "w.duckdb"
    pipeline = Warehouse.duckdb_file(db).pipeline("mine")

    pipeline.run(tractian().with_resources("companies", "assets"))

    assert raw_rows(db, "companies").column("id").to_pylist() == [jaguar]
    assert set(raw_rows(db, "assets").column("company_id").to_pylist()) == {jaguar}


def test_a_failing_part_raises_at_the_end_and_nothing_loads_unless_partial(configured, tmp_path):
    sim = configured
    sim.set_fault("server_errors", route="events", **PERSISTENT)
    db = tmp_path / "w.duckdb"
    pipeline = Warehouse.duckdb_file(db).pipeline("mine")

    with pytest.raises(PipelineStepFailed) as failed:
        pipeline.run(tractian(start=NOW - timedelta(days=1)))

    causes = []
    error: BaseException | None = failed.value
    while error is not None:
        causes.append(error)
        error = error.__cause__ or error.__context__
    assert any(isinstance(c, SourceFailures) for c in causes), causes
    assert "events of company" in str(failed.value)
    assert not db.exists() or raw_rows(db, "assets").num_rows == 0
    assert "tractian" not in pipeline.state.get("sources", {})  # no state advanced

    info = pipeline.run(tractian(start=NOW - timedelta(days=1), allow_partial=True))

    assert info.loads_ids
    assert "tractian" in pipeline.state["sources"]
    assert raw_rows(db, "assets").num_rows > 0
    assert raw_rows(db, "events").num_rows == 0


def test_importing_the_project_changes_no_dlt_setting():
    script = (
        "import os; before = dict(os.environ)\n"
        "import sources, sources.pipeline, sources.source, transforms.warehouse.run\n"
        "import orchestration.definitions\n"
        "from sources import tractian\n"
        "keys = set(before) | set(os.environ)\n"
        "print(sorted(k for k in keys if before.get(k) != os.environ.get(k)))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SOURCES__", "EXTRACT__"))}
    env.pop("NORMALIZE__PARQUET_NORMALIZER__ADD_DLT_LOAD_ID", None)
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    changed = ast.literal_eval(out.stdout)
    # dlt reads its settings from variables named SECTION__KEY: importing sets none (polars
    # sets its allocator's own variable, which is not a setting of any pipeline).
    assert [k for k in changed if "__" in k] == [], changed
