"""`tractian-elt ui` for real: `dagster dev` on a free port with the demo simulator,
queried over GraphQL; a launched run must succeed; Ctrl-C must stop everything."""

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
import requests

from tests.webhooks.conftest import free_port

REPO = Path(__file__).resolve().parents[2]
LOCATION = "orchestration.definitions"
STARTUP_TIMEOUT_S = 120
RUN_TIMEOUT_S = 180

ASSETS = "{ assetNodes { assetKey { path } } }"
SENSORS = f"""{{ sensorsOrError(repositorySelector: {{repositoryLocationName: "{LOCATION}",
    repositoryName: "__repository__"}}) {{ ... on Sensors {{ results {{ name
    sensorState {{ status }} }} }} }} }}"""
LAUNCH = """mutation($p: ExecutionParams!) { launchRun(executionParams: $p) { __typename
    ... on LaunchRunSuccess { run { runId } } ... on PythonError { message } } }"""
STATUS = "query($id: ID!) { runOrError(runId: $id) { ... on Run { status } } }"


def graphql(port, query, **variables):
    url = f"http://127.0.0.1:{port}/graphql"
    response = requests.post(url, json={"query": query, "variables": variables}, timeout=30)
    response.raise_for_status()
    return response.json()["data"]


def wait_until(what, probe, timeout_s):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            value = probe()
        except requests.RequestException:
            value = None
        if value:
            return value
        time.sleep(1)
    pytest.fail(f"timed out waiting for {what}")


def environment_without_connections():
    prefixes = ("SOURCES__TRACTIAN__", "TRACTIAN_NOTIFY_", "DAGSTER_HOME")
    return {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}


def stop(ui, descendants):
    """Ctrl-C as a user would; then make sure nothing it started is left behind."""
    if ui.poll() is None:
        ui.send_signal(signal.SIGINT)
        try:
            ui.wait(timeout=60)
        except subprocess.TimeoutExpired:
            ui.kill()
    for process in descendants:
        if process.is_running():
            process.kill()


def assert_graph_and_sensors(port):
    keys = {"/".join(n["assetKey"]["path"]) for n in graphql(port, ASSETS)["assetNodes"]}
    assert {"tractian_raw/vibration_samples", "clean/dim_asset", "marts/asset_health_daily"} <= keys
    sensors = graphql(port, SENSORS)["sensorsOrError"]["results"]
    assert {s["name"]: s["sensorState"]["status"] for s in sensors} == {
        "connection_health": "RUNNING",
        "first_sync": "RUNNING",
        "notification_delivery": "RUNNING",
        "run_failure_alerts": "RUNNING",
        "transforms_after_inputs": "RUNNING",
        "webhook_inbox": "RUNNING",
    }


def launch_catalog_run(port):
    """Launch the demo connection's catalog sync of one table; its run id."""
    params = {
        "selector": {
            "repositoryLocationName": LOCATION,
            "repositoryName": "__repository__",
            "jobName": "catalog_sync",
            "assetSelection": [{"path": ["tractian_raw", "companies"]}],
        },
        "executionMetadata": {"tags": [{"key": "dagster/partition", "value": "demo"}]},
    }
    launched = graphql(port, LAUNCH, p=params)["launchRun"]
    assert launched["__typename"] == "LaunchRunSuccess", launched
    return launched["run"]["runId"]


@pytest.mark.slow
def test_given_no_connection_when_ui_starts_then_graph_sensors_and_a_run_work(tmp_path):
    shutil.copy(REPO / "workspace.yaml", tmp_path / "workspace.yaml")
    port = free_port()
    log = tmp_path / "ui.log"
    with log.open("w") as out:
        ui = subprocess.Popen(
            [sys.executable, "-m", "orchestration.cli", "ui", "--port", str(port)],
            cwd=tmp_path,
            env=environment_without_connections(),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    descendants = []
    try:
        wait_until("the GraphQL API", lambda: graphql(port, "{ version }"), STARTUP_TIMEOUT_S)
        descendants = psutil.Process(ui.pid).children(recursive=True)
        assert_graph_and_sensors(port)
        run_id = launch_catalog_run(port)

        def finished():
            status = graphql(port, STATUS, id=run_id)["runOrError"]["status"]
            return status if status in ("SUCCESS", "FAILURE", "CANCELED") else None

        assert wait_until("the run", finished, RUN_TIMEOUT_S) == "SUCCESS", log.read_text()[-3000:]
    finally:
        stop(ui, descendants)

    assert ui.returncode == 0
    assert (tmp_path / ".dagster_home" / "dagster.yaml").exists()
    simulator_url = re.search(r"simulator at (http://\S+) as 'demo'", log.read_text()).group(1)
    with pytest.raises(requests.ConnectionError):
        requests.get(simulator_url + "/health", timeout=2)
