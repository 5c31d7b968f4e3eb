"""Which telemetry each monitored asset has: declared by the API, or found by probing.

An integration layer's assets carry `sensorType`. The published API's do not: an asset
whose `sensors` list is non-empty is monitored, and only the telemetry endpoint that
answers with samples tells which kind it is. Such an asset is probed once over the range
the sync reads, newest 7 days first: vibration, then energy active power, then the same
7 days earlier, until one answers with samples (a sensor that reports costs one request,
a meter two). The answer is remembered in the pipeline's state (committed with the load,
like every cursor), so later syncs send no probe. An asset that answered neither is
probed again after a day, or at once when a sync reads further back than its probe
looked (`--start`); any asset is probed again when its `sensors` list changes (a sensor
was swapped).
A probe that fails (after the client's retries) is a failure of that asset only: it
stays unknown, its memory unchanged, and the next sync probes it again.
"""

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sources import settings
from sources.client import TractianClient, iso8601
from sources.errors import AuthError, NotFound, TractianError

Record = dict[str, Any]
# sensor type -> the path under /assets/{id} whose samples prove it
PROBES = (("vibration", "vibration"), ("energy", "energy/active-power"))
REPROBE_UNKNOWN_AFTER = timedelta(days=1)
DECLARED, PROBED = "asset", "probe"


@dataclass(frozen=True)
class SensorType:
    asset_id: str
    company_id: str
    sensor_type: str
    detected_by: str  # DECLARED or PROBED


def needs_probe(asset: Record, memory: dict[str, Any], since: datetime, now: datetime) -> bool:
    """Whether a monitored asset without `sensorType` must be probed by a sync reading
    [since, now)."""
    known = memory.get(asset["id"])
    if known is None or known["sensors"] != asset.get("sensors"):
        return True
    if known["type"] is not None:
        return False
    looked_from = datetime.fromisoformat(known["probed_from"])
    probed_at = datetime.fromisoformat(known["probed_at"])
    return since < looked_from or now - probed_at >= REPROBE_UNKNOWN_AFTER


def sensor_types(
    client: TractianClient,
    assets: Iterable[Record],
    memory: dict[str, Any],
    since: datetime,
    now: datetime,
    *,
    failures: list[str],
    concurrency: int = settings.TELEMETRY_CONCURRENCY,
) -> list[SensorType]:
    """Every monitored asset's sensor type that is known, probing where needed.

    `memory` (asset id -> {type, sensors, probed_from, probed_at}) is read and updated
    in place.
    """
    found: list[SensorType] = []
    to_probe: list[Record] = []
    for asset in assets:
        declared = asset.get("sensorType")
        if declared:
            found.append(SensorType(asset["id"], asset["companyId"], declared, DECLARED))
        elif asset.get("sensors"):
            if needs_probe(asset, memory, since, now):
                to_probe.append(asset)
            elif memory[asset["id"]]["type"] is not None:
                kind = memory[asset["id"]]["type"]
                found.append(SensorType(asset["id"], asset["companyId"], kind, PROBED))
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="probe") as pool:
        outcomes = list(pool.map(lambda a: _probe(client, a["id"], since, now), to_probe))
    for asset, outcome in zip(to_probe, outcomes, strict=True):
        if isinstance(outcome, AuthError):
            raise outcome
        if isinstance(outcome, TractianError):
            failures.append(f"probe of asset {asset['id']}'s telemetry: {outcome}")
            continue
        memory[asset["id"]] = {
            "type": outcome,
            "sensors": asset.get("sensors"),
            "probed_from": since.isoformat(),
            "probed_at": now.isoformat(),
        }
        if outcome is not None:
            found.append(SensorType(asset["id"], asset["companyId"], outcome, PROBED))
    return found


def _probe(
    client: TractianClient, asset_id: str, since: datetime, now: datetime
) -> str | TractianError | None:
    """The first kind whose endpoint has samples in [since, now), newest week first."""
    end = now
    while end > since:
        window = {"start": iso8601(max(since, end - settings.MAX_WINDOW)), "end": iso8601(end)}
        for kind, path in PROBES:
            try:
                body = client.get(f"/assets/{asset_id}/{path}", window)
            except NotFound:
                continue  # the integration layer's "not this kind" (the published API: 204)
            except TractianError as exc:
                return exc
            if body and body.get("sampledAt"):
                return kind
        end -= settings.MAX_WINDOW
    return None
