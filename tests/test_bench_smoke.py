"""The benchmark harness end to end at a tiny scale, so that `make bench` cannot rot.

`python -m bench --quick` syncs one small company with a day of history; its results
file must hold every scenario, with figures that agree with what the simulator serves
(its model, not the harness, gives the expected samples and windows). Speed is not
asserted here: that is the harness's own job.
"""

import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from bench.__main__ import QUICK
from bench.scenarios import NOW
from sources.simulator.clock import to_ms
from sources.simulator.ground_truth_telemetry import energy_tables, vibration_tables
from sources.simulator.world import SimConfig, World

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
STEADY = timedelta(minutes=15)


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("bench") / "latest.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--out", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "| B1 backfill" in done.stdout
    return json.loads(out.read_text())


@pytest.fixture(scope="module")
def world() -> World:
    return World(SimConfig(seed=7, days=QUICK["days"], scale=QUICK["scale"]), to_ms(NOW))


def quick_components(world: World) -> list:
    token = next(t for t in world.tokens.values() if t.name == QUICK["token"])
    return world.components(token.company_ids)


def samples_as_of(world: World, as_of: timedelta) -> int:
    """Telemetry rows a perfect 14-day backfill holds at NOW + `as_of`."""
    components = quick_components(world)
    start, end = to_ms(NOW - timedelta(days=14)), to_ms(NOW + as_of)
    tables = vibration_tables(world, components, start, end)
    tables |= energy_tables(world, components, start, end)
    return sum(table.num_rows for table in tables.values())


def streams(world: World) -> int:
    """vibration + rotation per vibration component; four quantities + consumption per energy."""
    per_type = {"vibration": 2, "energy": 5}
    return sum(per_type[c.sensor_type] for c in quick_components(world))


def test_every_scenario_and_target_is_reported(results):
    assert {"B1", "B2", "B3", "B4", "B5", "machine", "config"} <= results.keys()
    assert len(results["targets"]) == 8
    assert results["machine"]["cpus"] >= 1


def test_backfill_contenders_load_exactly_what_the_simulator_serves(results, world):
    b1 = results["B1"]
    expected = samples_as_of(world, timedelta(0))
    assert expected > 1_000
    for run in b1["a"] + b1["b"]:
        assert run["samples"] == expected
        assert run["telemetry_requests"] == 2 * streams(world)  # 14 days: two 7-day windows
        assert run["samples_per_s"] > 0
    assert 0 < b1["c"]["samples"] < expected  # the naive peer syncs a slice
    assert b1["a_over_b"] > 0
    assert b1["a_over_c"] > 0


def test_steady_state_reads_one_window_per_stream_and_catches_up(results, world):
    b2 = results["B2"]
    assert b2["windows_needed"] == streams(world)
    expected = samples_as_of(world, STEADY)
    for run in b2["a"] + b2["b"]:
        assert run["telemetry_requests"] == streams(world)
        assert run["samples"] == expected
    assert b2["a_over_b"] > 0


def test_memory_transforms_and_webhooks_figures_are_sane(results, world):
    b3, b4, b5 = results["B3"], results["B4"], results["B5"]
    assert 50 < b3["quarter_peak_rss_mb"] < 4_000
    assert 50 < b3["full_peak_rss_mb"] < 4_000
    assert b4["full"]["samples"] == samples_as_of(world, timedelta(0))
    assert b4["full"]["seconds"] > 0
    assert all(run["seconds"] > 0 for run in b4["incremental"])
    assert b5["lost"] == 0
    assert b5["events_stored"] > 0
