"""The simulated Tractian world: what the HTTP server serves, as plain Python values.

Everything is deterministic from (seed, days, scale, start time). Telemetry methods
return the published JSON body (see telemetry_bodies.py), None when the window holds
no visible sample (the server answers 204), and raise KeyError for an asset that is not
a component of the right sensor type (the server's profile decides how to answer that).
The World knows nothing of API profiles: assets carry every field the demo dump has,
and the server leaves out what a profile does not publish.
Returned dicts and lists are shared with the model: read them, never mutate them.
"""

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from simulator.asset_tree import AssetTree, Component
from simulator.energy import QUANTITY_PHASES
from simulator.episodes import Episode
from simulator.gateways import Outages
from simulator.ledger import Ledger
from simulator.maintenance import Maintenance
from simulator.noise import hex_id
from simulator.tariffs import Tariff, company_tariff
from simulator.telemetry_bodies import (
    consumption_body,
    cost_body,
    demand_body,
    quantity_body,
    rotation_body,
    vibration_body,
)
from simulator.telemetry_model import EnergyFrame, Telemetry
from simulator.timefmt import DAY_MS
from simulator.vibration import rotation_ids
from simulator.workorders import categories, priorities


@dataclass(frozen=True)
class SimConfig:
    seed: int = 7
    days: int = 14  # days of history before the start clock
    scale: int = 1  # multiplies components (sensors); >= 1


@dataclass(frozen=True)
class Token:
    name: str  # e.g. "jaguar", "tobias", "apex", "all"
    company_ids: tuple[str, ...]
    connection_id: str  # stable id for /connection


class World:
    """The catalog is built at construction; telemetry is computed per request (a pure
    function of seed, component and time); records (insights, events, work orders) are
    generated lazily, a company and a week at a time, up to the latest as_of asked for.
    All times are int milliseconds since the Unix epoch (UTC)."""

    def __init__(self, config: SimConfig, start_ms: int) -> None:
        if config.days < 1:
            raise ValueError(f"days must be >= 1, got {config.days}")
        self.config = config
        self.history_start_ms = start_ms - config.days * DAY_MS
        self.catalog = AssetTree(config.seed, config.scale, self.history_start_ms)
        self.companies: list[dict] = self.catalog.companies
        self.tokens: dict[str, Token] = _tokens(config.seed, self.companies)
        self.tariffs: dict[str, Tariff] = {
            c["id"]: company_tariff(config.seed, c["id"]) for c in self.companies
        }
        outages = Outages(config.seed, [c.gateway_id for c in self.catalog.components])
        self.telemetry = Telemetry(
            config.seed, self.history_start_ms, self.catalog.components, outages
        )
        self.ledger = Ledger(
            Maintenance(config.seed, self.catalog, self.telemetry),
            self.history_start_ms,
            [c["id"] for c in self.companies],
        )
        self._removed: set[str] = set()

    # -- asset tree -------------------------------------------------------------------
    def locations(self, company_id: str) -> list[dict]:
        return list(self._company(self.catalog.locations, company_id))

    def assets(self, company_id: str) -> list[dict]:
        return [
            a
            for a in self._company(self.catalog.assets, company_id)
            if a["id"] not in self._removed
        ]

    def component(self, asset_id: str) -> Component | None:
        """A sensor-carrying asset (clones included); None if unknown or removed."""
        if asset_id in self._removed:
            return None
        return self.catalog.component_by_id.get(asset_id)

    def components(self, company_ids: Iterable[str] | None = None) -> list[Component]:
        wanted = None if company_ids is None else set(company_ids)
        return [
            c
            for c in self.catalog.components
            if c.id not in self._removed and (wanted is None or c.company_id in wanted)
        ]

    def remove_asset(self, asset_id: str) -> None:
        """Test mutation: the asset leaves assets() (and, if a component, its telemetry
        endpoints) from now on. Its past records stay."""
        known = any(a["id"] == asset_id for assets in self.catalog.assets.values() for a in assets)
        if not known:
            raise KeyError(f"unknown asset {asset_id!r}")
        self._removed.add(asset_id)

    # -- telemetry --------------------------------------------------------------------
    def vibration(self, asset_id: str, start_ms: int, end_ms: int, as_of_ms: int) -> dict | None:
        c = self._sensor(asset_id, "vibration")
        frame = self.telemetry.vibration(c, start_ms, end_ms, as_of_ms)
        return None if frame is None else vibration_body(c, frame)

    def rotation(self, asset_id: str, start_ms: int, end_ms: int, as_of_ms: int) -> dict | None:
        c = self._sensor(asset_id, "vibration")
        frame = self.telemetry.vibration(c, start_ms, end_ms, as_of_ms)
        if frame is None:
            return None
        return rotation_body(c, frame, rotation_ids(self.telemetry.profiles[c.id], frame.slots))

    def energy(
        self, asset_id: str, quantity: str, start_ms: int, end_ms: int, as_of_ms: int
    ) -> dict | None:
        """Raises ValueError for a quantity other than current, voltage, active-power,
        power-factor, reactive-power (the API's path names)."""
        if quantity not in QUANTITY_PHASES:
            expected = ", ".join(QUANTITY_PHASES)
            raise ValueError(f"unknown energy quantity {quantity!r}; expected one of {expected}")
        c, frame = self._energy_frame(asset_id, start_ms, end_ms, as_of_ms)
        return None if frame is None else quantity_body(c, frame, quantity)

    def consumption(self, asset_id: str, start_ms: int, end_ms: int, as_of_ms: int) -> dict | None:
        c, frame = self._energy_frame(asset_id, start_ms, end_ms, as_of_ms)
        return None if frame is None else consumption_body(c, frame)

    def demand(self, asset_id: str, start_ms: int, end_ms: int, as_of_ms: int) -> dict | None:
        c, frame = self._energy_frame(asset_id, start_ms, end_ms, as_of_ms)
        return None if frame is None else demand_body(c, frame)

    def cost(self, asset_id: str, start_ms: int, end_ms: int, as_of_ms: int) -> dict | None:
        c, frame = self._energy_frame(asset_id, start_ms, end_ms, as_of_ms)
        return None if frame is None else cost_body(c, frame, self.tariffs[c.company_id])

    def _energy_frame(
        self, asset_id: str, start_ms: int, end_ms: int, as_of_ms: int
    ) -> tuple[Component, EnergyFrame | None]:
        c = self._sensor(asset_id, "energy")
        return c, self.telemetry.energy(c, start_ms, end_ms, as_of_ms)

    # -- records ----------------------------------------------------------------------
    def insights(self, company_id: str, as_of_ms: int) -> list[dict]:
        self._company(self.catalog.locations, company_id)
        return [r.listing for r in self.ledger.existing(company_id, "insight", as_of_ms)]

    def insight_detail(self, insight_id: str, as_of_ms: int) -> dict | None:
        record = self.ledger.get(insight_id, as_of_ms)
        if record is None or record.kind != "insight":
            return None
        return record.at(as_of_ms)

    def events(self, company_id: str, as_of_ms: int) -> list[dict]:
        self._company(self.catalog.locations, company_id)
        return [r.versions[0] for r in self.ledger.existing(company_id, "event", as_of_ms)]

    def work_orders(self, company_id: str, as_of_ms: int) -> list[dict]:
        """All work orders existing at as_of (deleted ones too), in creation order."""
        self._company(self.catalog.locations, company_id)
        return [r.at(as_of_ms) for r in self.ledger.existing(company_id, "work_order", as_of_ms)]

    def work_order_priorities(self, company_id: str) -> list[dict]:
        self._company(self.catalog.locations, company_id)
        return priorities(company_id)

    def work_order_categories(self, company_id: str) -> list[dict]:
        self._company(self.catalog.locations, company_id)
        return categories(company_id)

    # -- late data and test helpers ---------------------------------------------------
    def gateway_reconnects(self, after_ms: int, until_ms: int) -> list[tuple[str, int]]:
        """(gateway id, reconnect time) with after < reconnect <= until, by time."""
        return self.telemetry.outages.reconnects(after_ms, until_ms)

    def gateway_outages(self, gateway_id: str, start_ms: int, end_ms: int) -> list[tuple[int, int]]:
        """Offline spans [start, end) of one gateway overlapping [start_ms, end_ms)."""
        return self.telemetry.outages.between(gateway_id, start_ms, end_ms)

    def episodes(self, asset_id: str, start_ms: int, end_ms: int) -> list[Episode]:
        """Fault episodes of a vibration component whose cycle overlaps [start, end)."""
        c = self._sensor(asset_id, "vibration")
        return self.telemetry.episodes_between(c.id, start_ms, end_ms)

    # -- helpers ----------------------------------------------------------------------
    def _company(self, table: dict[str, list[dict]], company_id: str) -> list[dict]:
        try:
            return table[company_id]
        except KeyError:
            raise KeyError(f"unknown company {company_id!r}") from None

    def _sensor(self, asset_id: str, sensor_type: str) -> Component:
        c = self.component(asset_id)
        if c is None or c.sensor_type != sensor_type:
            raise KeyError(f"no {sensor_type} component {asset_id!r}")
        return c


def _tokens(seed: int, companies: list[dict]) -> dict[str, Token]:
    names = [(c["name"].strip().lower(), (c["id"],)) for c in companies]
    names.append(("all", tuple(c["id"] for c in companies)))
    tokens = {}
    for name, ids in names:
        secret = hashlib.sha1(f"{seed}:token:{name}".encode()).hexdigest()[:16]
        tokens[f"tsim_{name}_{secret}"] = Token(name, ids, hex_id(seed, "connection", name))
    return tokens
