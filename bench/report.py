"""The results table (Markdown, so that the README can carry it as printed), the targets
of issues 7 and 16, and the machine the figures come from."""

import os
import platform
from typing import Any

import psutil

Row = tuple[str, str, str, str, str, str, str, str]
HEADER: Row = (
    "Scenario",
    "Measure",
    "(a) connector",
    "(b) floor",
    "(c) naive",
    "Ratio",
    "Target",
    "Met",
)


def machine() -> dict[str, Any]:
    model = ""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            model = next((ln.split(":", 1)[1].strip() for ln in cpuinfo if "model name" in ln), "")
    except OSError:
        model = platform.processor()
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "system": platform.platform(),
        "load_average": os.getloadavg(),
    }


def _n(value: float, digits: int = 0) -> str:
    return f"{value:,.{digits}f}"


def _padded(*cells: str) -> Row:
    """A row with `cells` first and the other columns empty."""
    return (*cells, *[""] * (len(HEADER) - len(cells)))  # type: ignore[return-value]


def _met(ok: bool) -> str:
    return "yes" if ok else "**no**"


def targets(results: dict[str, Any]) -> dict[str, bool]:
    """Each target of the issue: met or not."""
    b1, b2, b3, b4 = (results[k] for k in ("B1", "B2", "B3", "B4"))
    return (
        {
            "B1 a/b >= 0.6": b1["a_over_b"] >= 0.6,
            "B1 a/c >= 10": b1["a_over_c"] >= 10,
            "B2 requests == windows": all(
                run["telemetry_requests"] == b2["windows_needed"] for run in b2["a"] + b2["b"]
            ),
            "B2 a/b wall <= 1.5": b2["a_over_b"] <= 1.5,
            "B3 peak <= 600 MB": max(b3["quarter_peak_rss_mb"], b3["full_peak_rss_mb"]) <= 600,
            "B3 growth <= 20 %": b3["growth"] <= 0.20,
            "B4 incremental <= 10 % of full": b4["incremental_over_full"] <= 0.10,
            "B5 zero lost": results["B5"]["lost"] == 0,
        }
        | _public_targets(results["public"])
        | _history_targets(results["B7"])
    )


def _history_targets(b7: dict[str, Any]) -> dict[str, bool]:
    return {
        "B7 full rebuild >= 0.7 x SQL floor": b7["min_full_over_floor"] >= 0.7,
        "B7 floor rows == transform rows": all(f["floor_matches"] for f in b7["lengths"].values()),
        "B7 peak <= 1 GB": b7["peak_rss_mb"] <= 1024,
        "B7 peak growth <= 20 %": b7["peak_growth"] <= 0.20,
        "B7 incremental growth <= 20 %": b7["incremental_growth"] <= 0.20,
        "B7 incremental <= 5 % of full": b7["incremental_over_full"] <= 0.05,
    }


def _public_targets(public: dict[str, Any]) -> dict[str, bool]:
    b1, b2 = public["B1"], public["B2"]
    return {
        "B1 public a/b >= 0.6": b1["a_over_b"] >= 0.6,
        "B1 public probes == expected": all(
            run["probe_requests"] == b1["probes_expected"] for run in b1["a"] + b1["b"]
        ),
        "B2 public requests == windows, no probe": all(
            run["telemetry_requests"] == b2["windows_needed"] for run in b2["a"] + b2["b"]
        ),
        "B2 public a/b wall <= 1.5": b2["a_over_b"] <= 1.5,
    }


def _server_share(runs: list[dict[str, Any]]) -> str:
    """The simulator's CPU time as a share of the runs' wall time."""
    return f"{sum(r['server_cpu_s'] for r in runs) / sum(r['seconds'] for r in runs):.0%}"


def _b1_rows(b1: dict[str, Any], met: dict[str, bool]) -> list[Row]:
    rate, runs = b1["rate"], len(b1["a"])
    volume = f"B1 backfill, {_n(b1['a'][-1]['samples'])} samples"
    cpu = [_server_share(b1[k]) for k in "ab"] + [_server_share([b1["c"]])]
    return [
        (
            volume,
            f"samples/s (median of {runs}; (c) on 1/{b1['slice']} of the streams)",
            _n(rate["a"]),
            _n(rate["b"]),
            _n(rate["c"]),
            f"a/b {b1['a_over_b']:.2f}",
            ">= 0.6",
            _met(met["B1 a/b >= 0.6"]),
        ),
        ("", "", "", "", "", f"a/c {b1['a_over_c']:.0f}", ">= 10", _met(met["B1 a/c >= 10"])),
        ("", "simulator CPU, % of wall", *cpu, "", "", ""),
    ]


def _b2_wall_row(title: str, b2: dict[str, Any], met: bool) -> Row:
    return (
        title,
        f"wall s (median of {len(b2['a'])})",
        _n(b2["wall_s"]["a"], 1),
        _n(b2["wall_s"]["b"], 1),
        "",
        f"a/b {b2['a_over_b']:.2f}",
        "<= 1.5",
        _met(met),
    )


def _b2_rows(b2: dict[str, Any], met: dict[str, bool]) -> list[Row]:
    a, b = b2["a"][-1], b2["b"][-1]
    return [
        _b2_wall_row("B2 steady state, 15 min", b2, met["B2 a/b wall <= 1.5"]),
        (
            "",
            "telemetry requests (windows needed)",
            f"{_n(a['telemetry_requests'])} ({_n(b2['windows_needed'])})",
            f"{_n(b['telemetry_requests'])} ({_n(b2['windows_needed'])})",
            "",
            "",
            "equal",
            _met(met["B2 requests == windows"]),
        ),
        (
            "",
            "all requests, MB received",
            f"{_n(a['requests'])}, {a['bytes'] / 1e6:.0f}",
            f"{_n(b['requests'])}, {b['bytes'] / 1e6:.0f}",
            "",
            "",
            "",
            "",
        ),
    ]


def _public_rows(public: dict[str, Any], met: dict[str, bool]) -> list[Row]:
    b1, b2 = public["B1"], public["B2"]
    a1, b1b = b1["a"][-1], b1["b"][-1]
    a2, b2b = b2["a"][-1], b2["b"][-1]
    assets = b1["monitored_assets"]
    vibration, energy = assets.get("vibration", 0), assets.get("energy", 0)
    expected = _n(b1["probes_expected"])

    def requests(run: dict[str, Any], windows: int) -> str:
        return f"{_n(run['telemetry_requests'])} ({_n(windows)})"

    return [
        (
            f"B1 backfill, published API, {_n(a1['samples'])} samples",
            f"samples/s (median of {len(b1['a'])})",
            _n(b1["rate"]["a"]),
            _n(b1["rate"]["b"]),
            "",
            f"a/b {b1['a_over_b']:.2f}",
            ">= 0.6",
            _met(met["B1 public a/b >= 0.6"]),
        ),
        (
            "",
            f"probe requests, first sync ({_n(vibration)} vibration x 1 + {_n(energy)} energy"
            " x 2 expected)",
            f"{_n(a1['probe_requests'])} ({expected})",
            f"{_n(b1b['probe_requests'])} ({expected})",
            "",
            f"+{a1['probe_requests'] / b1['windows_needed']:.0%} of windows",
            "equal",
            _met(met["B1 public probes == expected"]),
        ),
        (
            "",
            "telemetry requests (windows needed)",
            requests(a1, b1["windows_needed"]),
            requests(b1b, b1["windows_needed"]),
            "",
            "",
            "",
            "",
        ),
        ("", "simulator CPU, % of wall", *(_server_share(b1[k]) for k in "ab"), "", "", "", ""),
        _b2_wall_row(
            "B2 steady state, published API, 15 min", b2, met["B2 public a/b wall <= 1.5"]
        ),
        (
            "",
            "telemetry requests (windows needed); probes",
            f"{requests(a2, b2['windows_needed'])}; {_n(a2['probe_requests'])}",
            f"{requests(b2b, b2['windows_needed'])}; {_n(b2b['probe_requests'])}",
            "",
            "",
            "equal; 0",
            _met(met["B2 public requests == windows, no probe"]),
        ),
        (
            "",
            "all requests, MB received",
            f"{_n(a2['requests'])}, {a2['bytes'] / 1e6:.0f}",
            f"{_n(b2b['requests'])}, {b2b['bytes'] / 1e6:.0f}",
            "",
            "",
            "",
            "",
        ),
    ]


def _other_rows(results: dict[str, Any], met: dict[str, bool]) -> list[Row]:
    b3, b4, b5 = results["B3"], results["B4"], results["B5"]
    peak_ok = met["B3 peak <= 600 MB"] and met["B3 growth <= 20 %"]
    return [
        (
            "B3 memory",
            "peak RSS MB, 1/4 of B1 -> B1",
            f"{b3['quarter_peak_rss_mb']:.0f} -> {b3['full_peak_rss_mb']:.0f}",
            "",
            "",
            f"{b3['growth']:+.0%}",
            "<= 600 MB, <= +20 %",
            _met(peak_ok),
        ),
        _padded(
            "B4 transforms",
            "full rebuild: samples/s (s)",
            f"{_n(b4['full_samples_per_s'])} ({b4['full']['seconds']:.1f})",
        ),
        (
            "",
            "incremental after a B2 sync, s (median)",
            _n(b4["incremental_s"], 1),
            "",
            "",
            f"{b4['incremental_over_full']:.1%} of full",
            "<= 10 %",
            _met(met["B4 incremental <= 10 % of full"]),
        ),
        (
            "B5 webhooks",
            f"stored events/s, {b5['concurrency']} clients; lost",
            f"{_n(b5['events_per_s'])}; {b5['lost']}",
            "",
            "",
            "",
            "0 lost",
            _met(met["B5 zero lost"]),
        ),
        *_b6_rows(results["B6"]),
    ]


def _b6_rows(b6: dict[str, Any]) -> list[Row]:
    n = b6["connections"]
    return [
        (
            f"B6 {n} connections: (a) at once into DuckLake on PostgreSQL, (b) one after "
            "another into the DuckDB file",
            f"wall s, {_n(b6['lake_rows'])} telemetry rows",
            _n(b6["lake_parallel_s"], 1),
            _n(b6["file_sequential_s"], 1),
            "",
            f"a/b {b6['lake_over_file_wall']:.2f}",
            "",
            "",
        ),
        ("", "rows/s", _n(b6["lake_rows_per_s"]), _n(b6["file_rows_per_s"]), "", "", "", ""),
        (
            "",
            "full transform, s",
            _n(b6["lake_transform_s"], 1),
            _n(b6["file_transform_s"], 1),
            "",
            f"a/b {b6['lake_transform_s'] / b6['file_transform_s']:.1f}",
            "",
            "",
        ),
    ]


def _b7_rows(b7: dict[str, Any], met: dict[str, bool]) -> list[Row]:
    lengths = b7["lengths"]

    def each(figure: Any, digits: int = 1) -> str:
        return " / ".join(_n(figure(f), digits) for f in lengths.values())

    labels = " / ".join(lengths)
    growth_ok = met["B7 peak <= 1 GB"] and met["B7 peak growth <= 20 %"]
    return [
        _padded(
            f"B7 transforms at {labels} x B1's span of history",
            "raw telemetry samples (millions)",
            each(lambda f: f["samples"] / 1e6),
        ),
        (
            "",
            "full rebuild s: (a) the transform, (b) the SQL floor",
            each(lambda f: f["full"]["seconds"]),
            each(lambda f: f["floor"]["seconds"]),
            "",
            f"b/a {b7['min_full_over_floor']:.2f} (lowest)",
            ">= 0.7",
            _met(met["B7 full rebuild >= 0.7 x SQL floor"]),
        ),
        (
            "",
            "full rebuild peak RSS MB",
            each(lambda f: f["full"]["peak_rss_mb"], 0),
            each(lambda f: f["floor"]["peak_rss_mb"], 0),
            "",
            f"{b7['peak_growth']:+.0%}",
            "<= 1 GB, <= +20 %",
            _met(growth_ok),
        ),
        (
            "",
            "incremental after a 15-minute telemetry sync, s (median of the rounds)",
            each(lambda f: f["incremental"]["seconds"], 2),
            "",
            "",
            f"{b7['incremental_growth']:+.0%}; {b7['incremental_over_full']:.1%} of full at 1",
            "<= +20 %; <= 5 %",
            _met(met["B7 incremental growth <= 20 %"] and met["B7 incremental <= 5 % of full"]),
        ),
        (
            "",
            "incremental after the hourly catalog sync, s",
            each(lambda f: f["hourly"]["seconds"], 2),
            "",
            "",
            f"{b7['hourly_over_full']:.1%} of full at 1",
            "",
            "",
        ),
    ]


def table(results: dict[str, Any]) -> str:
    met = targets(results)
    rows = [HEADER, ("---",) * len(HEADER)]  # type: ignore[list-item]
    rows += _b1_rows(results["B1"], met) + _b2_rows(results["B2"], met)
    rows += _public_rows(results["public"], met)
    rows += _other_rows(results, met) + _b7_rows(results["B7"], met)
    return "\n".join("| " + " | ".join(row) + " |" for row in rows)
