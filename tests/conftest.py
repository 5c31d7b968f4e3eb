"""Fixtures shared by every test package.

`simulator`: a real simulated Tractian API on a free 127.0.0.1 port, at a fixed clock
(`SIM_NOW`, frozen), stopped after the test. `simulator_factory(**kwargs)`: the same with
your own `Simulator` arguments (config, faults, rate limit, webhook URL...), every one
started stopped at teardown. `postgres_database`: the URL of a fresh database on a real
PostgreSQL server, started once per test process on 127.0.0.1 and stopped at its end.
"""

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

SIM_NOW = datetime(2025, 6, 2, 12, 0, tzinfo=UTC)


@pytest.fixture
def simulator_factory() -> Iterator[Callable[..., Any]]:
    from simulator import SimConfig, Simulator

    started = []

    def start(config: Any = None, **kwargs: Any) -> Any:
        kwargs.setdefault("now", SIM_NOW)
        sim = Simulator(config or SimConfig(), **kwargs).start()
        started.append(sim)
        return sim

    yield start
    for sim in started:
        sim.stop()


@pytest.fixture
def simulator(simulator_factory: Callable[..., Any]) -> Any:
    return simulator_factory()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[Any]:
    from tests import postgres_server as pg

    server = pg.start()
    yield server
    server.stop()


@pytest.fixture
def postgres_database(postgres_server: Any, request: pytest.FixtureRequest) -> str:
    """A fresh database for this test; its URL."""
    name = "t_" + re.sub(r"[^a-z0-9]+", "_", request.node.name.lower())[:50]
    return postgres_server.create_database(f"{name}_{id(request) % 100_000}")
