"""A small plant shared by several tests: one company, two locations, two machines.

Plant (L1)
  Line 1 (L2)
    Motor A (M1, asset)      -> Bearing DE (V1, vibration), Bearing NDE (V2, vibration)
    Motor B (M2, asset)      -> Bearing B (V3, vibration)
  Panel (E1, energy component, directly at L1)

Two ways to load it, as the two API profiles give it: the integration profile's assets
carry `sensor_id`, `sensor_type`, `gateway_id` and `status`; Tractian's published API
gives only the `sensors` list (and no company name), and the connector records which
telemetry it found each monitored asset to have in `asset_sensor_types`.
"""

import json

from tests.transforms.rawdb import RawWarehouse, ts

COMPANY = "c1"
# Component -> (sensor id, sensor type).
SENSORS = {
    "V1": ("S1", "vibration"),
    "V2": ("S2", "vibration"),
    "V3": ("S3", "vibration"),
    "E1": ("S4", "energy"),
}


def detection(asset_id: str, sensor_type: str, detected_by: str = "probe") -> dict:
    """A raw asset_sensor_types row: the telemetry the connector found an asset to have."""
    return {
        "asset_id": asset_id,
        "company_id": COMPANY,
        "sensor_type": sensor_type,
        "detected_by": detected_by,
    }


def energy_sample(quantity: str, at: str, **values) -> dict:
    """A raw energy sample of meter E1 (`quantity` as the API names it)."""
    return {
        "company_id": COMPANY,
        "asset_id": "E1",
        "quantity": quantity,
        "sampled_at": ts(at),
    } | values


def three(prefix: str, phases: tuple[str, ...], values: tuple[float, float, float]) -> dict:
    """`prefix_<phase>` columns, one value per phase."""
    return {f"{prefix}_{p}": v for p, v in zip(phases, values, strict=True)}


def interval_row(at: str, forecast: bool = False, asset: str = "E1", **values) -> dict:
    """A row of an interval series (energy_consumption, energy_demand, energy_cost)."""
    return {
        "company_id": COMPANY,
        "asset_id": asset,
        "sampled_at": ts(at),
        "forecast": forecast,
    } | values


def _sensor_fields(asset_id: str, published: bool) -> dict:
    if asset_id not in SENSORS:
        return {"sensors": "[]"} if published else {}
    sensor_id, sensor_type = SENSORS[asset_id]
    if published:
        return {"sensors": json.dumps([sensor_id])}
    gateway = {"gateway_id": "G1"} if sensor_type == "vibration" else {}
    return {
        "sensor_id": sensor_id,
        "sensor_type": sensor_type,
        "status": "operating",
        **gateway,
    }


def load_plant(raw: RawWarehouse, load_id: str, *, published: bool = False) -> None:
    name = None if published else "Acme"
    raw.load("companies", [{"id": COMPANY, "name": name}], load_id)
    raw.load(
        "locations",
        [
            {"id": "L1", "company_id": COMPANY, "name": " Plant ", "parent_id": None},
            {"id": "L2", "company_id": COMPANY, "name": "Line 1", "parent_id": "L1"},
        ],
        load_id,
    )
    assets = [
        {"id": "M1", "name": "Motor A", "location_id": "L2"},
        {"id": "M2", "name": "Motor B", "location_id": "L2"},
        {"id": "V1", "name": "Bearing DE", "parent_id": "M1"},
        {"id": "V2", "name": "Bearing NDE", "parent_id": "M1"},
        {"id": "V3", "name": "Bearing B", "parent_id": "M2"},
        {"id": "E1", "name": "Panel", "location_id": "L1"},
    ]
    raw.load(
        "assets",
        [
            {"company_id": COMPANY, **asset, **_sensor_fields(asset["id"], published)}
            for asset in assets
        ],
        load_id,
    )
    if published:
        raw.load(
            "asset_sensor_types",
            [detection(asset_id, sensor_type) for asset_id, (_, sensor_type) in SENSORS.items()],
            load_id,
        )
