"""`tractian-elt sync` as a user runs it: exit codes, kill -9 recovery, no leaked token."""

import os
import re
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from simulator import SimConfig, Simulator
from tests.sources.conftest import PROFILES, assert_matches_truth, token_companies

# A user's sync runs on the local clock where the API has none (the published API): the
# simulated API's clock is the wall clock's minute here, as a real API's would be.
NOW = datetime.now(UTC).replace(second=0, microsecond=0)
START = NOW - timedelta(days=2)


@pytest.fixture(params=PROFILES)
def sim(request):
    with Simulator(SimConfig(seed=3, days=2), now=NOW, profile=request.param) as simulator:
        yield simulator


def cli(
    sim, db: Path, *extra: str, start: datetime = START, transform: bool = False, token="all"
) -> list[str]:
    """The sync a user runs (its token in the environment: `env_with`); against the
    published API the companies of `token` must be given."""
    companies = ["--companies", ",".join(token_companies(sim, token))]
    return [
        sys.executable,
        "-m",
        "orchestration.cli",
        "sync",
        "--base-url",
        sim.base_url,
        "--db",
        str(db),
        "--start",
        start.isoformat(),
        *([] if transform else ["--no-transform"]),
        *(companies if sim.profile == "public" else []),
        *extra,
    ]


def env_with(token: str, home: Path) -> dict[str, str]:
    # A private HOME keeps dlt's global files inside the test's directory; quick retries.
    return {
        **os.environ,
        "TRACTIAN_API_TOKEN": token,
        "HOME": str(home),
        "DLT_DATA_DIR": str(home),
        "SOURCES__TRACTIAN__BACKOFF_BASE_S": "0.01",
        "SOURCES__TRACTIAN__BACKOFF_MAX_S": "0.05",
    }


def all_truth(sim):
    return sim.ground_truth([c["id"] for c in sim.world.companies], START)


# Kill recovery is the pipeline's, whatever API it reads: the customer's case only.
@pytest.mark.parametrize("sim", ["public"], indirect=True)
def test_given_kill_9_mid_extract_or_mid_load_when_rerun_then_ground_truth(sim, tmp_path):
    db = tmp_path / "warehouse" / "tractian.duckdb"
    token = sim.tokens["all"]
    env = env_with(token, tmp_path)
    # A first complete sync: a pipeline whose state was never saved discards what a
    # killed run extracted (nothing of it was committed), which would prove nothing here.
    # It reads the last 6 hours only, so that the killed syncs below have 42 more to load.
    recent = cli(sim, db, "--quiet", start=NOW - timedelta(hours=6))
    first = subprocess.run(recent, env=env, capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    sim.set_fault("slow", rate=0.02, seconds=0.3, count=1000)  # stretch the sync out

    victim = subprocess.Popen(cli(sim, db), env=env, start_new_session=True)
    _wait_for(lambda: sim.stats()["requests"] > 200, victim)
    os.killpg(victim.pid, signal.SIGKILL)
    victim.wait()
    sim.clear_faults()

    pipeline_dir = db.parent / ".dlt_pipelines" / "tractian_default"
    victim = subprocess.Popen(cli(sim, db), env=env, start_new_session=True)
    _wait_for(lambda: pending_packages(pipeline_dir), victim)
    os.killpg(victim.pid, signal.SIGKILL)
    victim.wait()
    pending = pending_packages(pipeline_dir)
    assert pending, "the kill left no pending load package: the recovery below proves nothing"

    done = subprocess.run(cli(sim, db, "--quiet"), env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert pending_packages(pipeline_dir) == set()
    with duckdb.connect(str(db), read_only=True) as conn:
        loaded = {row[0] for row in conn.sql(LOADED_PACKAGES).fetchall()}
    assert pending <= loaded, "the killed sync's package was not loaded by the next one"
    assert_matches_truth(db, all_truth(sim), "default")


@pytest.mark.parametrize("sim", ["public"], indirect=True)
def test_a_sync_transforms_what_it_loaded_and_a_failed_transform_keeps_the_load(sim, tmp_path):
    """Without `--no-transform` a sync rebuilds the clean tables and marts. When that
    fails (here: a malformed ISO configuration file), the raw load stays, exit 1 says
    why, and the next sync, with the file mended, transforms it."""
    db = tmp_path / "warehouse" / "tractian.duckdb"
    env = env_with(sim.tokens["jaguar"], tmp_path)
    iso_config = tmp_path / "iso.csv"
    iso_config.write_text("asset_id,machine_group,foundation\nany-asset,3,rigid\n")
    recent = NOW - timedelta(hours=6)
    sync_and_transform = cli(sim, db, "--quiet", start=recent, transform=True, token="jaguar")

    failed = subprocess.run(
        sync_and_transform,
        env={**env, "TRACTIAN_ISO_CONFIG": str(iso_config)},
        capture_output=True,
        text=True,
    )

    assert failed.returncode == 1, failed.stderr
    assert "transform failed (raw data is loaded)" in failed.stderr
    assert f"ISO config {iso_config} line 2" in failed.stderr
    assert "Traceback" not in failed.stderr
    truth = sim.ground_truth(token_companies(sim, "jaguar"), recent)
    assert_matches_truth(db, truth, "default")
    read_copy = db.with_name("tractian_read.duckdb")
    assert not read_copy.exists()

    done = subprocess.run(sync_and_transform, env=env, capture_output=True, text=True)

    assert done.returncode == 0, done.stderr
    with duckdb.connect(str(read_copy), read_only=True) as conn:
        clean, quarantined = (
            conn.sql(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("clean.fct_vibration", "quarantine.vibration_samples")
        )
        companies = conn.sql("SELECT count(*) FROM clean.dim_company").fetchone()[0]
    assert clean > 0
    assert clean + quarantined == truth["vibration_samples"].num_rows
    assert companies == truth["companies"].num_rows


LOADED_PACKAGES = "SELECT load_id FROM tractian_raw._dlt_loads WHERE status = 0"


def pending_packages(pipeline_dir: Path) -> set[str]:
    """Load ids of packages extracted or normalized but not loaded (dlt's folders)."""
    folders = (pipeline_dir / "normalize" / "extracted", pipeline_dir / "load" / "normalized")
    return {p.name for folder in folders if folder.exists() for p in folder.iterdir()}


def _wait_for(condition, process, timeout_s=120.0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        assert process.poll() is None, "the sync finished before the kill point"
        time.sleep(0.01)
    raise AssertionError("sync never reached the kill point")


def test_exit_codes_and_the_token_never_leaks(sim, tmp_path):
    db = tmp_path / "warehouse" / "tractian.duckdb"
    token = sim.tokens["tobias"]  # the company with every kind of record
    env = env_with(token, tmp_path)

    ok = subprocess.run(cli(sim, db, token="tobias"), env=env, capture_output=True, text=True)
    sim.set_fault("server_errors", route="events", rate=1.0)
    failed = subprocess.run(cli(sim, db, token="tobias"), env=env, capture_output=True, text=True)
    sim.clear_faults()
    # The published API has no reauthorization code: its 401 is a revoked token.
    fault = "reauthorization_required" if sim.profile == "integration" else "invalid_token"
    sim.set_fault(fault, token="tobias")
    reauth = subprocess.run(cli(sim, db, token="tobias"), env=env, capture_output=True, text=True)
    sim.clear_faults()
    no_token = subprocess.run(
        cli(sim, db, token="tobias"),
        env={**env, "TRACTIAN_API_TOKEN": ""},
        capture_output=True,
        text=True,
    )

    assert ok.returncode == 0, ok.stderr
    # progress per resource (not --quiet): streams done, rows, rows/s
    assert re.search(r"vibration_samples: \d+/\d+ streams, [\d,]+ rows, [\d,]+ rows/s", ok.stderr)
    assert failed.returncode == 1
    assert "events of company" in failed.stderr
    assert "what to do" in failed.stderr
    assert reauth.returncode == 3
    assert "'default'" in reauth.stderr
    assert fault in reauth.stderr
    what_to_do = "reauthorize" if sim.profile == "integration" else "ask Tractian support"
    assert what_to_do in reauth.stderr
    assert "Traceback" not in failed.stderr + reauth.stderr
    assert no_token.returncode == 1
    assert "TRACTIAN_API_TOKEN" in no_token.stderr
    assert "Traceback" not in no_token.stderr
    outputs = [p.stdout + p.stderr for p in (ok, failed, reauth, no_token)]
    assert not any(token in text for text in outputs)
    leaked = [p for p in tmp_path.rglob("*") if p.is_file() and token.encode() in p.read_bytes()]
    assert leaked == []
