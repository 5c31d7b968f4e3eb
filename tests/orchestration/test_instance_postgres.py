"""Dagster past one machine, as far as it runs here: the instance on a real PostgreSQL
server (`dagster-postgres`) with a run queue of four, and the warehouse a DuckLake whose
catalog is on the same server. The code location's own jobs sync and transform; a
second instance, as another machine's daemon or webserver would open it, reads back the
runs and what they materialized."""

from dataclasses import replace
from pathlib import Path

import dagster as dg
import pytest

from sources.warehouses import Warehouse
from tests.orchestration.conftest import CONNECTION, make_stack
from tests.orchestration.test_assets import materialized
from transforms.warehouse.duckdb_io import opened

INSTANCE_YAML = """\
storage:
  postgres:
    postgres_url: "{url}"
concurrency:
  runs:
    max_concurrent_runs: 4
  pools:
    default_limit: 1
telemetry:
  enabled: false
"""


def instance_home(path: Path, database_url: str) -> Path:
    """A DAGSTER_HOME whose dagster.yaml puts the instance on PostgreSQL."""
    path.mkdir()
    url = database_url.replace("postgresql://", "postgresql+psycopg2://", 1)  # SQLAlchemy 2
    (path / "dagster.yaml").write_text(INSTANCE_YAML.format(url=url))
    return path


@pytest.fixture
def lake_stack(sim, tmp_path, monkeypatch, endpoint, postgres_server):
    lake_catalog = postgres_server.create_database("lake")
    monkeypatch.setenv("SOURCES__TRACTIAN__WAREHOUSE", "ducklake")
    monkeypatch.setenv("DESTINATION__DUCKLAKE__CREDENTIALS__CATALOG", lake_catalog)
    monkeypatch.setenv(
        "DESTINATION__DUCKLAKE__CREDENTIALS__STORAGE__BUCKET_URL", str(tmp_path / "lake")
    )
    home = instance_home(tmp_path / "dagster_home", postgres_server.create_database("dagster"))
    for stack in make_stack(sim, tmp_path, monkeypatch, endpoint):
        with dg.DagsterInstance.from_config(str(home)) as instance:
            yield replace(stack, instance=instance), home, lake_catalog


def test_given_the_instance_on_postgres_and_a_lake_then_runs_and_materializations_are_shared(
    lake_stack, tmp_path
):
    stack, home, lake_catalog = lake_stack
    assert type(stack.instance.run_storage).__name__ == "PostgresRunStorage"
    assert stack.instance.get_concurrency_config().run_queue_config.max_concurrent_runs == 4

    catalog = stack.run("catalog_sync", partition_key=CONNECTION)
    transform = stack.run_transform()

    assert catalog.success
    assert transform.success
    truth = stack.truth()
    assets_held = materialized(catalog)["tractian_raw/assets"]["dagster/row_count"]
    assert assets_held == truth["assets"].num_rows
    assert materialized(transform)["clean/dim_asset"]["dagster/row_count"] == assets_held
    # The tables are in the lake, not in a DuckDB file.
    assert not (stack.home / "tractian.duckdb").exists()
    lake = Warehouse.ducklake(lake_catalog, str(tmp_path / "lake"), tmp_path / "reader")
    with lake.duckdb_target() as target, opened(target) as conn:
        assert conn.sql("SELECT count(*) FROM clean.dim_asset").fetchall()[0][0] == assets_held

    with dg.DagsterInstance.from_config(str(home)) as elsewhere:
        runs = {run.run_id for run in elsewhere.get_runs()}
        assert {catalog.run_id, transform.run_id} <= runs
        event = elsewhere.get_latest_materialization_event(dg.AssetKey(["clean", "dim_asset"]))
        assert event is not None
        assert event.run_id == transform.run_id
