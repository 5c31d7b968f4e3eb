"""`tractian-elt ui` for real: `dg dev` on a free port with the demo simulator, queried
over GraphQL. With nothing configured and nothing launched by hand, raw, clean and mart
assets must be materialized within two minutes of the UI answering (no schedule tick is
due that soon); Ctrl-C must stop everything."""

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
FIRST_DATA_S = 120  # the promise to a newcomer: data within two minutes
SETTLE_TIMEOUT_S = 180

ASSETS = "{ assetNodes { assetKey { path } } }"
SENSORS = f"""{{ sensorsOrError(repositorySelector: {{repositoryLocationName: "{LOCATION}",
    repositoryName: "__repository__"}}) {{ ... on Sensors {{ results {{ name
    sensorState {{ status }} }} }} }} }}"""
# The oldest materialization: `assetMaterializations` lists newest first, so ask for all.
MATERIALIZED = """query($path: [String!]!) { assetOrError(assetKey: {path: $path}) {
    ... on Asset { assetMaterializations { runId } } } }"""
RUNS = """{ runsOrError { ... on Runs { results { runId status tags { key value } } } } }"""
RAW_ASSETS = (["tractian_raw", "vibration_samples"], ["tractian_raw", "assets"])
FIRST_ASSETS = (
    *RAW_ASSETS,
    ["clean", "dim_asset"],
    ["clean", "fct_vibration"],
    ["marts", "asset_health_daily"],
)
UNFINISHED = {"QUEUED", "NOT_STARTED", "STARTING", "STARTED", "CANCELING"}


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


def materialized(port):
    """True once every asset of FIRST_ASSETS has a materialization."""
    for path in FIRST_ASSETS:
        asset = graphql(port, MATERIALIZED, path=path)["assetOrError"]
        if not asset.get("assetMaterializations"):
            return False
    return True


def runs(port):
    return graphql(port, RUNS)["runsOrError"]["results"]


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

        wait_until("raw, clean and mart data", lambda: materialized(port), FIRST_DATA_S)
        wait_until(
            "the first runs to finish",
            lambda: all(r["status"] not in UNFINISHED for r in runs(port)),
            SETTLE_TIMEOUT_S,
        )
        first = runs(port)
        assert {r["status"] for r in first} == {"SUCCESS"}, log.read_text()[-3000:]
        # The raw data came from runs the first_sync sensor requested, not from a schedule
        # tick (one may fall inside the test too: the schedules run on the wall clock).
        by_run = {r["runId"]: {t["key"]: t["value"] for t in r["tags"]} for r in first}
        for path in RAW_ASSETS:
            asset = graphql(port, MATERIALIZED, path=path)["assetOrError"]
            run_id = asset["assetMaterializations"][-1]["runId"]
            assert by_run[run_id].get("dagster/sensor_name") == "first_sync", path
    finally:
        stop(ui, descendants)

    assert ui.returncode == 0
    assert (tmp_path / ".dagster_home" / "dagster.yaml").exists()
    simulator_url = re.search(r"simulator at (http://\S+) as 'demo'", log.read_text()).group(1)
    with pytest.raises(requests.ConnectionError):
        requests.get(simulator_url + "/health", timeout=2)
