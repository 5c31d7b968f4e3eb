"""The benchmark harness end to end at a tiny scale, so that `make bench` cannot rot.

`python -m bench --quick` syncs one small company with a day of history, against the
integration profile and against the published API (`--profile public`); its results
file must hold every scenario, with figures that agree with what the simulator serves
(its model, not the harness, gives the expected samples, windows and probes). Speed is
not asserted here: that is the harness's own job.
"""

import fcntl
import json
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bench.__main__ import QUICK
from bench.scenarios import NOW
from simulator.clock import to_ms
from simulator.ground_truth_telemetry import energy_tables, vibration_tables
from simulator.world import SimConfig, World

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
STEADY = timedelta(minutes=15)
BACKFILL = timedelta(days=14)
# per monitored asset: vibration + rotation; five energy quantities, consumption, demand, cost
STREAMS = {"vibration": 2, "energy": 8}
# the published API's probes per monitored asset: vibration answers the first; an energy
# meter the second (active power), after vibration's 204
PROBES = {"vibration": 1, "energy": 2}


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> dict:
    """The quick bench's results, run once per session: under xdist the first worker to
    need them runs it (about two minutes) while the others wait on its lock, instead of
    each running its own."""
    shared = tmp_path_factory.getbasetemp()
    if worker_id != "master":
        shared = shared.parent  # the session's directory, common to its workers
    out, failed = shared / "bench-quick.json", shared / "bench-quick.failed"
    with open(shared / "bench-quick.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if failed.exists():  # one failure is enough: the other workers do not run it again
            pytest.fail(f"the quick bench failed in another worker:\n{failed.read_text()}")
        if not out.exists():
            try:
                _run_quick_bench(out)
            except BaseException as exc:
                failed.write_text(str(exc)[-3000:] or repr(exc))
                raise
    return json.loads(out.read_text())


def _run_quick_bench(out: Path) -> None:
    """Write the results to `out` only once the run has passed its checks."""
    written = out.with_suffix(".partial")
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--out", str(written)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,  # a hang guard, not a speed check: about two minutes on two cores
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "| B1 backfill" in done.stdout
    assert "| B1 backfill, published API" in done.stdout
    written.rename(out)


def _world(now: datetime) -> World:
    return World(SimConfig(seed=7, days=QUICK["days"], scale=QUICK["scale"]), to_ms(now))


@pytest.fixture(scope="module")
def world() -> World:
    return _world(NOW)


@pytest.fixture(scope="module")
def public_world(results) -> World:
    """The published-API simulator's model: it started at the clock the results name."""
    return _world(datetime.fromisoformat(results["public"]["now"]))


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def quick_components(world: World) -> list:
    token = next(t for t in world.tokens.values() if t.name == QUICK["token"])
    return world.components(token.company_ids)


def samples(world: World, start: datetime, as_of: datetime) -> int:
    """Telemetry rows a perfect sync from `start` holds as of `as_of`."""
    components = quick_components(world)
    start_ms, as_of_ms = to_ms(start), to_ms(as_of)
    tables = vibration_tables(world, components, start_ms, as_of_ms)
    tables |= energy_tables(world, components, start_ms, as_of_ms)
    assert set(tables) == {
        "vibration_samples",
        "rpm_samples",
        "energy_samples",
        "energy_consumption",
        "energy_demand",
        "energy_cost",
    }
    return sum(table.num_rows for table in tables.values())


def samples_as_of(world: World, as_of: timedelta) -> int:
    """Telemetry rows a perfect 14-day backfill holds at NOW + `as_of`."""
    return samples(world, NOW - BACKFILL, NOW + as_of)


def per_component(world: World, cost: dict[str, int]) -> int:
    return sum(cost[c.sensor_type] for c in quick_components(world))


def streams(world: World) -> int:
    return per_component(world, STREAMS)


def sync_start(run: dict) -> datetime:
    """Where a first sync on the published API began: 14 days before its local clock."""
    return _instant(run["now"]) - BACKFILL


def test_every_scenario_and_target_is_reported(results):
    assert {
        "B1",
        "B2",
        "B3",
        "B4",
        "B5",
        "B6",
        "B7",
        "public",
        "machine",
        "config",
    } <= results.keys()
    assert {"B1", "B2", "now"} <= results["public"].keys()
    assert len(results["targets"]) == 18
    assert results["machine"]["cpus"] >= 1


def test_backfill_contenders_load_exactly_what_the_simulator_serves(results, world):
    b1 = results["B1"]
    expected = samples_as_of(world, timedelta(0))
    assert expected > 1_000
    assert b1["windows_needed"] == 2 * streams(world)
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


def test_public_backfill_probes_each_monitored_asset_once_and_loads_everything(
    results, public_world
):
    public = results["public"]
    b1, now = public["B1"], datetime.fromisoformat(public["now"])
    probes = per_component(public_world, PROBES)
    assert {c.sensor_type for c in quick_components(public_world)} == set(PROBES)
    assert b1["probes_expected"] == probes
    assert b1["windows_needed"] == 2 * streams(public_world)
    for run in b1["a"] + b1["b"]:
        assert sync_start(run) + BACKFILL >= now  # the local clock is not behind the API's
        assert run["samples"] == samples(public_world, sync_start(run), now) > 1_000
        assert run["telemetry_requests"] == 2 * streams(public_world) + probes
        assert run["probe_requests"] == probes
        assert run["probed_assets"] == len(quick_components(public_world))
    assert all(run["probes_sent"] == probes for run in b1["b"])  # the floor's own count
    assert b1["a_over_b"] > 0


def test_public_steady_state_sends_no_probe_and_catches_up(results, public_world):
    public = results["public"]
    b1, b2 = public["B1"], public["B2"]
    as_of = datetime.fromisoformat(public["now"]) + STEADY
    assert b2["sim_now"] == [as_of.isoformat().replace("+00:00", ".000Z")]
    for key in "ab":
        run, first = b2[key][-1], b1[key][-1]
        assert run["telemetry_requests"] == streams(public_world)
        assert run["probe_requests"] == 0
        assert run["samples"] == samples(public_world, sync_start(first), as_of)
    assert b2["b"][-1]["probes_sent"] == 0
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


def test_the_lake_and_the_file_hold_every_connections_samples(results, world):
    b6 = results["B6"]
    # Each connection reads the one small company, after B2 moved the clock.
    expected = b6["connections"] * samples_as_of(world, STEADY)
    assert expected > 1_000
    assert b6["file_rows"] == expected
    assert b6["lake_rows"] == expected
    assert b6["lake_parallel_s"] > 0
    assert b6["lake_transform_s"] > 0


def test_history_lengths_hold_the_synced_half_day_copied_back_and_the_floor_matches(results, world):
    b7 = results["B7"]
    now = _instant(b7["base_sync"]["now"])
    half_day = samples(world, now - timedelta(hours=12), now)
    assert b7["base_sync"]["samples"] == half_day > 100
    # the smoke run's lengths: 14 days x 1/4 and 4, in copies of 12 hours
    assert list(b7["lengths"]) == list(QUICK["history_lengths"]) == ["1/4", "4"]
    assert [f["copies"] for f in b7["lengths"].values()] == [7, 112]
    for figures in b7["lengths"].values():
        assert figures["samples"] == figures["copies"] * half_day
        assert figures["floor_matches"]
        assert figures["full"]["rows"]["clean.fct_vibration"] > 0
        assert figures["incremental"]["up_to_date"] is False
        assert figures["incremental"]["rebuilt_partitions"] > 0
        assert len(figures["incremental_rounds_s"]) == QUICK["steady_runs"]
        # The 15-minute sync brought telemetry alone, the hourly one the catalog too.
        assert figures["incremental"]["whole_tables_kept"] is True
        assert figures["hourly"]["whole_tables_kept"] is False
        assert figures["hourly"]["up_to_date"] is False
    assert b7["peak_rss_mb"] > 50
