"""The companies, asset trees and sensor types a sync reads, fetched once per sync.

Every resource of the source needs the company list, and telemetry needs the
components; fetching them once here keeps a sync's requests to what its windows need.
A tree that cannot be read (the token may not read the company, or the API kept failing
after the client's retries) is a failure of that company's tree, recorded once, not of
the sync: its snapshot is skipped (nothing is marked missing) and its components' streams
wait, their state unchanged, for the next sync.
"""

import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sources import settings
from sources.client import TractianClient
from sources.errors import MALFORMED_BODY_ERRORS, AuthError, TractianError, failure_cause
from sources.sensor_types import SensorType, sensor_types

Record = dict[str, Any]


@dataclass
class Catalog:
    client: TractianClient
    companies: list[Record]  # `{id, name}` of every company this sync reads
    failures: list[str]
    since: datetime  # the range telemetry is read over: probes look there
    now: datetime
    concurrency: int = settings.TELEMETRY_CONCURRENCY
    _trees: dict[tuple[str, str], list[Record] | None] = field(default_factory=dict)
    _types: list[SensorType] | None = None
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    def tree(self, company_id: str, kind: str) -> list[Record] | None:
        """The company's `locations` or `assets` snapshot; None if it could not be read."""
        key = (company_id, kind)
        with self._lock:
            if key not in self._trees:
                try:
                    self._trees[key] = self.client.paginate(f"/companies/{company_id}/{kind}")
                except AuthError:
                    raise
                except (TractianError, *MALFORMED_BODY_ERRORS) as exc:
                    self.failures.append(f"{kind} of company {company_id}: {failure_cause(exc)}")
                    self._trees[key] = None
            return self._trees[key]

    def sensor_types(self, memory: dict[str, Any]) -> list[SensorType]:
        """Every monitored asset's known sensor type (see `sensor_types`), once per sync.

        `memory` is the probe memory kept in the pipeline's state.
        """
        with self._lock:
            if self._types is None:
                self._types = sensor_types(
                    self.client,
                    self._assets(),
                    memory,
                    self.since,
                    self.now,
                    failures=self.failures,
                    concurrency=self.concurrency,
                )
            return self._types

    def components(self, sensor_type: str, memory: dict[str, Any]) -> list[SensorType]:
        """Monitored assets of `sensor_type` across the sync's companies."""
        return [t for t in self.sensor_types(memory) if t.sensor_type == sensor_type]

    def _assets(self) -> list[Record]:
        return [
            {**asset, "companyId": asset.get("companyId") or company["id"]}
            for company in self.companies
            for asset in self.tree(company["id"], "assets") or []
        ]
