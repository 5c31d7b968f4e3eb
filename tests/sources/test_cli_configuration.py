"""A configured connection from a shell, as the README documents it, on both profiles:
the environment variables, the companies setting, and what `status` reports."""

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from simulator import SimConfig, Simulator
from tests.sources.conftest import PROFILES, assert_matches_truth, token_companies

# The published API has no clock: a sync ends at the local one, so the simulated API's
# clock is the wall clock's minute here, as a real API's would be.
NOW = datetime.now(UTC).replace(second=0, microsecond=0)
START = NOW - timedelta(days=1)


@pytest.fixture(params=PROFILES)
def sim(request):
    with Simulator(SimConfig(seed=3, days=1), now=NOW, profile=request.param) as simulator:
        yield simulator


@pytest.fixture
def public_sim():
    with Simulator(SimConfig(seed=3, days=1), now=NOW, profile="public") as simulator:
        yield simulator


def configured_env(sim, tmp_path, **settings: str) -> dict[str, str]:
    """Connection `plant_a` in the environment only, as README's *Connecting* shows."""
    prefix = "SOURCES__TRACTIAN__CONNECTIONS__PLANT_A__"
    return {
        **os.environ,
        "HOME": str(tmp_path),
        "DLT_DATA_DIR": str(tmp_path),
        "SOURCES__TRACTIAN__CONNECTION_NAMES": "plant_a",
        f"{prefix}BASE_URL": sim.base_url,
        f"{prefix}API_TOKEN": sim.tokens["all"],
        **{f"{prefix}{key.upper()}": value for key, value in settings.items()},
    }


def tractian_elt(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "orchestration.cli", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)


def test_given_companies_in_the_environment_when_sync_then_exactly_those_load(sim, tmp_path):
    jaguar = token_companies(sim, "jaguar")[0]
    env = configured_env(sim, tmp_path, companies=jaguar)
    db = tmp_path / "w.duckdb"

    done = tractian_elt(
        "sync", "--db", str(db), "--start", START.isoformat(), "--no-transform", "--quiet", env=env
    )

    assert done.returncode == 0, done.stderr
    assert_matches_truth(db, sim.ground_truth([jaguar], START), "plant_a")


def test_given_no_companies_when_sync_then_the_published_api_needs_them_configured(
    public_sim, tmp_path
):
    sim = public_sim
    env = configured_env(sim, tmp_path)
    db = tmp_path / "w.duckdb"

    done = tractian_elt("sync", "--db", str(db), "--no-transform", "--quiet", env=env)

    assert done.returncode == 1
    assert "sources.tractian.connections.plant_a.companies" in done.stderr
    assert "SOURCES__TRACTIAN__CONNECTIONS__PLANT_A__COMPANIES" in done.stderr
    assert "Traceback" not in done.stderr
    assert sim.stats()["requests"] == 0  # stopped before any data request


def test_status_says_which_optional_endpoints_answered(sim, tmp_path):
    companies = ",".join(token_companies(sim, "all"))
    env = configured_env(sim, tmp_path, companies=companies)

    status = tractian_elt("status", env=env)

    assert status.returncode == 0, status.stderr
    answered = "yes" if sim.profile == "integration" else "no"
    assert f"/connection {answered}, /companies {answered}" in status.stdout
    assert status.stdout.startswith("plant_a: online")
    assert sim.tokens["all"] not in status.stdout + status.stderr


def test_given_revoked_token_when_status_then_invalid_token_and_exit_3(sim, tmp_path):
    env = configured_env(sim, tmp_path, companies=",".join(token_companies(sim, "all")))
    sim.set_fault("invalid_token")

    status = tractian_elt("status", env=env)

    assert status.returncode == 3
    assert status.stdout.startswith("plant_a: invalid_token")
    assert "Tractian support" in status.stdout
    assert sim.stats()["by_status"].get("401", 0) >= 1
