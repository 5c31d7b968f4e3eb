"""A small plant shared by several tests: one company, two locations, two machines.

Plant (L1)
  Line 1 (L2)
    Motor A (M1, asset)      -> Bearing DE (V1, vibration), Bearing NDE (V2, vibration)
    Motor B (M2, asset)      -> Bearing B (V3, vibration)
  Panel (E1, energy component, directly at L1)
"""

from tests.transforms.rawdb import RawWarehouse

COMPANY = "c1"


def load_plant(raw: RawWarehouse, load_id: str) -> None:
    raw.load("companies", [{"id": COMPANY, "name": "Acme"}], load_id)
    raw.load(
        "locations",
        [
            {"id": "L1", "company_id": COMPANY, "name": " Plant ", "parent_id": None},
            {"id": "L2", "company_id": COMPANY, "name": "Line 1", "parent_id": "L1"},
        ],
        load_id,
    )
    asset = {"company_id": COMPANY}
    vibration = {**asset, "sensor_type": "vibration", "status": "operating", "gateway_id": "G1"}
    raw.load(
        "assets",
        [
            {**asset, "id": "M1", "name": "Motor A", "location_id": "L2"},
            {**asset, "id": "M2", "name": "Motor B", "location_id": "L2"},
            {**vibration, "id": "V1", "name": "Bearing DE", "parent_id": "M1", "sensor_id": "S1"},
            {**vibration, "id": "V2", "name": "Bearing NDE", "parent_id": "M1", "sensor_id": "S2"},
            {**vibration, "id": "V3", "name": "Bearing B", "parent_id": "M2", "sensor_id": "S3"},
            {
                **asset,
                "id": "E1",
                "name": "Panel",
                "location_id": "L1",
                "sensor_id": "S4",
                "sensor_type": "energy",
                "status": "operating",
            },
        ],
        load_id,
    )
