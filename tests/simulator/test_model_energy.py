"""Energy in the API's units, checked by hand from the served numbers: active power W =
V_phase * I * PF, reactive power VAR = V_phase * I * sqrt(1 - PF^2), consumption Wh =
average power * 0.25 h, demand kW = kWh / 0.25 h, cost = kWh * the company's tariff
(higher on weekday evenings), and nulls that agree across the interval series."""

import math
from datetime import datetime

import numpy as np
import orjson
import pytest

from tests.simulator.model_support import DAY, START_MS, components, shared_world

LATE = START_MS + 10 * DAY  # long after every gateway reconnected
WEEK = (START_MS - 7 * DAY, START_MS)
QUANTITIES = ("current", "voltage", "active-power", "power-factor", "reactive-power")
# Phase-to-neutral voltage of each phase from the two line voltages it belongs to.
PHASE_LINES = {"a": ("ab", "ac"), "b": ("ab", "bc"), "c": ("bc", "ac")}


def _served(body):
    """A body as a client reads it: serialised and parsed (nulls are None)."""
    return orjson.loads(orjson.dumps(body, option=orjson.OPT_SERIALIZE_NUMPY))


def _arrays(body, stat):
    return {ph: np.array(v, dtype=float) for ph, v in body[stat].items()}


def _bodies(world, c, window=WEEK):
    return {q: _served(world.energy(c.id, q, *window, LATE)) for q in QUANTITIES}


def _phase_volts(voltage):
    return {ph: (voltage[x] + voltage[y]) / 2 / math.sqrt(3) for ph, (x, y) in PHASE_LINES.items()}


def _live(*arrays):
    """Rows where every array has a value and no phase is dead (0 V)."""
    ok = np.ones(len(arrays[0]), dtype=bool)
    for a in arrays:
        ok &= ~np.isnan(a) & (a != 0)
    return ok


def _power_inputs(body, stat, pf_stat):
    """Per phase, the served phase voltage and current of `stat` and the power factor of
    `pf_stat`; and the rows where no line is dead (0 V) or null."""
    voltage = _arrays(body["voltage"], stat)
    volts = _phase_volts(voltage)
    amps, pf = _arrays(body["current"], stat), _arrays(body["power-factor"], pf_stat)
    return volts, amps, pf, _live(*voltage.values())


@pytest.mark.parametrize(("stat", "pf_stat"), [("average", "average"), ("minimum", "minimum")])
def test_active_power_is_watts_of_phase_voltage_current_and_power_factor(stat, pf_stat):
    checked = 0
    for c in components(shared_world(), "energy")[:15]:
        body = _bodies(shared_world(), c)
        volts, amps, pf, lines_live = _power_inputs(body, stat, pf_stat)
        watts = _arrays(body["active-power"], stat)
        for ph in "abc":
            expected = volts[ph] * amps[ph] * pf[ph]
            ok = _live(expected, watts[ph]) & lines_live
            # Served to 0.1 W from the served (rounded) V, I and PF.
            assert np.all(np.abs(watts[ph][ok] - expected[ok]) <= 0.05 + 1e-6)
            checked += int(ok.sum())
    assert checked > 10_000


@pytest.mark.parametrize(("stat", "pf_stat"), [("average", "average"), ("minimum", "maximum")])
def test_reactive_power_is_var_and_completes_the_power_triangle(stat, pf_stat):
    """The least reactive power goes with the highest power factor."""
    for c in components(shared_world(), "energy")[:15]:
        body = _bodies(shared_world(), c)
        volts, amps, pf, lines_live = _power_inputs(body, stat, pf_stat)
        var = _arrays(body["reactive-power"], stat)
        for ph in "abc":
            expected = volts[ph] * amps[ph] * np.sqrt(1 - pf[ph] ** 2)
            ok = _live(expected, var[ph]) & lines_live
            assert np.all(np.abs(var[ph][ok] - expected[ok]) <= 0.05 + 1e-6)
        if stat == "average":
            watts = _arrays(body["active-power"], stat)
            for ph in "abc":
                apparent = volts[ph] * amps[ph]
                ok = _live(apparent, watts[ph], var[ph]) & lines_live
                triangle = np.hypot(watts[ph][ok], var[ph][ok])
                assert np.allclose(triangle, apparent[ok], atol=0.1)


def test_every_quantity_has_minimum_average_maximum_in_order_and_plausible_units():
    for c in components(shared_world(), "energy")[:15]:
        body = _bodies(shared_world(), c)
        for q in QUANTITIES:
            for ph in body[q]["average"]:
                lo, avg, hi = (
                    np.array(body[q][s][ph], dtype=float) for s in ("minimum", "average", "maximum")
                )
                ok = ~np.isnan(lo) & ~np.isnan(avg) & ~np.isnan(hi)
                assert np.all((lo[ok] <= avg[ok]) & (avg[ok] <= hi[ok])), q
        line = np.concatenate(list(_arrays(body["voltage"], "average").values()))
        assert np.all((line[line > 0] > 350) & (line[line > 0] < 510))
        # Watts, not kilowatts: a motor of 10-200 A at 380-480 V draws kW per phase.
        watts = np.array(body["active-power"]["average"]["a"], dtype=float)
        assert np.nanmax(watts) > 1_000
        pf = np.array(body["power-factor"]["average"]["a"], dtype=float)
        assert np.all((pf[~np.isnan(pf)] > 0.05) & (pf[~np.isnan(pf)] < 1))


def test_power_factor_follows_load():
    light, full = [], []
    for c in components(shared_world(), "energy")[:30]:
        body = _bodies(shared_world(), c)
        current = np.array(body["current"]["average"]["a"], dtype=float)
        pf = np.array(body["power-factor"]["average"]["a"], dtype=float)
        ok = ~np.isnan(current) & ~np.isnan(pf)
        top = np.nanmax(current)
        light.extend(pf[ok & (current < 0.15 * top)])
        full.extend(pf[ok & (current > 0.6 * top)])
    assert 0.3 <= np.mean(light) <= 0.55
    assert 0.75 <= np.mean(full) <= 0.9


def test_consumption_is_watt_hours_of_the_average_power_and_accumulates_from_zero():
    world = shared_world()
    c = components(world, "energy")[2]
    early = (world.history_start_ms, START_MS - 7 * DAY)
    power = _served(world.energy(c.id, "active-power", *early, LATE))["average"]
    body = _served(world.consumption(c.id, *early, LATE))
    wh = np.array(body["consumption"], dtype=float)
    expected = sum(np.array(power[ph], dtype=float) for ph in "abc") * 0.25
    ok = ~np.isnan(wh) & ~np.isnan(expected)
    # Counted in whole tenths of a Wh.
    assert np.all(np.abs(wh[ok] - expected[ok]) <= 0.05 + 1e-6)
    acc = np.array(body["accumulatedConsumption"], dtype=float)
    assert acc[0] == pytest.approx(wh[0], abs=1e-9)
    assert np.allclose(np.diff(acc)[ok[1:]], wh[1:][ok[1:]], atol=1e-6)
    assert np.allclose(acc * 10, np.round(acc * 10), atol=1e-6)
    assert not any(body["forecast"])
    later = world.consumption(c.id, START_MS - DAY, START_MS, LATE)["accumulatedConsumption"]
    assert later[0] > acc[-1]


def test_demand_is_the_interval_kwh_over_a_quarter_hour():
    world = shared_world()
    for c in components(world, "energy")[:10]:
        consumption = _served(world.consumption(c.id, *WEEK, LATE))
        demand = _served(world.demand(c.id, *WEEK, LATE))
        assert demand["sampledAt"] == consumption["sampledAt"]
        assert set(demand) == {"companyId", "sampledAt", "demand", "forecast"}
        assert demand["forecast"] == [False] * len(demand["sampledAt"])
        for kw, wh in zip(demand["demand"], consumption["consumption"], strict=True):
            if wh is None:
                assert kw is None
            else:
                assert kw * 0.25 == pytest.approx(wh / 1000, rel=1e-12, abs=1e-12)


def _is_peak(text):
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment.weekday() < 5 and 18 <= moment.hour < 21


def test_cost_is_kwh_at_the_company_tariff_higher_on_weekday_evenings():
    world = shared_world()
    seen = set()
    for c in components(world, "energy")[:10]:
        tariff = world.tariffs[c.company_id].describe()
        consumption = _served(world.consumption(c.id, *WEEK, LATE))
        cost = _served(world.cost(c.id, *WEEK, LATE))
        assert cost["sampledAt"] == consumption["sampledAt"]
        assert set(cost) == {"companyId", "sampledAt", "cost", "forecast"}
        rows = zip(cost["sampledAt"], cost["cost"], consumption["consumption"], strict=True)
        for at, money, wh in rows:
            if wh is None:
                assert money is None
                continue
            peak = _is_peak(at)
            seen.add(peak)
            price = tariff["peakPerKwh"] if peak else tariff["offPeakPerKwh"]
            assert money == pytest.approx(wh / 1000 * price, rel=1e-12, abs=1e-12)
    assert seen == {True, False}


def test_tariffs_are_per_company_from_the_seed_with_a_dearer_peak():
    world, again = shared_world(), shared_world.__wrapped__()
    for company in world.companies:
        tariff = world.tariffs[company["id"]].describe()
        assert again.tariffs[company["id"]] == world.tariffs[company["id"]]
        assert 0.4 <= tariff["offPeakPerKwh"] <= 0.9
        assert 1.5 <= tariff["peakPerKwh"] / tariff["offPeakPerKwh"] <= 3.0
    assert len({t.off_peak for t in world.tariffs.values()}) == len(world.companies)


def test_a_missing_consumption_reading_is_null_in_demand_and_cost_too():
    world = shared_world()
    missing = 0
    for c in components(world, "energy"):
        consumption = _served(world.consumption(c.id, *WEEK, LATE))["consumption"]
        demand = _served(world.demand(c.id, *WEEK, LATE))["demand"]
        cost = _served(world.cost(c.id, *WEEK, LATE))["cost"]
        nulls = [i for i, v in enumerate(consumption) if v is None]
        assert nulls == [i for i, v in enumerate(demand) if v is None]
        assert nulls == [i for i, v in enumerate(cost) if v is None]
        missing += len(nulls)
    assert missing > 0
