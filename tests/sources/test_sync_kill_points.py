"""A sync killed at one exact point of dlt's extract step, then run again.

The CLI's kill -9 test kills at a random moment; this one kills where a real race was
seen: after dlt committed the extracted package (its schema holding tables new to this
sync) and before it saved the pipeline's schema. dlt's normalize then prefers the stored,
older schema and fails on the new tables, so every later sync of the connection failed.
"""

import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from simulator import SimConfig, Simulator
from sources import raw_schema as rs
from tests.sources.conftest import (
    assert_matches_truth,
    connection_for,
    published_clock,
    token_companies,
)
from tests.sources.test_sync_faults import NOW, START, sync_with

ASSET_TREE = ("companies", "locations", "assets")

# Runs one sync in a process of its own that kills itself (SIGKILL: no cleanup, no
# `finally`) the moment dlt has committed the extracted package.
KILLED_SYNC = """
import json, os, signal, sys
from datetime import datetime
from pathlib import Path

from dlt.extract.extract import Extract

from sources.connections import Connection
from sources.pipeline import sync

commit_packages = Extract.commit_packages


def commit_then_die(self):
    commit_packages(self)
    os.kill(os.getpid(), signal.SIGKILL)


Extract.commit_packages = commit_then_die
args = json.loads(sys.argv[1])
connection = Connection(
    args["name"], args["base_url"], os.environ["TRACTIAN_API_TOKEN"], tuple(args["companies"])
)
now = datetime.fromisoformat(args["now"]) if args["now"] else None
sync(connection, Path(args["db"]), start=datetime.fromisoformat(args["start"]), now=now,
     show_progress=False)
"""


@pytest.fixture
def sim():
    with Simulator(SimConfig(seed=5, days=2), now=NOW, profile="public") as simulator:
        yield simulator


def test_given_kill_after_package_commit_with_new_tables_when_rerun_then_ground_truth(
    sim, tmp_path
):
    db = tmp_path / "w.duckdb"
    sync_with(sim, db, resources=ASSET_TREE)  # the stored schema: the asset tree only
    pipeline_dir = db.parent / ".dlt_pipelines" / "tractian_plant"

    killed = run_killed_sync(sim, db)

    assert killed.returncode == -9, killed.stderr
    (package,) = (pipeline_dir / "normalize" / "extracted").iterdir()
    new_tables = tables(package / "schema.json") - tables(stored_schema(pipeline_dir))
    assert "vibration_samples" in new_tables, "the kill did not leave a newer package schema"

    sync_with(sim, db)

    assert not any(pipeline_dir.glob("normalize/extracted/*")), "the package is still pending"
    assert_matches_truth(db, sim.ground_truth(token_companies(sim, "jaguar"), START), "plant")


def run_killed_sync(sim, db: Path) -> subprocess.CompletedProcess:
    connection = connection_for(sim, "jaguar", "plant")
    now: datetime | None = published_clock(sim).get("now")
    args = {
        "name": connection.name,
        "base_url": connection.base_url,
        "companies": list(connection.company_ids),
        "db": str(db),
        "start": START.isoformat(),
        "now": now.isoformat() if now else None,
    }
    env = {**os.environ, "TRACTIAN_API_TOKEN": connection.token}
    return subprocess.run(
        [sys.executable, "-c", KILLED_SYNC, json.dumps(args)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def stored_schema(pipeline_dir: Path) -> Path:
    (path,) = (pipeline_dir / "schemas").glob("*.schema.json")
    return path


def tables(schema_file: Path) -> set[str]:
    names = set(json.loads(schema_file.read_text())["tables"])
    return names & set(rs.RAW_TABLES)
