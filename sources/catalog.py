"""The companies and asset trees a connection can read, fetched once per sync.

Every resource of the source needs the company list, and telemetry needs the
components; fetching them once here keeps a sync's requests to what its windows need.
A company the token may not read is a failure of that company, not of the sync.
"""

import threading
from dataclasses import dataclass, field
from typing import Any

from sources.client import TractianClient
from sources.connections import Connection
from sources.errors import Forbidden, NotFound

Record = dict[str, Any]
SENSOR_TYPES = ("vibration", "energy")


@dataclass
class Catalog:
    client: TractianClient
    connection: Connection
    failures: list[str]
    _companies: list[Record] | None = None
    _trees: dict[tuple[str, str], list[Record]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def companies(self) -> list[Record]:
        """The companies this sync reads: the configured ones, or all the token reads."""
        with self._lock:
            if self._companies is None:
                self._companies = self._fetch_companies()
            return self._companies

    def _fetch_companies(self) -> list[Record]:
        readable = self.client.get("/companies") or []
        wanted = self.connection.company_ids
        if not wanted:
            return readable
        by_id = {c["id"]: c for c in readable}
        for company_id in wanted:
            if company_id not in by_id:
                self.failures.append(
                    f"company {company_id}: the token of connection "
                    f"{self.connection.name!r} may not read it (forbidden)"
                )
        return [by_id[c] for c in wanted if c in by_id]

    def tree(self, company_id: str, kind: str) -> list[Record] | None:
        """The company's `locations` or `assets` snapshot; None if it could not be read."""
        key = (company_id, kind)
        with self._lock:
            if key not in self._trees:
                try:
                    self._trees[key] = self.client.paginate(f"/companies/{company_id}/{kind}")
                except (Forbidden, NotFound) as exc:
                    self.failures.append(f"company {company_id} {kind}: {exc}")
                    return None
            return self._trees[key]

    def components(self, sensor_type: str) -> list[Record]:
        """Sensor-carrying assets of `sensor_type` across the sync's companies."""
        found = []
        for company in self.companies():
            for asset in self.tree(company["id"], "assets") or []:
                if asset.get("sensorType") == sensor_type:
                    found.append({**asset, "companyId": asset.get("companyId", company["id"])})
        return found
