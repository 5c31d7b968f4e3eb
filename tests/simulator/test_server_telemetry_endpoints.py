"""The telemetry endpoints over real HTTP (integration profile): columnar shapes, windows,
the energy quantities in the API's units and paths, and the interval series."""

from datetime import timedelta

import pytest

from simulator import SimConfig, Simulator
from tests.conftest import SIM_NOW
from tests.simulator.server_helpers import (
    company_id,
    components,
    get,
    is_number_or_null,
    iso8601,
    parse_iso,
    window,
)

TOBIAS = company_id("Tobias")
MEASURES = ("rms", "peak", "peakToPeak", "crestFactor", "crestFactorDb")
PHASES = {
    "current": {"a", "b", "c"},
    "voltage": {"ab", "bc", "ac"},
    "active-power": {"a", "b", "c"},
    "power-factor": {"a", "b", "c"},
    "reactive-power": {"a", "b", "c"},
}


@pytest.fixture(scope="module")
def sim():
    with Simulator(SimConfig(seed=7, days=14), now=SIM_NOW) as simulator:
        yield simulator


def test_vibration_is_columnar_and_aligned_within_the_window(sim):
    asset = components("vibration", "Tobias")[0]["id"]
    params = window(SIM_NOW, days=7)

    response = get(sim, f"/assets/{asset}/vibration", params=params)

    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    times = [parse_iso(t) for t in body["sampledAt"]]
    assert body["companyId"] == TOBIAS
    assert times == sorted(times)
    assert len(set(times)) == len(times) > 100
    assert parse_iso(params["start"]) <= times[0]
    assert times[-1] < parse_iso(params["end"])
    n = len(times)
    assert len(body["temperature"]) == n
    assert is_number_or_null(body["temperature"])
    assert len(body["powered"]) == n
    assert all(p is None or isinstance(p, bool) for p in body["powered"])
    for family in ("accel", "vel"):
        assert set(body[family]) == set(MEASURES)
        for measure in MEASURES:
            assert set(body[family][measure]) == {"x", "y", "z"}
            for axis in "xyz":
                values = body[family][measure][axis]
                assert len(values) == n
                assert is_number_or_null(values)


def test_window_includes_its_start_and_excludes_its_end(sim):
    asset = components("vibration", "Tobias")[0]["id"]
    path = f"/assets/{asset}/vibration"
    times = get(sim, path, params=window(SIM_NOW, days=1)).json()["sampledAt"]
    sample = parse_iso(times[5])

    at_start = get(
        sim,
        path,
        params={"start": iso8601(sample), "end": iso8601(sample + timedelta(milliseconds=1))},
    )
    before = get(
        sim, path, params={"start": iso8601(sample - timedelta(hours=6)), "end": iso8601(sample)}
    )

    assert at_start.json()["sampledAt"] == [times[5]]
    assert before.json()["sampledAt"][-1] == times[4]


def test_a_window_given_with_an_offset_is_the_same_window(sim):
    asset = components("vibration", "Tobias")[0]["id"]
    path = f"/assets/{asset}/vibration"

    utc = get(sim, path, params={"start": "2025-06-01T10:00:00Z", "end": "2025-06-01T12:00:00Z"})
    offset = get(
        sim, path, params={"start": "2025-06-01T12:00:00+02:00", "end": "2025-06-01T14:00:00+02:00"}
    )

    assert utc.status_code == 200
    assert utc.content == offset.content


def test_rotation_has_ids_and_rpm_aligned(sim):
    asset = components("vibration", "Tobias")[0]["id"]

    body = get(sim, f"/assets/{asset}/vibration/rotation", params=window(SIM_NOW, days=1)).json()

    assert set(body) == {"companyId", "id", "sampledAt", "rpm"}
    assert len(body["id"]) == len(body["rpm"]) == len(body["sampledAt"]) > 0
    assert all(isinstance(i, str) for i in body["id"])
    assert is_number_or_null(body["rpm"])


@pytest.mark.parametrize("quantity", sorted(PHASES))
def test_energy_quantities_have_their_phases(sim, quantity):
    asset = components("energy", "Tobias")[0]["id"]

    body = get(sim, f"/assets/{asset}/energy/{quantity}", params=window(SIM_NOW, days=1)).json()

    n = len(body["sampledAt"])
    assert n > 0
    assert body["companyId"] == TOBIAS
    for stat in ("average", "maximum", "minimum"):
        assert set(body[stat]) == PHASES[quantity]
        assert all(len(v) == n and is_number_or_null(v) for v in body[stat].values())


@pytest.mark.parametrize(
    ("series", "fields"),
    [
        ("consumption", ("consumption", "accumulatedConsumption")),
        ("demand", ("demand",)),
        ("cost", ("cost",)),
    ],
)
def test_interval_series_have_their_values_and_forecast_flags(sim, series, fields):
    asset = components("energy", "Tobias")[0]["id"]

    body = get(sim, f"/assets/{asset}/energy/{series}", params=window(SIM_NOW, days=1)).json()

    n = len(body["sampledAt"])
    assert n == 96  # a day of 15-minute intervals
    assert set(body) == {"companyId", "sampledAt", *fields, "forecast"}
    assert body["companyId"] == TOBIAS
    for field in fields:
        assert len(body[field]) == n
        assert is_number_or_null(body[field])
    assert body["forecast"] == [False] * n


def test_the_interval_series_agree_in_watt_hours_kilowatts_and_money(sim):
    """One interval worked by hand: Wh / 1000 = kWh = kW * 0.25 h; cost / kWh = a price
    of the company's tariff, the same for every off-peak interval."""
    asset = components("energy", "Tobias")[0]["id"]
    params = window(SIM_NOW, days=1)
    bodies = {
        s: get(sim, f"/assets/{asset}/energy/{s}", params=params).json()
        for s in ("consumption", "demand", "cost")
    }
    tariff = sim.state()["tariffs"][TOBIAS]

    rows = zip(
        bodies["consumption"]["sampledAt"],
        bodies["consumption"]["consumption"],
        bodies["demand"]["demand"],
        bodies["cost"]["cost"],
        strict=True,
    )
    checked = 0
    for at, wh, kw, money in rows:
        if wh is None:
            continue
        assert kw * 0.25 == pytest.approx(wh / 1000, rel=1e-12)
        moment = parse_iso(at)
        peak = moment.weekday() < 5 and 18 <= moment.hour < 21
        price = tariff["peakPerKwh"] if peak else tariff["offPeakPerKwh"]
        assert money == pytest.approx(wh / 1000 * price, rel=1e-12)
        checked += 1
    assert checked > 90


@pytest.mark.parametrize(
    "params",
    [
        {"start": "2001-01-01T00:00:00Z", "end": "2001-01-08T00:00:00Z"},  # before any history
        window(SIM_NOW + timedelta(days=3), days=1),  # the future: nothing sampled yet
    ],
)
def test_a_window_without_samples_answers_204(sim, params):
    asset = components("vibration", "Tobias")[0]["id"]

    response = get(sim, f"/assets/{asset}/vibration", params=params)

    assert response.status_code == 204
    assert response.content == b""


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"end": "2025-06-02T00:00:00Z"}, "start"),
        ({"start": "2025-06-01T00:00:00Z"}, "end"),
        ({"start": "yesterday", "end": "2025-06-02T00:00:00Z"}, "start"),
        ({"start": "2025-06-02T00:00:00Z", "end": "2025-06-02T00:00:00Z"}, "end"),
        ({"start": "2025-06-02T00:00:00Z", "end": "2025-06-01T00:00:00Z"}, "end"),
        ({"start": "2025-05-25T00:00:00Z", "end": "2025-06-01T00:00:00.001Z"}, "end"),
    ],
)
def test_bad_windows_answer_422_fastapi_style(sim, params, field):
    asset = components("vibration", "Tobias")[0]["id"]

    response = get(sim, f"/assets/{asset}/vibration", params=params)

    assert response.status_code == 422
    details = response.json()["detail"]
    assert ["query", field] in [d["loc"] for d in details]
    assert all({"type", "loc", "msg"} <= set(d) for d in details)


def test_a_window_of_exactly_seven_days_is_allowed(sim):
    asset = components("vibration", "Tobias")[0]["id"]
    params = {"start": "2025-05-25T00:00:00Z", "end": "2025-06-01T00:00:00Z"}

    assert get(sim, f"/assets/{asset}/vibration", params=params).status_code == 200


@pytest.mark.parametrize(
    "quantity", ["frequency", "active_power", "power_factor", "reactive_power", "activePower"]
)
def test_an_unknown_energy_quantity_answers_422_even_the_old_underscore_names(sim, quantity):
    asset = components("energy", "Tobias")[0]["id"]

    response = get(sim, f"/assets/{asset}/energy/{quantity}", params=window(SIM_NOW, days=1))

    assert response.status_code == 422
    (detail,) = response.json()["detail"]
    assert (detail["loc"], detail["input"]) == (["path", "quantity"], quantity)
    assert "'active-power'" in detail["msg"]
