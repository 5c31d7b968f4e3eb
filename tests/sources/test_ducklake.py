"""The DuckLake warehouse: several connections sync into one lake at once, each as
`tractian-elt sync` in its own process, while a reader attaches the lake read-only; the
transforms build on the lake the same tables they build on the DuckDB file.

The catalog is a database on the session's real PostgreSQL server; the data files are
in the test's directory. The backend is switched by the one setting a user sets.
"""

import os
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from polars.testing import assert_frame_equal

from simulator import SimConfig, Simulator
from sources import duckdb_extensions
from sources.connections import Connection
from sources.pipeline import sync
from sources.warehouses import Warehouse
from tests.sources.conftest import assert_matches_truth, token_companies
from transforms.models import MODELS
from transforms.warehouse.duckdb_io import fetch
from transforms.warehouse.run import transform

NOW = datetime.now(UTC).replace(second=0, microsecond=0)  # the CLI syncs up to the local clock
START = NOW - timedelta(days=14)  # the connector's default backfill
CLI = (sys.executable, "-m", "orchestration.cli")


@pytest.fixture
def sim():
    with Simulator(SimConfig(seed=3, days=2), now=NOW, profile="public") as simulator:
        yield simulator


def lake_env(
    catalog: str, lake_dir: Path, sim, connections: list[tuple[str, str]]
) -> dict[str, str]:
    """What a user sets: the backend switch, the lake's catalog and data path, and each
    (token name, connection name) as a connection to the published API."""
    env = {
        **os.environ,
        "HOME": str(lake_dir.parent),  # DuckDB installs its extensions under HOME
        "SOURCES__TRACTIAN__WAREHOUSE": "ducklake",
        "DESTINATION__DUCKLAKE__CREDENTIALS__CATALOG": catalog,
        "DESTINATION__DUCKLAKE__CREDENTIALS__STORAGE__BUCKET_URL": str(lake_dir),
    }
    for token_name, name in connections:
        prefix = f"SOURCES__TRACTIAN__CONNECTIONS__{name.upper()}__"
        env[prefix + "BASE_URL"] = sim.base_url
        env[prefix + "API_TOKEN"] = sim.tokens[token_name]
        env[prefix + "COMPANIES"] = ",".join(token_companies(sim, token_name))
    return env


def attach_read_only(catalog: str) -> duckdb.DuckDBPyConnection:
    """A reader as the README shows it: the lake attached read-only from its catalog
    (which the first sync creates)."""
    duckdb_extensions.install("ducklake", "postgres_scanner")
    conn = duckdb.connect()
    dsn = catalog.replace("postgresql://", "postgres://", 1)
    conn.execute(
        f"ATTACH 'ducklake:postgres:{dsn}' AS tractian (READ_ONLY, METADATA_SCHEMA 'tractian')"
    )
    return conn


class Reader(threading.Thread):
    """Queries the lake until stopped: row counts seen, and any snapshot in which a
    merged table held a key twice or lost one (a merge seen half-done)."""

    def __init__(self, catalog: str) -> None:
        super().__init__(daemon=True)
        self.catalog = catalog
        self.counts: list[int] = []
        self.asset_keys: list[int] = []
        self.torn: list[str] = []
        self.errors: list[str] = []
        self.stop = threading.Event()

    def run(self) -> None:
        conn = None
        while conn is None and not self.stop.wait(0.2):
            try:
                conn = attach_read_only(self.catalog)
            except duckdb.InvalidInputException:
                continue  # no lake yet: the first sync creates it
        if conn is None:
            return
        try:
            while not self.stop.wait(0.2):
                try:
                    self._look(conn)
                except duckdb.CatalogException:
                    continue  # the tables are not created yet
                except duckdb.Error as exc:
                    self.errors.append(str(exc))
        finally:
            conn.close()

    def _look(self, conn: duckdb.DuckDBPyConnection) -> None:
        conn.execute("BEGIN TRANSACTION")  # one snapshot for both queries
        try:
            samples = conn.sql("SELECT count(*) FROM tractian.tractian_raw.vibration_samples")
            assets = conn.sql(
                "SELECT count(*), count(DISTINCT (connection_name, id)) "
                "FROM tractian.tractian_raw.assets"
            )
            self.counts.append(samples.fetchall()[0][0])
            total, distinct = assets.fetchall()[0]
            self.asset_keys.append(distinct)
        finally:
            conn.execute("COMMIT")
        if total != distinct:
            self.torn.append(f"assets: {total} rows, {distinct} keys")


@pytest.mark.slow
def test_four_connections_sync_at_once_into_one_lake_while_a_reader_watches(
    sim, postgres_database, tmp_path
):
    # Four connections, two per company (the small ones: Apex alone is 14,617 assets).
    connections = [(token, f"c_{token}_{i}") for token in ("tobias", "jaguar") for i in (1, 2)]
    env = lake_env(postgres_database, tmp_path / "lake", sim, connections)
    reader = Reader(postgres_database)
    reader.start()
    processes = {
        name: subprocess.Popen(
            [*CLI, "sync", "--connection", name, "--no-transform", "--quiet"],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _, name in connections
    }
    outputs = {name: p.communicate(timeout=300)[0] for name, p in processes.items()}
    reader.stop.set()
    reader.join(timeout=30)

    for name, process in processes.items():
        assert process.returncode == 0, f"{name}:\n{outputs[name]}"
    assert postgres_database.split("@")[0].split(":")[-1] not in "".join(outputs.values())
    lake = Warehouse.ducklake(postgres_database, str(tmp_path / "lake"), tmp_path / "reader")
    for token_name, name in connections:
        truth = sim.ground_truth(token_companies(sim, token_name), START)
        assert_matches_truth(lake, truth, name)
    # The reader queried throughout, saw the syncs' commits arrive one snapshot at a
    # time, never a merge half-done, and was never blocked out.
    assert reader.errors == []
    assert reader.torn == []
    assert reader.counts == sorted(reader.counts)
    # a merge seen half-done would have lost keys: never fewer than a snapshot before
    assert reader.asset_keys == sorted(reader.asset_keys)
    assert len(set(reader.counts)) > 2

    # The same setting takes `tractian-elt transform` to the lake.
    done = subprocess.run(
        [*CLI, "transform"], cwd=tmp_path, env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    companies = {c for token, _ in connections for c in token_companies(sim, token)}
    assets = sum(len(sim.world.assets(c)) for c in companies)
    with lake.duckdb_target() as conn:  # two connections per company: one row per asset
        assert conn.sql("SELECT count(*) FROM clean.dim_asset").fetchall()[0][0] == assets
    assert not (tmp_path / "warehouse" / "tractian.duckdb").exists()


def test_the_lake_without_its_catalog_is_refused_by_name(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCES__TRACTIAN__WAREHOUSE", "ducklake")
    monkeypatch.delenv("DESTINATION__DUCKLAKE__CREDENTIALS__CATALOG", raising=False)
    done = subprocess.run(
        [*CLI, "transform"], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert done.returncode == 1
    assert "DESTINATION__DUCKLAKE__CREDENTIALS__CATALOG" in done.stderr


def test_transforms_on_the_lake_build_the_tables_they_build_on_the_file(
    postgres_database, tmp_path
):
    now = datetime(2025, 6, 20, 12, tzinfo=UTC)  # a past month: no KPI runs to the wall clock
    lake = Warehouse.ducklake(postgres_database, str(tmp_path / "lake"), tmp_path / "pipelines")
    file = Warehouse.duckdb_file(tmp_path / "warehouse" / "tractian.duckdb")
    with Simulator(SimConfig(seed=11, days=1), now=now, profile="public") as sim:
        companies = tuple(token_companies(sim, "tobias"))
        connection = Connection("plant", sim.base_url, sim.tokens["tobias"], companies)
        for moment in (now, now + timedelta(hours=6)):  # a full build, then an incremental one
            if moment != now:
                sim.advance(moment - now)
            reports = {}
            for warehouse in (file, lake):
                sync(connection, warehouse, now=moment, show_progress=False)
                with warehouse.duckdb_target() as target:
                    reports[warehouse.label] = transform(target, publish=False)
            on_file, on_lake = reports[file.label], reports[lake.label]
            assert (on_lake.full, on_lake.rows) == (on_file.full, on_file.rows)
            assert on_lake.rows["clean.fct_vibration"] > 1000
            assert_same_tables(file, lake)
        assert not on_lake.full  # the second build was incremental on both


def assert_same_tables(file: Warehouse, lake: Warehouse) -> None:
    """Every clean, quarantine and mart table holds the same rows on both backends, but
    for the columns saying when and by which load (two loads, two transform runs)."""
    with (
        duckdb.connect(str(file.db_path), read_only=True) as on_file,
        lake.duckdb_target() as on_lake,
    ):
        for name in MODELS:
            columns = fetch(on_file, f"SELECT * FROM {name} LIMIT 0").columns
            kept = [c for c in columns if c not in ("_dlt_load_id", "quarantined_at")]
            quoted = ", ".join(f'"{c}"' for c in kept)
            query = f"SELECT {quoted} FROM {name} ORDER BY ALL"
            # Floats to 1e-9: sums may add the same values in another order.
            assert_frame_equal(fetch(on_file, query), fetch(on_lake, query), rel_tol=1e-9)


def test_an_unreachable_catalog_fails_the_sync_without_showing_its_password(sim, tmp_path):
    env = lake_env("postgresql://loader:s3cret-pw@127.0.0.1:1/lake", tmp_path / "lake", sim, [])
    env |= {"TRACTIAN_API_TOKEN": sim.tokens["jaguar"]}
    companies = ",".join(token_companies(sim, "jaguar"))
    done = subprocess.run(
        [*CLI, "sync", "--base-url", sim.base_url, "--companies", companies, "--quiet"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert "127.0.0.1:1" in done.stderr  # the cause is named...
    assert "s3cret-pw" not in done.stdout + done.stderr  # ...its password is not
