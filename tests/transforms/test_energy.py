"""Energy facts: long format per phase, out-of-range readings, consumption forecasts."""

import pytest

from tests.transforms.conftest import records, run
from tests.transforms.plant import load_plant
from tests.transforms.rawdb import RawWarehouse, load_id_at, ts

LOAD = load_id_at("2024-03-02 00:00")


def sample(quantity: str, at: str, **values) -> dict:
    return {
        "company_id": "c1",
        "asset_id": "E1",
        "quantity": quantity,
        "sampled_at": ts(at),
    } | values


def three(prefix: str, phases: tuple[str, ...], values: tuple[float, float, float]) -> dict:
    return {f"{prefix}_{p}": v for p, v in zip(phases, values, strict=True)}


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> RawWarehouse:
    raw = RawWarehouse(tmp_path_factory.mktemp("energy") / "w.duckdb")
    load_plant(raw, LOAD)
    line, phase = ("ab", "bc", "ac"), ("a", "b", "c")
    raw.load(
        "energy_samples",
        [
            sample(
                "voltage",
                "2024-03-01 00:00",
                **three("average", line, (380.0, 381.0, 379.0)),
                **three("minimum", line, (378.0, 379.0, 377.0)),
                **three("maximum", line, (382.0, 383.0, 381.0)),
            ),
            sample("current", "2024-03-01 00:00", **three("average", phase, (10.0, 11.0, 12.0))),
            sample("voltage", "2024-03-01 00:15", **three("average", line, (380.0, 0.0, 379.0))),
            sample("current", "2024-03-01 00:15", **three("average", phase, (10.0, -1.0, 12.0))),
            sample("power_factor", "2024-03-01 00:15", **three("average", phase, (0.8, 1.2, 0.8))),
            sample("power_factor", "2024-03-01 00:30", **three("average", phase, (-0.8, 1.0, 0.8))),
            sample("active_power", "2024-03-01 00:30", **three("average", phase, (-2.0, 2.0, 2.0))),
            sample("frequency", "2024-03-01 00:30", average_a=50.0),
        ],
        LOAD,
    )
    raw.load(
        "energy_consumption",
        [
            {
                "company_id": "c1",
                "asset_id": "E1",
                "sampled_at": ts("2024-03-01 00:00"),
                "consumption": 1.5,
                "accumulated_consumption": 100.0,
                "forecast": False,
            },
            {
                "company_id": "c1",
                "asset_id": "E1",
                "sampled_at": ts("2024-03-05 00:00"),
                "consumption": 1.4,
                "accumulated_consumption": 200.0,
                "forecast": True,
            },
            {
                "company_id": "c1",
                "asset_id": "E1",
                "sampled_at": ts("2024-03-05 00:15"),
                "consumption": 1.4,
                "accumulated_consumption": 201.0,
                "forecast": False,
            },
            {
                "company_id": "c1",
                "asset_id": "E1",
                "sampled_at": ts("2024-03-01 00:15"),
                "consumption": -0.1,
                "accumulated_consumption": 100.0,
                "forecast": False,
            },
        ],
        LOAD,
    )
    run(raw)
    return raw


def test_a_voltage_sample_becomes_one_row_per_line_phase(warehouse):
    rows = records(
        warehouse.path,
        "SELECT phase, avg, min, max, unit FROM clean.fct_energy "
        "WHERE quantity = 'voltage' ORDER BY phase",
    )
    assert rows == [
        {"phase": "ab", "avg": 380.0, "min": 378.0, "max": 382.0, "unit": "V"},
        {"phase": "ac", "avg": 379.0, "min": 377.0, "max": 381.0, "unit": "V"},
        {"phase": "bc", "avg": 381.0, "min": 379.0, "max": 383.0, "unit": "V"},
    ]


def test_other_quantities_use_phases_a_b_c_and_keep_negative_active_power(warehouse):
    current = records(
        warehouse.path,
        "SELECT phase, avg, unit FROM clean.fct_energy WHERE quantity = 'current' ORDER BY phase",
    )
    assert current == [
        {"phase": "a", "avg": 10.0, "unit": "A"},
        {"phase": "b", "avg": 11.0, "unit": "A"},
        {"phase": "c", "avg": 12.0, "unit": "A"},
    ]
    power = records(
        warehouse.path,
        "SELECT avg FROM clean.fct_energy WHERE quantity = 'active_power' AND phase = 'a'",
    )
    assert power == [{"avg": -2.0}]


def test_energy_quarantine_rules(warehouse):
    rows = records(
        warehouse.path,
        "SELECT quantity, strftime(sampled_at, '%H:%M') AS t, rule "
        "FROM quarantine.energy_samples ORDER BY t, quantity",
    )
    assert [(r["quantity"], r["t"], r["rule"]) for r in rows] == [
        ("current", "00:15", "negative_reading"),
        ("power_factor", "00:15", "power_factor_out_of_range"),
        ("voltage", "00:15", "dead_phase"),
        ("frequency", "00:30", "unknown_quantity"),
    ]


def test_a_power_factor_of_exactly_one_or_negative_is_clean(warehouse):
    rows = records(
        warehouse.path,
        "SELECT phase, avg FROM clean.fct_energy WHERE quantity = 'power_factor' ORDER BY phase",
    )
    assert rows == [
        {"phase": "a", "avg": -0.8},
        {"phase": "b", "avg": 1.0},
        {"phase": "c", "avg": 0.8},
    ]


def test_forecast_consumption_may_be_in_the_future_but_measured_may_not(warehouse):
    clean = records(
        warehouse.path,
        "SELECT strftime(sampled_at, '%m-%d %H:%M') AS t, is_forecast, "
        "consumption_kwh FROM clean.fct_energy_consumption ORDER BY t",
    )
    assert clean == [
        {"t": "03-01 00:00", "is_forecast": False, "consumption_kwh": 1.5},
        {"t": "03-05 00:00", "is_forecast": True, "consumption_kwh": 1.4},
    ]
    bad = records(
        warehouse.path,
        "SELECT strftime(sampled_at, '%m-%d %H:%M') AS t, rule "
        "FROM quarantine.energy_consumption ORDER BY t",
    )
    assert bad == [
        {"t": "03-01 00:15", "rule": "negative_reading"},
        {"t": "03-05 00:15", "rule": "timestamp_in_future"},
    ]
