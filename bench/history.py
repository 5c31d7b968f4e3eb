"""B7: the transforms at 1/4, 1 and 4 times B1's span of history.

The simulator would take long to serve 40 M samples, so history is made in DuckDB: a real
sync of the last 12 hours (B1's fleet) is copied back in time, 12 hours per copy, each
copy with a load id shifted as far as its samples, oldest copy first: the raw tables then
look like months of 15-minute syncs, stored in load order. For each length: a full
rebuild (`transform --full`, no read copy) and the SQL floor (`bench.sql_floor`) over the
same raw rows, each in a fresh process; then, into every length, a real 15-minute sync
of the telemetry alone (what the 15-minute schedule runs) and the incremental transform
after it, and 15 minutes later a sync of everything (the hourly catalog sync with the
telemetry) and the incremental transform after that one, which rebuilds the dimensions.
"""

import shutil
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from bench.runner import run_child
from bench.simproc import SimProcess
from bench.sql_floor import floor_name, queries
from sources import raw_schema as rs

COPY_SPAN = timedelta(hours=12)
LENGTHS = {"1/4": 0.25, "1": 1.0, "4": 4.0}  # times B1's span


def extend_history(db_path: Path, copies: int) -> None:
    """Rewrite each raw telemetry table as `copies` copies of what it holds, each
    COPY_SPAN earlier than the next, oldest first, the last one the rows as synced."""
    seconds = int(COPY_SPAN.total_seconds())
    with duckdb.connect(str(db_path)) as con:
        con.execute("SET preserve_insertion_order = true")
        present = rs.present_tables(con)
        for name, table in rs.RAW_TABLES.items():
            if not table.telemetry or name not in present:
                continue
            source, target = f"{rs.DATASET}.{name}", f"{rs.DATASET}.{name}__history"
            con.execute(f"CREATE OR REPLACE TABLE {target} AS FROM {source} LIMIT 0")
            for k in range(copies - 1, -1, -1):
                con.execute(
                    f"INSERT INTO {target} SELECT * REPLACE ("
                    f"sampled_at - INTERVAL {k * seconds} SECOND AS sampled_at, "
                    f"printf('%.6f', CAST(_dlt_load_id AS DOUBLE) - {k * seconds}) "
                    f"AS _dlt_load_id) FROM {source} ORDER BY rowid"
                )
            con.execute(f"DROP TABLE {source}")
            con.execute(f"ALTER TABLE {target} RENAME TO {name}")
        con.execute("CHECKPOINT")


def _copies(length: float, span: timedelta) -> int:
    return max(1, round(length * span / COPY_SPAN))


def run(
    sim: SimProcess,
    work_dir: Path,
    *,
    token: str,
    span: timedelta,
    steady_minutes: int,
    lengths_run: tuple[str, ...] = tuple(LENGTHS),
    rounds: int = 3,
) -> dict[str, Any]:
    """B7 against `sim` (frozen at its `now`): the figures per history length (those of
    `lengths_run`, keys of LENGTHS, shortest first).

    The 15-minute sync and the incremental transform after it run `rounds` times, and
    the round of the median transform is kept: on two shared cores a single 2-4 s run
    moves by half from one run to the next."""
    base = work_dir / "b7_base" / "warehouse.duckdb"
    start = datetime.fromisoformat(sim.now().replace("Z", "+00:00")) - COPY_SPAN
    synced = run_child("connector", base, sim, token=token, start=start)
    lengths: dict[str, dict[str, Any]] = {}
    for label in lengths_run:
        length = LENGTHS[label]
        db = work_dir / f"b7_{length}" / "warehouse.duckdb"
        shutil.copytree(base.parent, db.parent)
        copies = _copies(length, span)
        extend_history(db, copies)
        full = run_child("transform", db, full=True, publish=False)
        floor = run_child("sql_floor", db)
        lengths[label] = {
            "copies": copies,
            "samples": full["samples"],
            "full": full,
            "floor": floor,
        }
    incremental: dict[str, list[dict[str, Any]]] = {label: [] for label in lengths_run}
    for _ in range(rounds):
        after = _after_a_sync(sim, work_dir, lengths_run, token, steady_minutes, True)
        for label, (sync, transform) in after.items():
            incremental[label].append({"incremental_sync": sync, "incremental": transform})
    for label, runs in incremental.items():
        runs.sort(key=lambda r: r["incremental"]["seconds"])
        lengths[label] |= runs[len(runs) // 2]
        lengths[label]["incremental_rounds_s"] = [r["incremental"]["seconds"] for r in runs]
    hourly = _after_a_sync(sim, work_dir, lengths_run, token, steady_minutes, False)
    for label, (sync, transform) in hourly.items():
        lengths[label] |= {"hourly_sync": sync, "hourly": transform}
    for label in lengths_run:
        shutil.rmtree(work_dir / f"b7_{LENGTHS[label]}")
    shutil.rmtree(base.parent)
    figures = {"base_sync": synced, "span_days": span / timedelta(days=1), "lengths": lengths}
    return figures | summary(lengths)


def _after_a_sync(
    sim: SimProcess,
    work_dir: Path,
    lengths_run: tuple[str, ...],
    token: str,
    minutes: int,
    telemetry_only: bool,
) -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    """`minutes` later, a sync (of the telemetry alone, or of everything) and the
    incremental transform after it, on the warehouse of each length: (sync, transform)."""
    sim.advance(minutes * 60)
    done = {}
    for label in lengths_run:
        db = work_dir / f"b7_{LENGTHS[label]}" / "warehouse.duckdb"
        sync = run_child("connector", db, sim, token=token, telemetry_only=telemetry_only)
        done[label] = (sync, run_child("transform", db, publish=False))
    return done


def floor_matches(full: dict[str, Any], floor: dict[str, Any]) -> bool:
    """The floor wrote as many rows to each table as the transform did to its twin."""
    return all(full["rows"].get(clean) == floor["rows"][floor_name(clean)] for clean in queries())


def summary(lengths: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The ratios the targets are about (at 1 x, or the longest history without it)."""
    runs = list(lengths.values())
    first, last = runs[0], runs[-1]
    one = lengths.get("1", last)
    for figures in lengths.values():
        figures["full_over_floor"] = figures["floor"]["seconds"] / figures["full"]["seconds"]
        figures["floor_matches"] = floor_matches(figures["full"], figures["floor"])
    return {
        "peak_rss_mb": max(f["full"]["peak_rss_mb"] for f in lengths.values()),
        "peak_growth": last["full"]["peak_rss_mb"] / first["full"]["peak_rss_mb"] - 1,
        "incremental_growth": last["incremental"]["seconds"] / first["incremental"]["seconds"] - 1,
        "incremental_over_full": one["incremental"]["seconds"] / one["full"]["seconds"],
        "hourly_over_full": one["hourly"]["seconds"] / one["full"]["seconds"],
        "min_full_over_floor": min(f["full_over_floor"] for f in lengths.values()),
    }
