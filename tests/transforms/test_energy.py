"""Energy facts: long format per phase in clean units, out-of-range readings, consumption,
demand and cost with their forecasts.

The raw tables hold what the API serves (active power in W, reactive power in VAR,
consumption in Wh); the clean facts hold kW, kVAR and kWh.
"""

import pytest

from tests.transforms.conftest import records, run
from tests.transforms.plant import energy_sample, interval_row, load_plant, three
from tests.transforms.rawdb import RawWarehouse, load_id_at, ts

LOAD = load_id_at("2024-03-02 00:00")


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> RawWarehouse:
    raw = RawWarehouse(tmp_path_factory.mktemp("energy") / "w.duckdb")
    load_plant(raw, LOAD)
    line, phase = ("ab", "bc", "ac"), ("a", "b", "c")
    raw.load(
        "energy_samples",
        [
            energy_sample(
                "voltage",
                "2024-03-01 00:00",
                **three("average", line, (380.0, 381.0, 379.0)),
                **three("minimum", line, (378.0, 379.0, 377.0)),
                **three("maximum", line, (382.0, 383.0, 381.0)),
            ),
            energy_sample(
                "current", "2024-03-01 00:00", **three("average", phase, (10.0, 11.0, 12.0))
            ),
            energy_sample(
                "voltage", "2024-03-01 00:15", **three("average", line, (380.0, 0.0, 379.0))
            ),
            energy_sample(
                "current", "2024-03-01 00:15", **three("average", phase, (10.0, -1.0, 12.0))
            ),
            energy_sample(
                "power-factor", "2024-03-01 00:15", **three("average", phase, (0.8, 1.2, 0.8))
            ),
            energy_sample(
                "power-factor", "2024-03-01 00:30", **three("average", phase, (-0.8, 1.0, 0.8))
            ),
            energy_sample(
                "active-power",
                "2024-03-01 00:30",
                **three("average", phase, (1500.0, -2000.0, 2.0)),
                **three("minimum", phase, (1200.0, -2500.0, 0.0)),
                **three("maximum", phase, (1800.0, -1500.0, 4.0)),
            ),
            energy_sample(
                "reactive-power",
                "2024-03-01 00:30",
                **three("average", phase, (750.0, -750.0, 0.0)),
                **three("minimum", phase, (500.0, -1000.0, -250.0)),
                **three("maximum", phase, (1000.0, -500.0, 250.0)),
            ),
            energy_sample("frequency", "2024-03-01 00:30", average_a=50.0),
            # Named as before the published contract (and in kW): not read in a wrong unit.
            energy_sample(
                "active_power", "2024-03-01 00:45", **three("average", phase, (1.5, 1.5, 1.5))
            ),
        ],
        LOAD,
    )
    raw.load(
        "energy_consumption",
        [
            interval_row("2024-03-01 00:00", consumption=2500.0, accumulated_consumption=100_000.0),
            interval_row(
                "2024-03-05 00:00", True, consumption=1250.0, accumulated_consumption=200_000.0
            ),
            interval_row("2024-03-05 00:15", consumption=1400.0, accumulated_consumption=201_400.0),
            interval_row("2024-03-01 00:15", consumption=-100.0, accumulated_consumption=100_000.0),
        ],
        LOAD,
    )
    raw.load(
        "energy_demand",
        [
            interval_row("2024-03-01 00:00", False, demand=12.5),
            interval_row("2024-03-01 00:15", False, demand=-3.0),
            interval_row("2024-03-05 00:00", True, demand=13.0),
            interval_row("2024-03-05 00:15", False, demand=13.0),
            interval_row("2024-03-01 00:00", False, asset="GHOST", demand=1.0),
            interval_row("1999-12-31 23:45", True, demand=1.0),
        ],
        LOAD,
    )
    raw.load(
        "energy_cost",
        [
            interval_row("2024-03-01 00:00", False, cost=0.85),
            interval_row("2024-03-01 00:15", False, cost=-0.2),
            interval_row("2024-03-01 00:30", False, cost=0.0),
            interval_row("2024-03-05 00:00", True, cost=0.9),
            interval_row("2024-03-05 00:15", False, cost=-1.0),
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


def test_current_uses_phases_a_b_c_in_amperes(warehouse):
    current = records(
        warehouse.path,
        "SELECT phase, avg, unit FROM clean.fct_energy WHERE quantity = 'current' ORDER BY phase",
    )
    assert current == [
        {"phase": "a", "avg": 10.0, "unit": "A"},
        {"phase": "b", "avg": 11.0, "unit": "A"},
        {"phase": "c", "avg": 12.0, "unit": "A"},
    ]


def test_active_power_served_in_watts_reads_in_kilowatts_and_may_be_negative(warehouse):
    rows = records(
        warehouse.path,
        "SELECT phase, avg, min, max, unit FROM clean.fct_energy "
        "WHERE quantity = 'active_power' ORDER BY phase",
    )
    assert rows == [
        {"phase": "a", "avg": 1.5, "min": 1.2, "max": 1.8, "unit": "kW"},
        {"phase": "b", "avg": -2.0, "min": -2.5, "max": -1.5, "unit": "kW"},
        {"phase": "c", "avg": 0.002, "min": 0.0, "max": 0.004, "unit": "kW"},
    ]


def test_reactive_power_served_in_var_reads_in_kvar_and_may_be_negative(warehouse):
    rows = records(
        warehouse.path,
        "SELECT phase, avg, min, max, unit FROM clean.fct_energy "
        "WHERE quantity = 'reactive_power' ORDER BY phase",
    )
    assert rows == [
        {"phase": "a", "avg": 0.75, "min": 0.5, "max": 1.0, "unit": "kVAR"},
        {"phase": "b", "avg": -0.75, "min": -1.0, "max": -0.5, "unit": "kVAR"},
        {"phase": "c", "avg": 0.0, "min": -0.25, "max": 0.25, "unit": "kVAR"},
    ]


def test_clean_quantities_are_snake_case(warehouse):
    rows = records(
        warehouse.path, "SELECT DISTINCT quantity, unit FROM clean.fct_energy ORDER BY quantity"
    )
    assert rows == [
        {"quantity": "active_power", "unit": "kW"},
        {"quantity": "current", "unit": "A"},
        {"quantity": "power_factor", "unit": None},
        {"quantity": "reactive_power", "unit": "kVAR"},
        {"quantity": "voltage", "unit": "V"},
    ]


def test_energy_quarantine_rules(warehouse):
    rows = records(
        warehouse.path,
        "SELECT quantity, strftime(sampled_at, '%H:%M') AS t, rule, average_a "
        "FROM quarantine.energy_samples ORDER BY t, quantity",
    )
    assert [(r["quantity"], r["t"], r["rule"]) for r in rows] == [
        ("current", "00:15", "negative_reading"),
        ("power-factor", "00:15", "power_factor_out_of_range"),
        ("voltage", "00:15", "dead_phase"),
        ("frequency", "00:30", "unknown_quantity"),
        ("active_power", "00:45", "unknown_quantity"),
    ]
    assert rows[-1]["average_a"] == 1.5  # quarantined rows keep the raw values


def test_a_power_factor_of_exactly_one_or_negative_is_clean(warehouse):
    rows = records(
        warehouse.path,
        "SELECT phase, avg, unit FROM clean.fct_energy "
        "WHERE quantity = 'power_factor' ORDER BY phase",
    )
    assert rows == [
        {"phase": "a", "avg": -0.8, "unit": None},
        {"phase": "b", "avg": 1.0, "unit": None},
        {"phase": "c", "avg": 0.8, "unit": None},
    ]


def test_consumption_served_in_wh_reads_in_kwh(warehouse):
    clean = records(
        warehouse.path,
        "SELECT strftime(sampled_at, '%m-%d %H:%M') AS t, is_forecast, consumption_kwh, "
        "accumulated_consumption_kwh FROM clean.fct_energy_consumption ORDER BY t",
    )
    assert clean == [
        {
            "t": "03-01 00:00",
            "is_forecast": False,
            "consumption_kwh": 2.5,
            "accumulated_consumption_kwh": 100.0,
        },
        {
            "t": "03-05 00:00",
            "is_forecast": True,
            "consumption_kwh": 1.25,
            "accumulated_consumption_kwh": 200.0,
        },
    ]


def test_forecast_consumption_may_be_in_the_future_but_measured_may_not(warehouse):
    bad = records(
        warehouse.path,
        "SELECT strftime(sampled_at, '%m-%d %H:%M') AS t, rule, consumption "
        "FROM quarantine.energy_consumption ORDER BY t",
    )
    assert bad == [
        {"t": "03-01 00:15", "rule": "negative_reading", "consumption": -100.0},
        {"t": "03-05 00:15", "rule": "timestamp_in_future", "consumption": 1400.0},
    ]


def test_demand_lands_in_kw_with_its_forecasts(warehouse):
    clean = records(
        warehouse.path,
        "SELECT asset_id, strftime(sampled_at, '%m-%d %H:%M') AS t, demand_kw, is_forecast "
        "FROM clean.fct_energy_demand ORDER BY t",
    )
    assert clean == [
        {"asset_id": "E1", "t": "03-01 00:00", "demand_kw": 12.5, "is_forecast": False},
        {"asset_id": "E1", "t": "03-05 00:00", "demand_kw": 13.0, "is_forecast": True},
    ]


def test_demand_quarantine_rules(warehouse):
    bad = records(
        warehouse.path,
        "SELECT asset_id, strftime(sampled_at, '%Y-%m-%d %H:%M') AS t, demand, rule "
        "FROM quarantine.energy_demand ORDER BY t, asset_id",
    )
    assert bad == [
        {"asset_id": "E1", "t": "1999-12-31 23:45", "demand": 1.0, "rule": "timestamp_before_2000"},
        {"asset_id": "GHOST", "t": "2024-03-01 00:00", "demand": 1.0, "rule": "unknown_asset"},
        {"asset_id": "E1", "t": "2024-03-01 00:15", "demand": -3.0, "rule": "negative_reading"},
        {"asset_id": "E1", "t": "2024-03-05 00:15", "demand": 13.0, "rule": "timestamp_in_future"},
    ]


def test_cost_lands_with_its_forecasts_and_zero_is_clean(warehouse):
    clean = records(
        warehouse.path,
        "SELECT strftime(sampled_at, '%m-%d %H:%M') AS t, cost, is_forecast "
        "FROM clean.fct_energy_cost ORDER BY t",
    )
    assert clean == [
        {"t": "03-01 00:00", "cost": 0.85, "is_forecast": False},
        {"t": "03-01 00:30", "cost": 0.0, "is_forecast": False},
        {"t": "03-05 00:00", "cost": 0.9, "is_forecast": True},
    ]


def test_negative_cost_is_quarantined_with_every_rule_it_breaks(warehouse):
    bad = records(
        warehouse.path,
        "SELECT strftime(sampled_at, '%m-%d %H:%M') AS t, cost, rule, rules "
        "FROM quarantine.energy_cost ORDER BY t",
    )
    assert bad == [
        {"t": "03-01 00:15", "cost": -0.2, "rule": "negative_reading", "rules": "negative_reading"},
        {
            "t": "03-05 00:15",
            "cost": -1.0,
            "rule": "timestamp_in_future",
            "rules": "timestamp_in_future,negative_reading",
        },
    ]


def test_negative_demand_and_cost_count_as_out_of_range_readings(warehouse):
    sensors = records(
        warehouse.path,
        "SELECT day, out_of_range_count FROM marts.sensor_health_daily "
        "WHERE asset_id = 'E1' ORDER BY day",
    )
    # 03-01: current < 0, power factor 1.2, dead phase, consumption, demand and cost < 0.
    assert sensors[0]["out_of_range_count"] == 6


def test_an_incremental_run_counts_instants_of_every_quantity(raw):
    """The daily energy aggregate counts instants; an incremental run reads one row per
    sample back (the first phase of its quantity): a voltage sample's is "ab", not "a".
    Hand-worked: samples at 00:00 (voltage), 00:15 (current), then 00:30 (voltage) in a
    second load: 3 instants, the largest gap 15 minutes."""
    load_plant(raw, LOAD)
    line, phase = ("ab", "bc", "ac"), ("a", "b", "c")
    volts, amps = three("average", line, (380.0, 381.0, 379.0)), three("average", phase, (1, 2, 3))
    first = [
        energy_sample("voltage", "2024-03-01 00:00", **volts),
        energy_sample("current", "2024-03-01 00:15", **amps),
    ]
    raw.load("energy_samples", first, LOAD)
    run(raw, full=True)
    later = load_id_at("2024-03-02 01:00")
    raw.load("energy_samples", [energy_sample("voltage", "2024-03-01 00:30", **volts)], later)
    report = run(raw)
    assert not report.full
    assert report.rebuilt_partitions == 1
    day = records(raw.path, "SELECT * FROM clean.agg_energy_daily WHERE asset_id = 'E1'")
    assert [(d["samples"], d["largest_gap_between_s"]) for d in day] == [(3, 900.0)]
    assert day[0]["first_sampled_at"] == ts("2024-03-01 00:00")
    assert day[0]["last_sampled_at"] == ts("2024-03-01 00:30")


def test_a_sample_loaded_again_replaces_its_facts_whatever_its_quantity_is_called(raw):
    """The raw tables name quantities as the API does (`active-power`), the clean facts in
    snake_case (`active_power`): a sample a later load brings again (a resumed load, a
    second connection) replaces its fact rows in an incremental run, not adds to them.
    Hand-worked: the second load's readings, in clean units, once per phase."""
    load_plant(raw, LOAD)
    phases = ("a", "b", "c")

    def readings(active_w: float, reactive_var: float, factor: float, amps: float) -> list:
        at = "2024-03-01 00:00"
        return [
            energy_sample("active-power", at, **three("average", phases, (active_w,) * 3)),
            energy_sample("reactive-power", at, **three("average", phases, (reactive_var,) * 3)),
            energy_sample("power-factor", at, **three("average", phases, (factor,) * 3)),
            energy_sample("current", at, **three("average", phases, (amps,) * 3)),
        ]

    raw.load("energy_samples", readings(1500.0, 400.0, 0.9, 8.0), LOAD)
    run(raw, full=True)
    raw.load("energy_samples", readings(3000.0, 800.0, 0.95, 9.0), load_id_at("2024-03-02 01:00"))
    assert not run(raw).full

    facts = records(raw.path, "SELECT quantity, phase, avg FROM clean.fct_energy ORDER BY ALL")
    expected = {"active_power": 3.0, "current": 9.0, "power_factor": 0.95, "reactive_power": 0.8}
    assert facts == [
        {"quantity": quantity, "phase": phase, "avg": value}
        for quantity, value in expected.items()
        for phase in phases
    ]
