"""A warehouse loaded under contract v1 (kW, kWh, `active_power`) keeps its rows, in v2's
names and units, and the next sync neither doubles nor loses a sample."""

from datetime import timedelta

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from simulator import SimConfig, Simulator
from sources import raw_schema as rs
from sources.pipeline import sync
from sources.raw_migrations import VERSION_TABLE, migrate
from tests.sources.conftest import (
    connection_for,
    fast_client,
    raw_rows,
    sorted_by_key,
    token_companies,
    utc,
)

NOW = utc(2026, 11, 20, 12, 0)
START = NOW - timedelta(days=1)


def v1_warehouse(db, energy_rows, consumption_rows):
    """Raw energy tables as a v1 connector left them, without the version table."""
    with duckdb.connect(str(db)) as conn:
        conn.execute(f"CREATE SCHEMA {rs.DATASET}")
        for table, rows in (
            (rs.ENERGY_SAMPLES, energy_rows),
            (rs.ENERGY_CONSUMPTION, consumption_rows),
        ):
            full = [{f.name: row.get(f.name) for f in table.schema} for row in rows]
            conn.register("v1", pa.Table.from_pylist(full, schema=table.schema))
            conn.execute(f"CREATE TABLE {rs.DATASET}.{table.name} AS SELECT * FROM v1")
            conn.unregister("v1")


def test_v1_rows_are_converted_once_hand_worked(tmp_path):
    db = tmp_path / "v1.duckdb"
    at = utc(2025, 1, 1)
    key = {"connection_name": "plant", "company_id": "c1", "asset_id": "a1", "sampled_at": at}
    v1_warehouse(
        db,
        [
            {**key, "quantity": "active_power", "average_a": 1.5, "maximum_c": 2.25},
            {**key, "quantity": "power_factor", "average_a": 0.8},
            {**key, "quantity": "current", "average_a": 12.5},
        ],
        [{**key, "consumption": 2.5, "accumulated_consumption": 10.0, "forecast": False}],
    )

    done = migrate(db)
    again = migrate(db)

    assert len(done) == 2
    assert again == []  # the version row makes it once only: 1500 W stays 1500 W
    with duckdb.connect(str(db), read_only=True) as conn:
        energy = conn.sql(
            f"SELECT quantity, average_a, maximum_c FROM {rs.DATASET}.energy_samples "
            "ORDER BY quantity"
        ).fetchall()
        consumption = conn.sql(
            f"SELECT consumption, accumulated_consumption FROM {rs.DATASET}.energy_consumption"
        ).fetchall()
        version = conn.sql(f"SELECT version FROM {VERSION_TABLE}").fetchall()
    assert energy == [
        ("active-power", 1500.0, 2250.0),
        ("current", 12.5, None),
        ("power-factor", 0.8, None),
    ]
    assert consumption == [(2500.0, 10000.0)]
    assert version == [(2,)]


def test_a_fresh_warehouse_is_v2_from_the_start(tmp_path):
    db = tmp_path / "new.duckdb"
    assert migrate(db) == []
    with duckdb.connect(str(db), read_only=True) as conn:
        assert conn.sql(f"SELECT version FROM {VERSION_TABLE}").fetchall() == [(2,)]


@pytest.fixture
def sim():
    with Simulator(SimConfig(seed=5, days=1), now=NOW) as simulator:
        yield simulator


def test_given_v1_warehouse_when_sync_then_every_sample_is_kept_once_in_v2_units(sim, tmp_path):
    db = tmp_path / "w.duckdb"
    connection = connection_for(sim, "jaguar")
    client = fast_client(connection)
    sync(connection, db, start=START, client=client, show_progress=False)
    with duckdb.connect(str(db)) as conn:  # what a v1 connector would have stored
        conn.execute(f"DROP TABLE {VERSION_TABLE}")
        conn.execute(
            f"""UPDATE {rs.DATASET}.energy_samples SET quantity = 'active_power',
                average_a = average_a / 1000, average_b = average_b / 1000,
                average_c = average_c / 1000, minimum_a = minimum_a / 1000,
                minimum_b = minimum_b / 1000, minimum_c = minimum_c / 1000,
                maximum_a = maximum_a / 1000, maximum_b = maximum_b / 1000,
                maximum_c = maximum_c / 1000 WHERE quantity = 'active-power'"""
        )
        conn.execute(
            f"""UPDATE {rs.DATASET}.energy_consumption SET consumption = consumption / 1000,
                accumulated_consumption = accumulated_consumption / 1000"""
        )

    report = sync(connection, db, start=START, client=client, show_progress=False)

    assert len(report.migrated) == 2
    truth = sim.ground_truth(token_companies(sim, "jaguar"), START)
    for name, columns in (
        ("energy_samples", ["average_a", "maximum_c"]),
        ("energy_consumption", ["consumption", "accumulated_consumption"]),
    ):
        loaded = sorted_by_key(raw_rows(db, name).drop_columns(["connection_name"]), name)
        expected = sorted_by_key(truth[name], name)
        assert loaded.num_rows == expected.num_rows, f"{name}: a sample lost or doubled"
        keys = [k for k in rs.RAW_TABLES[name].primary_key if k != "connection_name"]
        assert loaded.select(keys).to_pylist() == expected.select(keys).to_pylist()
        for column in columns:
            got = loaded.column(column).to_numpy(zero_copy_only=False).astype(float)
            want = expected.column(column).to_numpy(zero_copy_only=False).astype(float)
            assert np.allclose(got, want, rtol=1e-9, equal_nan=True), f"{name}.{column}"
