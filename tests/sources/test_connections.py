"""Connections from dlt config and secrets, and `tractian-elt status` against them."""

import os
import subprocess
import sys

import pytest
from dlt.common.configuration.container import Container
from dlt.common.configuration.specs.pluggable_run_context import PluggableRunContext

from simulator import SimConfig, Simulator
from sources.connections import ConnectionConfigError, connection_names, load_connection
from tests.sources.conftest import utc


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A project directory with its own .dlt folder and no inherited connection env, as a
    process started there sees it: dlt reads its settings files once and keeps them, so
    `read_settings` has it read this directory's (and the teardown the previous ones)."""
    for key in list(os.environ):
        if key.startswith(("SOURCES__TRACTIAN", "TRACTIAN_API_TOKEN")):
            monkeypatch.delenv(key)
    (tmp_path / ".dlt").mkdir()
    monkeypatch.chdir(tmp_path)
    previous = Container()[PluggableRunContext].context.run_dir
    read_settings(tmp_path)
    yield tmp_path
    read_settings(previous)


def read_settings(directory) -> None:
    """Have dlt (re)read the `.dlt` settings files of `directory`."""
    Container()[PluggableRunContext].reload(str(directory))


def test_connections_come_from_config_toml_and_secrets_from_env(project, monkeypatch):
    (project / ".dlt" / "config.toml").write_text(
        '[sources.tractian.connections.north]\nbase_url = "http://north"\n'
        'companies = ["c1", "c2"]\n'
        '[sources.tractian.connections.south]\nbase_url = "http://south"\n'
    )
    read_settings(project)
    monkeypatch.setenv("SOURCES__TRACTIAN__CONNECTIONS__NORTH__API_TOKEN", "tok-north")
    monkeypatch.setenv("SOURCES__TRACTIAN__CONNECTIONS__EAST__BASE_URL", "http://east")
    monkeypatch.setenv("SOURCES__TRACTIAN__CONNECTIONS__EAST__API_TOKEN", "tok-east")
    monkeypatch.setenv("SOURCES__TRACTIAN__CONNECTION_NAMES", "east")

    north = load_connection("north")

    assert connection_names() == ["east", "north", "south"]
    assert (north.base_url, north.token, north.company_ids) == (
        "http://north",
        "tok-north",
        ("c1", "c2"),
    )
    assert "tok-north" not in repr(north)
    assert load_connection("east").token == "tok-east"
    with pytest.raises(
        ConnectionConfigError,
        match=r"south.*api_token.*SOURCES__TRACTIAN__CONNECTIONS__SOUTH__API_TOKEN",
    ):
        load_connection("south")


def test_a_bad_connection_name_is_named_in_the_error(project):
    with pytest.raises(ConnectionConfigError, match="'Plant-A'"):
        load_connection("Plant-A")


def test_status_prints_each_connection_and_exits_3_when_one_needs_reauthorization(project):
    with Simulator(SimConfig(days=1), now=utc(2026, 11, 20, 12, 0)) as sim:
        (project / ".dlt" / "config.toml").write_text(
            f'[sources.tractian.connections.north]\nbase_url = "{sim.base_url}"\n'
            f'[sources.tractian.connections.south]\nbase_url = "{sim.base_url}"\n'
        )
        (project / ".dlt" / "secrets.toml").write_text(
            f'[sources.tractian.connections.north]\napi_token = "{sim.tokens["tobias"]}"\n'
            f'[sources.tractian.connections.south]\napi_token = "{sim.tokens["jaguar"]}"\n'
        )
        status = [sys.executable, "-m", "orchestration.cli", "status"]
        healthy = subprocess.run(status, capture_output=True, text=True, cwd=project)
        sim.set_fault("reauthorization_required", token="tobias")
        broken = subprocess.run(status, capture_output=True, text=True, cwd=project)

    assert healthy.returncode == 0, healthy.stderr
    assert "north: online" in healthy.stdout
    assert "south: online" in healthy.stdout
    assert broken.returncode == 3
    assert "north: reauthorization_required" in broken.stdout
    assert "south: online" in broken.stdout
    assert sim.tokens["tobias"] not in broken.stdout + broken.stderr
