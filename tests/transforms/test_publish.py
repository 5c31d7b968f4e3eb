"""The read copy: readers query it while syncs and transforms write the warehouse."""

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest

from tests.transforms.conftest import records, run
from tests.transforms.plant import COMPANY, energy_sample, load_plant, three
from tests.transforms.rawdb import RawWarehouse, load_id_at, ts

READER = textwrap.dedent(
    """
    import json, pathlib, sys, time
    import duckdb
    path, stop, mode = sys.argv[1], pathlib.Path(sys.argv[2]), sys.argv[3]
    conn = duckdb.connect(path, read_only=mode == "ro")
    if mode == "rw":
        conn.execute("SET checkpoint_threshold = '1TB'")
        conn.execute("CREATE TABLE clean.scratch AS SELECT 1 AS x")
    counts, errors = [], []
    print("ready", flush=True)
    while not stop.exists():
        try:
            counts.append(conn.sql("SELECT count(*) FROM clean.fct_vibration").fetchall()[0][0])
        except Exception as exc:
            errors.append(repr(exc))
        time.sleep(0.02)
    print(json.dumps({"counts": counts, "errors": errors}), flush=True)
    """
)


def vib(at: str) -> dict:
    return {
        "company_id": COMPANY,
        "asset_id": "V1",
        "sampled_at": ts(at),
        "powered": True,
        "vel_rms_x": 1.0,
        "temperature": 40.0,
    }


class Reader:
    """A separate process holding a connection to the read copy and querying it."""

    def __init__(self, path: Path, folder: Path, mode: str = "ro") -> None:
        self.stop = folder / f"stop-{mode}"
        self.process = subprocess.Popen(
            [sys.executable, "-c", READER, str(path), str(self.stop), mode],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout.readline().strip() == "ready", self.process.stderr.read()

    def finish(self) -> dict:
        self.stop.touch()
        out, err = self.process.communicate(timeout=60)
        assert self.process.returncode == 0, err
        return json.loads(out.strip().splitlines()[-1])


@pytest.fixture
def published(tmp_path) -> tuple[RawWarehouse, Path]:
    raw = RawWarehouse(tmp_path / "tractian.duckdb")
    load_plant(raw, load_id_at("2024-03-02 00:00"))
    raw.load(
        "vibration_samples",
        [vib(f"2024-03-01 {h:02d}:00") for h in range(10)],
        load_id_at("2024-03-02 00:00"),
    )
    report = run(raw, publish=True)
    assert report.read_copy == tmp_path / "tractian_read.duckdb"
    return raw, report.read_copy


def test_a_reader_keeps_querying_while_a_sync_and_a_transform_run(published, tmp_path):
    raw, copy = published
    reader = Reader(copy, tmp_path)
    try:
        raw.load(
            "vibration_samples",
            [vib(f"2024-03-01 {h:02d}:00") for h in range(10, 24)],
            load_id_at("2024-03-02 06:00"),
        )
        report = run(raw, publish=True)
    finally:
        seen = reader.finish()
    assert not report.up_to_date
    assert report.rebuilt_partitions == 1
    assert seen["errors"] == []
    assert len(seen["counts"]) > 0
    assert set(seen["counts"]) == {10}  # its connection keeps the copy it opened
    assert records(copy, "SELECT count(*) AS n FROM clean.fct_vibration") == [{"n": 24}]


def test_a_reader_holding_the_copy_read_write_does_not_block_a_transform(published, tmp_path):
    raw, copy = published
    reader = Reader(copy, tmp_path, mode="rw")
    try:
        raw.load("vibration_samples", [vib("2024-03-01 12:00")], load_id_at("2024-03-02 06:00"))
        report = run(raw, publish=True)
    finally:
        seen = reader.finish()
    assert seen["errors"] == []
    assert not report.up_to_date
    tables = records(copy, "SELECT table_name FROM duckdb_tables() WHERE table_name = 'scratch'")
    assert tables == []
    assert records(copy, "SELECT count(*) AS n FROM clean.fct_vibration") == [{"n": 11}]


def test_the_copy_holds_what_the_warehouse_holds_after_incremental_publishes(published):
    """Every quantity's energy facts too, whose clean names differ from the raw ones
    (`active-power` is `active_power`)."""
    raw, copy = published
    later = load_id_at("2024-03-03 06:00")
    raw.load("vibration_samples", [vib("2024-03-01 10:30"), vib("2024-03-03 01:00")], later)
    readings = {
        "active-power": 1500.0,
        "reactive-power": 400.0,
        "power-factor": 0.9,
        "current": 8.0,
    }
    at = "2024-03-03 01:00"
    phases = ("a", "b", "c")
    samples = [
        energy_sample(q, at, **three("average", phases, (v,) * 3)) for q, v in readings.items()
    ]
    raw.load("energy_samples", samples, later)
    run(raw, publish=True)
    assert records(copy, "SELECT count(*) AS n FROM clean.fct_energy") == [{"n": 12}]
    conn = duckdb.connect()
    conn.execute(f"ATTACH '{raw.path}' AS w (READ_ONLY)")
    conn.execute(f"ATTACH '{copy}' AS r (READ_ONLY)")
    tables = conn.sql(
        "SELECT schema_name || '.' || table_name FROM duckdb_tables() "
        "WHERE database_name = 'w' AND schema_name IN ('clean', 'marts', 'quarantine')"
    ).fetchall()
    assert len(tables) > 30
    for (table,) in tables:
        for a, b in (("w", "r"), ("r", "w")):
            diff = conn.sql(f"SELECT * FROM {a}.{table} EXCEPT ALL SELECT * FROM {b}.{table}")
            assert diff.fetchall() == [], table
    tags = conn.sql("SELECT tags FROM duckdb_databases() WHERE database_name = 'r'").fetchall()
    assert tags[0][0]["storage_version"].startswith("v1.0.0")
    conn.close()


def test_an_up_to_date_run_republishes_a_missing_copy(published):
    raw, copy = published
    copy.unlink()
    report = run(raw, publish=True)
    assert report.up_to_date
    assert copy.exists()
    assert records(copy, "SELECT count(*) AS n FROM clean.fct_vibration") == [{"n": 10}]


def test_a_run_after_an_upgrade_rebuilds_everything_and_republishes_the_whole_copy(published):
    """A new transform version (here: the warehouse's last run made by the one before)
    makes the next run a full one, which also rebuilds the read copy's private base: rows
    an older version failed to publish reach the readers."""
    raw, copy = published
    base = copy.with_name(f".{copy.stem}.base{copy.suffix}")
    with duckdb.connect(str(base)) as conn:  # rows an older version never published
        conn.execute("DELETE FROM clean.fct_vibration WHERE hour(sampled_at) >= 5")
    with duckdb.connect(str(raw.path)) as conn:
        conn.execute("UPDATE clean._transform_runs SET transform_version = transform_version - 1")

    report = run(raw, publish=True)

    assert report.full
    assert records(copy, "SELECT count(*) AS n FROM clean.fct_vibration") == [{"n": 10}]
