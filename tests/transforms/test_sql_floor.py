"""B7's SQL floor (`bench/sql_floor.py`) builds the same clean facts and daily aggregates
as the transform, row for row and column for column, on raw data that breaks every rule:
otherwise the benchmark would time the transform against a floor doing less work."""

import random
from datetime import timedelta

import duckdb
import pytest

from bench import sql_floor
from tests.transforms.conftest import run
from tests.transforms.plant import COMPANY, interval_row, load_plant
from tests.transforms.rawdb import RawWarehouse, load_id_at, ts
from transforms.raw import ENERGY_VALUES, PHASES_BY_QUANTITY, VIBRATION_VALUES

FIRST, SECOND = load_id_at("2024-03-03 00:00"), load_id_at("2024-03-03 06:00")
START = ts("2024-03-01 00:00")


def _odd(rng: random.Random, value: float) -> float | None:
    """`value`, or now and then a broken one: negative, NaN, null, a dead probe's reading."""
    roll = rng.random()
    if roll < 0.03:
        return -value
    if roll < 0.05:
        return float("nan")
    if roll < 0.07:
        return None
    if roll < 0.08:
        return -273.15
    return value


def _vibration(rng: random.Random) -> list[dict]:
    rows = []
    for asset in ("V1", "V2", "V3", "X9"):  # X9: not an asset of the plant
        for i in range(2 * 144):  # two days every 10 minutes
            at = START + timedelta(minutes=10 * i + rng.randint(0, 3))
            stuck = asset == "V2" and i < 144  # V2 repeats one reading all the first day
            row = {"company_id": COMPANY, "asset_id": asset, "sampled_at": at}
            row["powered"] = rng.choice([True, True, True, False, None])
            row["temperature"] = _odd(rng, rng.uniform(20, 90))
            for name in VIBRATION_VALUES:
                base = 1.5 if stuck and name.startswith("vel_rms") else rng.uniform(0.5, 8)
                row[name] = base if stuck else _odd(rng, base)
            rows.append(row)
    rows[5]["sampled_at"] = ts("1999-12-31 23:00")
    rows[6]["sampled_at"] = ts("2024-03-03 00:20")  # past its load's time + 15 min
    rows[7]["vel_peak_x"], rows[7]["vel_rms_x"] = 1.0, 2.0  # a peak below its RMS
    rows[8]["accel_crest_factor_y"] = 0.5
    return rows


def _energy(rng: random.Random) -> list[dict]:
    rows = []
    for i in range(2 * 96):  # two days every 15 minutes
        at = START + timedelta(minutes=15 * i)
        for quantity, phases in PHASES_BY_QUANTITY.items():
            row = {"company_id": COMPANY, "asset_id": "E1", "quantity": quantity, "sampled_at": at}
            scale = {"voltage": 220, "power-factor": 0.9, "active-power": 5000}.get(quantity, 10)
            for name in ENERGY_VALUES:
                if name.rsplit("_", 1)[1] in phases:
                    row[name] = _odd(rng, scale * rng.uniform(0.8, 1.1))
            if quantity == "voltage" and i % 17 == 0:  # one dead phase, or all off
                row["average_ab"] = 0.0
                if i % 34 == 0:
                    row["average_bc"] = row["average_ac"] = 0.0
            rows.append(row)
    rows.append(rows[0] | {"quantity": "frequency"})
    return rows


def _interval(rng: random.Random, column: str) -> list[dict]:
    rows = [
        interval_row(f"2024-03-0{1 + h // 24} {h % 24:02d}:00", **{column: _odd(rng, 4.0)})
        for h in range(48)
    ]
    rows.append(interval_row("2024-03-05 00:00", forecast=True, **{column: 3.0}))
    rows.append(interval_row("2024-03-05 01:00", forecast=False, **{column: 3.0}))
    return rows


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> duckdb.DuckDBPyConnection:
    rng = random.Random(16)
    raw = RawWarehouse(tmp_path_factory.mktemp("floor") / "warehouse.duckdb")
    load_plant(raw, FIRST)
    vibration, energy = _vibration(rng), _energy(rng)
    raw.append("vibration_samples", vibration, FIRST)
    raw.append("energy_samples", energy, FIRST)
    # A later load re-reads some samples with new values: the latest load wins.
    raw.append("vibration_samples", [r | {"vel_rms_z": 0.25} for r in vibration[::7]], SECOND)
    raw.append("energy_samples", [r | {"average_a": 7.0} for r in energy[::11]], SECOND)
    raw.append(
        "rpm_samples",
        [
            {"company_id": COMPANY, "asset_id": "V1", "sampled_at": START + timedelta(hours=h)}
            | {"rpm": _odd(rng, 1780.0), "sample_id": f"s{h}"}
            for h in range(48)
        ],
        FIRST,
    )
    raw.append("energy_consumption", _interval(rng, "consumption"), FIRST)
    raw.append("energy_demand", _interval(rng, "demand"), FIRST)
    raw.append("energy_cost", _interval(rng, "cost"), FIRST)
    run(raw, full=True)
    conn = duckdb.connect(str(raw.path))
    sql_floor.build(conn)
    yield conn
    conn.close()


def _columns(conn: duckdb.DuckDBPyConnection, table: str) -> list[tuple[str, str]]:
    schema, name = table.split(".")
    return conn.execute(
        "SELECT column_name, data_type FROM duckdb_columns() "
        "WHERE schema_name = ? AND table_name = ? ORDER BY column_index",
        [schema, name],
    ).fetchall()


def _rows(conn: duckdb.DuckDBPyConnection, table: str, columns: list[tuple[str, str]]) -> str:
    """The table's rows, doubles to 9 decimals (polars and DuckDB may differ in the last bit)."""
    items = [f"round({c}, 9)" if t == "DOUBLE" else c for c, t in columns]
    return f"SELECT {', '.join(items)} FROM {table}"


@pytest.mark.parametrize("clean", list(sql_floor.queries()))
def test_the_floor_builds_the_same_table_as_the_transform(built, clean):
    floor = sql_floor.floor_name(clean)
    columns = _columns(built, clean)
    assert _columns(built, floor) == columns
    count = built.execute(f"SELECT count(*) FROM {clean}").fetchall()[0][0]
    assert count > 0
    for a, b in ((clean, floor), (floor, clean)):
        extra = built.execute(
            f"{_rows(built, a, columns)} EXCEPT ALL {_rows(built, b, columns)}"
        ).fetchall()
        assert extra == [], f"{len(extra)} rows of {a} not in {b}, e.g. {extra[:2]}"


def test_the_data_breaks_the_rules_the_floor_must_apply(built):
    rules = dict(
        built.execute(
            "SELECT rule, count(*) FROM (SELECT rule FROM quarantine.vibration_samples "
            "UNION ALL SELECT rule FROM quarantine.energy_samples "
            "UNION ALL SELECT rule FROM quarantine.energy_consumption) GROUP BY rule"
        ).fetchall()
    )
    assert {
        "unknown_asset",
        "unknown_quantity",
        "timestamp_before_2000",
        "timestamp_in_future",
        "negative_reading",
        "power_factor_out_of_range",
        "dead_phase",
    } <= set(rules)
    nulled, stuck = built.execute(
        "SELECT (SELECT count(*) FROM clean.fct_vibration WHERE nulled_fields IS NOT NULL), "
        "(SELECT count(*) FROM clean.agg_vibration_daily WHERE stuck_value)"
    ).fetchall()[0]
    assert nulled > 0
    assert stuck > 0
