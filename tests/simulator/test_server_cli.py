"""`tractian-elt simulator` as a user runs it: a real process serving on a free port,
one-line errors for bad options, and `simulator ground-truth` writing parquet files."""

import queue
import re
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime

import pyarrow.parquet as pq
import pytest
import requests

from orchestration.cli import main
from simulator import SimConfig, Simulator
from sources.raw_schema import RAW_TABLES
from tests.simulator.server_helpers import company_id, free_port

NOW = "2025-06-02T12:00:00Z"


def _lines_of(process):
    """A queue receiving the process's stdout lines as they come."""
    lines = queue.Queue()

    def pump():
        for line in process.stdout:
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    return lines


def _read_banner(lines, timeout=30.0):
    banner = []
    deadline = time.monotonic() + timeout
    while not banner or not banner[-1].startswith("controls:"):
        banner.append(lines.get(timeout=max(0.1, deadline - time.monotonic())))
    return banner


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_the_simulator_command_serves_until_signalled(stop_signal):
    port = free_port()
    command = [sys.executable, "-m", "orchestration.cli", "simulator", "--port", str(port)]
    argv = [*command, "--now", NOW, "--days", "2", "--fault", "server_errors:count=1,statuses=503"]
    with subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as process:
        try:
            banner = _read_banner(_lines_of(process))
            base_url = re.search(r"http://\S+", banner[0]).group(0)
            tokens = dict(
                re.fullmatch(r"token (\S+) \(.*\): (\S+)\n", line).groups() for line in banner[1:-1]
            )
            health = requests.get(base_url + "/health", timeout=5)
            auth = {"Authorization": f"Bearer {tokens['all']}"}
            failed = requests.get(base_url + "/companies", headers=auth, timeout=5)
            companies = requests.get(base_url + "/companies", headers=auth, timeout=5)
            process.send_signal(stop_signal)
            code = process.wait(timeout=15)
            errors = process.stderr.read()
        finally:
            if process.poll() is None:
                process.kill()

    assert base_url == f"http://127.0.0.1:{port}"
    assert "integration profile" in banner[0]
    assert set(tokens) == {"all", "jaguar", "tobias", "apex"}
    assert health.json() == {"status": "ok", "version": "v1"}
    assert failed.status_code == 503
    assert {c["name"] for c in companies.json()} == {"Jaguar", "Tobias", "Apex"}
    assert code == 0
    assert errors == ""


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["--scale", "0"], "--scale"),
        (["--days", "-1"], "--days"),
        (["--now", "last tuesday"], "--now"),
        (["--fault", "meteor"], "--fault"),
        (["--fault", "slow:seconds=soon"], "--fault"),
        (["--port", "http"], "--port"),
        (["--speed", "-2"], "--speed"),
        (["--profile", "partner"], "--profile"),
        (["ground-truth", "--profile", "partner"], "--profile"),
    ],
)
def test_a_bad_option_exits_2_with_one_line_naming_it(capsys, argv, named):
    with pytest.raises(SystemExit) as exited:
        main(["simulator", *argv])

    assert exited.value.code == 2
    last_line = capsys.readouterr().err.strip().splitlines()[-1]
    assert named in last_line
    assert "error" in last_line


def test_a_webhook_url_without_the_secret_exits_2_naming_the_variable(capsys, monkeypatch):
    monkeypatch.delenv("TRACTIAN_SIMULATOR_WEBHOOK_SECRET", raising=False)

    code = main(["simulator", "--port", "0", "--webhook-url", "http://127.0.0.1:9/hooks"])

    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1
    assert "TRACTIAN_SIMULATOR_WEBHOOK_SECRET" in err


def test_ground_truth_writes_one_parquet_per_raw_table(tmp_path, capsys):
    start = "2025-06-01T00:00:00Z"
    argv = ["simulator", "--seed", "3", "ground-truth", "--companies", "Jaguar,Tobias"]

    code = main([*argv, "--start", start, "--now", NOW, "--days", "2", "--out", str(tmp_path)])

    assert code == 0
    assert {p.stem for p in tmp_path.glob("*.parquet")} == set(RAW_TABLES)
    unstarted = Simulator(SimConfig(seed=3, days=2), now=datetime(2025, 6, 2, 12, tzinfo=UTC))
    expected = unstarted.ground_truth(
        [company_id("Jaguar"), company_id("Tobias")], datetime(2025, 6, 1, tzinfo=UTC)
    )
    for name, table in expected.items():
        assert pq.read_table(tmp_path / f"{name}.parquet").equals(table), name


def test_the_public_profile_serves_only_the_published_api():
    port = free_port()
    argv = [sys.executable, "-m", "orchestration.cli", "simulator", "--port", str(port)]
    argv += ["--now", NOW, "--days", "1", "--profile", "public"]
    with subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as process:
        try:
            banner = _read_banner(_lines_of(process))
            line = next(line for line in banner if line.startswith("token jaguar "))
            token = line.rsplit(": ", 1)[1].strip()
            base_url = f"http://127.0.0.1:{port}"
            auth = {"Authorization": f"Bearer {token}"}
            health = requests.get(base_url + "/health", timeout=5)
            companies = requests.get(base_url + "/companies", headers=auth, timeout=5)
            path = f"/companies/{company_id('Jaguar')}/assets"
            assets = requests.get(base_url + path, headers=auth, timeout=5)
            state = requests.get(base_url + "/_sim/state", timeout=5).json()
            process.send_signal(signal.SIGTERM)
            code = process.wait(timeout=15)
        finally:
            if process.poll() is None:
                process.kill()

    assert "public profile" in banner[0]
    assert (health.status_code, companies.status_code) == (404, 404)
    assert companies.json() == {"detail": "Not Found"}
    assert assets.status_code == 200
    assert "total" not in assets.json()
    assert state["profile"] == "public"
    assert code == 0


@pytest.mark.parametrize(
    "where", [["--profile", "public", "ground-truth"], ["ground-truth", "--profile", "public"]]
)
def test_ground_truth_follows_the_profile_given_before_or_after_the_subcommand(tmp_path, where):
    argv = ["simulator", "--seed", "3", *where, "--companies", "Tobias", "--days", "1"]

    code = main([*argv, "--start", "2025-06-02T00:00:00Z", "--now", NOW, "--out", str(tmp_path)])

    assert code == 0
    unstarted = Simulator(
        SimConfig(seed=3, days=1), now=datetime(2025, 6, 2, 12, tzinfo=UTC), profile="public"
    )
    expected = unstarted.ground_truth([company_id("Tobias")], datetime(2025, 6, 2, tzinfo=UTC))
    for name, table in expected.items():
        assert pq.read_table(tmp_path / f"{name}.parquet").equals(table), name
    companies = pq.read_table(tmp_path / "companies.parquet").to_pylist()
    assert companies == [{"id": company_id("Tobias"), "name": None}]
    detected = pq.read_table(tmp_path / "asset_sensor_types.parquet").column("detected_by")
    assert set(detected.to_pylist()) == {"probe"}


def test_ground_truth_names_an_unknown_company(tmp_path, capsys):
    argv = ["simulator", "ground-truth", "--companies", "Acme", "--start", NOW]

    code = main([*argv, "--now", NOW, "--days", "1", "--out", str(tmp_path)])

    assert code == 2
    assert "Acme" in capsys.readouterr().err
