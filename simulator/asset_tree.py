"""The asset tree served by the simulator: the demo dump, filled out to the published shape.

Names are served exactly as the dump has them (stray spaces included). Fields the dump
lacks are filled deterministically from (seed, asset id). `scale` adds clones of every
component (same parent and location, own ids, sensor and gateway).
"""

import hashlib
import importlib.resources
import string
from dataclasses import dataclass

import orjson

from simulator.noise import hex_id
from simulator.timefmt import DAY_MS, iso8601

_DUMP = "tractian-demo-api.json"
_MANUFACTURERS = ("WEG", "Siemens", "ABB", "SKF", "Baldor", "Nidec", "Toshiba", "Voith")
_MODEL_PREFIXES = ("W22", "1LE1", "M3BP", "EM", "AZ", "NX", "KSB", "TEFC")
_CRITICALITIES = ("A", "B", "C")


@dataclass(frozen=True)
class Component:
    """A sensor-carrying asset (a dump component or one of its scaled clones)."""

    id: str
    company_id: str
    name: str
    sensor_type: str  # "vibration" | "energy"
    sensor_id: str
    gateway_id: str
    location_id: str | None  # its own location, else the nearest ancestor's
    parent_id: str | None
    clone_of: str | None


def load_dump() -> dict:
    """The demo dump shipped as package data."""
    data = importlib.resources.files("simulator").joinpath("data", _DUMP)
    return orjson.loads(data.read_bytes())


def _draws(*parts: object) -> bytes:
    return hashlib.sha1(":".join(map(str, parts)).encode()).digest()


def _tag(digest: bytes, offset: int) -> str:
    """A dump-style sensor/gateway id: three letters and three digits, e.g. 'QHI640'."""
    letters = "".join(string.ascii_uppercase[b % 26] for b in digest[offset : offset + 3])
    number = int.from_bytes(digest[offset + 3 : offset + 5], "little") % 1000
    return f"{letters}{number:03d}"


class AssetTree:
    """Companies, locations and assets in dump order, plus the component index."""

    def __init__(self, seed: int, scale: int, history_start_ms: int) -> None:
        if scale < 1:
            raise ValueError(f"scale must be >= 1, got {scale}")
        dump = load_dump()
        self.seed = seed
        self.history_start_ms = history_start_ms
        self.companies: list[dict] = [{"id": c["id"], "name": c["name"]} for c in dump["companies"]]
        self.locations: dict[str, list[dict]] = {}
        self.assets: dict[str, list[dict]] = {}
        self.components: list[Component] = []
        self._tags = {
            a.get(k)
            for c in self.companies
            for a in dump[c["id"]]["assets"]
            for k in ("sensorId", "gatewayId")
        }
        for company in self.companies:
            cid = company["id"]
            tree = dump[cid]
            self.locations[cid] = [_location(cid, loc) for loc in tree["locations"]]
            self.assets[cid] = self._company_assets(cid, company["name"], tree["assets"], scale)
        self.component_by_id = {c.id: c for c in self.components}
        self._by_company: dict[str, list[Component]] = {c["id"]: [] for c in self.companies}
        for comp in self.components:
            self._by_company[comp.company_id].append(comp)

    def components_of(self, company_id: str) -> list[Component]:
        return self._by_company[company_id]

    def _company_assets(self, cid: str, name: str, raw: list[dict], scale: int) -> list[dict]:
        by_id = {a["id"]: a for a in raw}
        prefix = name.strip()[:3].upper()
        out: list[dict] = []
        for number, asset in enumerate(raw, start=1):
            code = f"{prefix}-{number:05d}"
            out.append(self._published(cid, asset, code))
            if asset.get("sensorId") is None:
                continue
            location = _effective_location(asset, by_id)
            self.components.append(_component(cid, asset, location, None))
            for replica in range(1, scale):
                clone = self._clone(asset, replica)
                out.append(self._published(cid, clone, f"{code}-{replica}"))
                self.components.append(_component(cid, clone, location, asset["id"]))
        return out

    def _clone(self, asset: dict, replica: int) -> dict:
        clone = dict(asset, id=hex_id("clone", asset["id"], replica))
        for field, offset in (("sensorId", 0), ("gatewayId", 5)):
            attempt = 0
            while True:
                tag = _tag(_draws("tag", field, clone["id"], attempt), offset)
                if tag not in self._tags:
                    break
                attempt += 1
            self._tags.add(tag)
            clone[field] = tag
        return clone

    def _published(self, cid: str, asset: dict, code: str) -> dict:
        """The published asset shape; dump keys kept with their values."""
        d = _draws(self.seed, "asset", asset["id"])
        is_component = asset.get("sensorId") is not None
        created, updated = self._created_updated(asset["id"], d)
        described = is_component or d[0] % 2 == 0
        level = _CRITICALITIES[0 if is_component and d[1] % 2 else 1 + d[1] % 2]
        body = {
            "id": asset["id"],
            "name": asset["name"],
            "companyId": cid,
            "locationId": asset["locationId"],
            "parentId": asset["parentId"],
            "sensors": [asset["sensorId"]] if is_component else [],
            "code": code,
            "criticalityId": hex_id("criticality", cid, level),
            "manufacturer": _MANUFACTURERS[d[2] % len(_MANUFACTURERS)] if described else None,
            "modelType": f"{_MODEL_PREFIXES[d[3] % len(_MODEL_PREFIXES)]} {5 + d[4] % 196} kW"
            if described
            else None,
            "serialNumber": d[5:11].hex().upper() if described else None,
            "createdAt": iso8601(created),
            "updatedAt": iso8601(updated),
            "deleted": {"value": False},
            "disabled": {"value": False, "date": None},
        }
        if is_component:
            body["sensorId"] = asset["sensorId"]
            body["gatewayId"] = asset["gatewayId"]
        body["sensorType"] = asset.get("sensorType")
        body["status"] = asset.get("status")
        return body

    def _created_updated(self, asset_id: str, d: bytes) -> tuple[int, int]:
        """createdAt from the ObjectId's timestamp when it is old enough, else shortly
        before history start; updatedAt some days later, always before history start."""
        latest = (
            self.history_start_ms
            - DAY_MS
            - int.from_bytes(d[12:15], "little") % (400 * DAY_MS // 1000) * 1000
        )
        created = min(int(asset_id[:8], 16) * 1000, latest)
        span = min(90 * DAY_MS, self.history_start_ms - 3_600_000 - created)
        updated = created + int.from_bytes(d[15:19], "little") % max(span, 1) // 1000 * 1000
        return created, updated


def _location(cid: str, loc: dict) -> dict:
    return {"id": loc["id"], "name": loc["name"], "companyId": cid, "parentId": loc["parentId"]}


def _effective_location(asset: dict, by_id: dict[str, dict]) -> str | None:
    seen = 0
    while asset["locationId"] is None and asset["parentId"] in by_id and seen < 64:
        asset = by_id[asset["parentId"]]
        seen += 1
    return asset["locationId"]


def _component(cid: str, asset: dict, location: str | None, clone_of: str | None) -> Component:
    return Component(
        id=asset["id"],
        company_id=cid,
        name=asset["name"],
        sensor_type=asset["sensorType"],
        sensor_id=asset["sensorId"],
        gateway_id=asset["gatewayId"],
        location_id=location,
        parent_id=asset["parentId"],
        clone_of=clone_of,
    )
