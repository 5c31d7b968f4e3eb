"""What the client makes of each error body the contract knows, over real HTTP."""

import math
import threading
import time
from datetime import timedelta

import pytest

from simulator import SimConfig, Simulator
from sources.client import TractianClient, iso8601
from sources.errors import InvalidToken, NotFound, RequestRejected
from tests.sources.conftest import connection_for, fast_client, utc

NOW = utc(2026, 11, 20, 12, 0)


@pytest.fixture(scope="module")
def sim():
    with Simulator(SimConfig(seed=5, days=1), now=NOW, profile="public") as simulator:
        yield simulator


@pytest.fixture(scope="module")
def client(sim):
    return fast_client(connection_for(sim, "jaguar"))


def test_a_fastapi_validation_error_names_the_field_and_the_rule(sim, client):
    asset = sim.world.components(connection_for(sim, "jaguar").company_ids)[0].id
    too_long = {"start": iso8601(NOW - timedelta(days=8)), "end": iso8601(NOW)}

    with pytest.raises(RequestRejected) as rejected:
        client.get(f"/assets/{asset}/vibration", too_long)

    message = str(rejected.value)
    assert "HTTP 422" in message
    assert "query.end" in message
    assert "7 days" in message


def test_a_missing_endpoint_is_not_found_with_the_detail(client):
    with pytest.raises(NotFound) as missing:
        client.get("/connection")

    assert str(missing.value) == "GET /connection: HTTP 404 not found: Not Found"


def test_a_plain_401_is_invalid_token_without_retries(sim):
    connection = connection_for(sim, "jaguar")
    client = fast_client(connection)
    sim.set_fault("invalid_token", token="jaguar")
    try:
        with pytest.raises(InvalidToken):
            client.get(f"/companies/{connection.company_ids[0]}/locations")
    finally:
        sim.clear_faults()

    assert client.stats.requests == 1
    assert client.stats.retries == 0


@pytest.mark.parametrize("http_date", [False, True])
def test_retry_after_is_honoured_as_seconds_or_as_an_http_date(sim, http_date):
    connection = connection_for(sim, "jaguar")
    waits: list[float] = []
    client = TractianClient(connection.base_url, connection.token, sleep=waits.append)
    sim.set_fault("rate_limited", count=1, retry_after=3, http_date=http_date)
    try:
        client.get(f"/companies/{connection.company_ids[0]}/locations")
    finally:
        sim.clear_faults()

    assert client.stats.rate_limited == 1
    # 3 s, or an HTTP date (whole seconds) 3 s after the server's clock rounded up: 3-4 s
    # (a fallback of 1 s would show an unparsed header)
    assert len(waits) == 1
    assert 2.5 <= waits[0] <= 4.05


def test_a_page_size_the_api_refuses_falls_back_to_a_smaller_one(sim):
    connection = connection_for(sim, "jaguar")
    client = TractianClient(connection.base_url, connection.token, page_limit=5000)

    locations = client.paginate(f"/companies/{connection.company_ids[0]}/locations")

    expected = sim.world.locations(connection.company_ids[0])
    assert {loc["id"] for loc in locations} == {loc["id"] for loc in expected}
    assert client.page_limit == 100  # the simulator allows at most 1000


def test_a_429_pauses_every_thread_of_the_client_until_retry_after(sim):
    """One request's 429 holds back the requests other threads start meanwhile: they wait
    out the same Retry-After instead of meeting the limit again."""
    connection = connection_for(sim, "jaguar")
    path = f"/companies/{connection.company_ids[0]}/locations"
    first_wait = threading.Event()
    waits: dict[str, list[float]] = {"limited": [], "other": []}

    def sleep(seconds: float) -> None:
        waits[threading.current_thread().name].append(seconds)
        first_wait.set()
        time.sleep(seconds)

    client = TractianClient(connection.base_url, connection.token, sleep=sleep)
    sim.set_fault("rate_limited", count=1, retry_after=2)
    try:
        limited = threading.Thread(target=client.get, args=(path,), name="limited")
        limited.start()
        assert first_wait.wait(timeout=30)
        other = threading.Thread(target=client.get, args=(path,), name="other")
        other.start()
        other.join(timeout=30)
        limited.join(timeout=30)
    finally:
        sim.clear_faults()

    assert client.stats.rate_limited == 1  # only the first request met the limit
    (limited_wait,), (other_wait,) = waits["limited"], waits["other"]
    assert 1.5 <= limited_wait <= 2.0
    # the other thread started while the pause ran, and waited out the rest of it
    assert 0.5 < other_wait < limited_wait


@pytest.mark.parametrize(("page_limit", "walks"), [(4, 4), (10, 1)])
def test_an_asset_list_without_a_total_is_walked_until_three_passes_add_nothing(
    sim, page_limit, walks
):
    """The published API's asset pages carry no total, so a skipped record cannot show:
    a list of several pages is walked four times (the first, then three that add
    nothing), one that fits on a page once (page-number paging cannot shift it)."""
    connection = connection_for(sim, "jaguar")
    company = connection.company_ids[0]
    served = sim.world.assets(company)
    assert 4 < len(served) <= 10  # several pages of 4, one of 10
    client = fast_client(connection, page_limit=page_limit)

    assets = client.paginate(f"/companies/{company}/assets")

    assert sorted(a["id"] for a in assets) == sorted(a["id"] for a in served)
    assert client.stats.requests == walks * math.ceil(len(served) / page_limit)
