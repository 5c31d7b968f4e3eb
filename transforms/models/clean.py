"""pandera models of the clean tables (dimensions and facts).

Each model is strict (no column more, none less) and checks types, nullability, keys
and ranges. The quarantine rules make sure no row that breaks them reaches a clean
table, so a failure here is a bug in the transforms, and the run stops before writing.
"""

from dataclasses import dataclass

import pandera.polars as pa
import polars as pl

from transforms import category_map
from transforms.raw import AXES, ENERGY_PHASES, VIBRATION_MEASURES
from transforms.steps.rules import EARLIEST_VALID, TEMPERATURE_RANGE_C
from transforms.steps.vibration_zones import ZONES

UTC = pl.Datetime("us", "UTC")
KINDS = ("asset", "component")
WORK_ORDER_KINDS = ("corrective", "preventive", "predictive", "other", "unknown")
FAILURE_EVENT_TYPES = ("functionalFailure", "totalFailure", "unplannedStop")
_UNITS = {"rms": "_mm_s", "peak": "_mm_s", "peak_to_peak": "_mm_s"}


def vibration_column(family: str, measure: str, axis: str) -> str:
    """The clean name of a raw vibration column, with its unit (mm/s, g) where it has one."""
    units = {"vel": _UNITS, "accel": dict.fromkeys(_UNITS, "_g")}[family]
    return f"{family}_{measure}_{axis}{units.get(measure, '')}"


# Raw -> clean vibration columns. Crest factors in dB are left out of the clean table:
# they are 20 * log10(crest factor), derivable and not worth their storage at 10M rows.
VIBRATION_COLUMNS = {
    f"{family}_{measure}_{axis}": vibration_column(family, measure, axis)
    for family in ("vel", "accel")
    for measure in VIBRATION_MEASURES
    if measure != "crest_factor_db"
    for axis in AXES
}


@dataclass(frozen=True)
class EnergyQuantity:
    """How a raw energy quantity reads in clean.fct_energy: its snake_case name, its unit,
    and how many of the API's units make one of it (the raw tables keep the API's)."""

    name: str
    unit: str | None
    per_unit: float = 1.0


# Raw quantity (the API's path name) -> its clean form.
ENERGY_QUANTITIES = {
    "current": EnergyQuantity("current", "A"),
    "voltage": EnergyQuantity("voltage", "V"),
    "active-power": EnergyQuantity("active_power", "kW", 1000.0),  # served in W
    "power-factor": EnergyQuantity("power_factor", None),
    "reactive-power": EnergyQuantity("reactive_power", "kVAR", 1000.0),  # served in VAR
}
WH_PER_KWH = 1000.0  # consumption is served in Wh


class Lineage(pa.DataFrameModel):
    """Where a clean row came from: its connection and its load."""

    connection_name: str = pa.Field(nullable=False)
    dlt_load_id: str = pa.Field(nullable=False, alias="_dlt_load_id")


class DimCompany(Lineage):
    company_id: str = pa.Field(unique=True)
    name: str = pa.Field(nullable=True)

    class Config:
        strict = True


class DimLocation(Lineage):
    location_id: str = pa.Field(unique=True)
    company_id: str = pa.Field(nullable=True)
    name: str = pa.Field(nullable=True)
    parent_location_id: str = pa.Field(nullable=True)
    path: str
    depth: int = pa.Field(ge=0)
    is_deleted: bool
    missing_since: UTC = pa.Field(nullable=True)

    class Config:
        strict = True


class DimAsset(Lineage):
    asset_id: str = pa.Field(unique=True)
    company_id: str = pa.Field(nullable=True)
    name: str = pa.Field(nullable=True)
    kind: str = pa.Field(isin=KINDS)
    parent_asset_id: str = pa.Field(nullable=True)
    location_id: str = pa.Field(nullable=True)
    path: str
    depth: int = pa.Field(ge=0)
    sensor_id: str = pa.Field(nullable=True)
    sensor_type: str = pa.Field(nullable=True)
    # "asset" | "probe", as the connector reports it: not constrained here, so that a new
    # value from the connector cannot stop the run.
    sensor_type_source: str = pa.Field(nullable=True)
    gateway_id: str = pa.Field(nullable=True)
    status: str = pa.Field(nullable=True)
    is_deleted: bool
    is_disabled: bool = pa.Field(nullable=True)
    criticality_id: str = pa.Field(nullable=True)
    created_at: UTC = pa.Field(nullable=True)
    updated_at: UTC = pa.Field(nullable=True)
    missing_since: UTC = pa.Field(nullable=True)

    class Config:
        strict = True


class BridgeAssetAncestor(pa.DataFrameModel):
    asset_id: str
    ancestor_asset_id: str
    distance: int = pa.Field(ge=0)

    class Config:
        strict = True
        unique = ("asset_id", "ancestor_asset_id")


class AssetIsoConfig(pa.DataFrameModel):
    asset_id: str = pa.Field(unique=True)
    machine_group: int = pa.Field(isin=[1, 2])
    foundation: str = pa.Field(isin=["rigid", "flexible"])
    configured_on: str = pa.Field(nullable=True)
    zone_a_max_mm_s: float = pa.Field(gt=0)
    zone_b_max_mm_s: float = pa.Field(gt=0)
    zone_c_max_mm_s: float = pa.Field(gt=0)

    class Config:
        strict = True


class DimWorkOrderPriority(Lineage):
    priority_id: str = pa.Field(unique=True)
    company_id: str = pa.Field(nullable=True)
    name: str = pa.Field(nullable=True)
    color: str = pa.Field(nullable=True)
    sort_order: int = pa.Field(nullable=True)

    class Config:
        strict = True


class DimWorkOrderCategory(Lineage):
    category_id: str = pa.Field(unique=True)
    company_id: str = pa.Field(nullable=True)
    name: str = pa.Field(nullable=True)
    kind: str = pa.Field(isin=WORK_ORDER_KINDS)
    kind_source: str = pa.Field(isin=category_map.SOURCES)
    is_preventive: bool = pa.Field(nullable=True)
    include_in_indicators: bool = pa.Field(nullable=True)

    class Config:
        strict = True


class Sample(Lineage):
    """A telemetry sample of a known asset at a possible time."""

    asset_id: str
    sampled_at: UTC = pa.Field(ge=EARLIEST_VALID)


def _vibration_model() -> type[pa.DataFrameModel]:
    low, high = TEMPERATURE_RANGE_C
    annotations: dict = {"temperature_c": float, "powered": bool}
    fields: dict = {
        "temperature_c": pa.Field(ge=low, le=high, nullable=True),
        "powered": pa.Field(nullable=True),
    }
    rms_first = sorted(VIBRATION_COLUMNS, key=lambda raw: "_rms_" not in raw)
    for raw in rms_first:
        clean = VIBRATION_COLUMNS[raw]
        annotations[clean] = float
        fields[clean] = pa.Field(ge=1 if "crest_factor" in raw else 0, nullable=True)
        if raw == "vel_rms_z":
            annotations["vel_rms_max_mm_s"] = float
            fields["vel_rms_max_mm_s"] = pa.Field(ge=0, nullable=True)
    annotations |= {"iso_zone": str, "nulled_fields": str, "company_id": str}
    fields["iso_zone"] = pa.Field(isin=ZONES, nullable=True)
    fields["nulled_fields"] = pa.Field(nullable=True, str_matches=r"^[a-z_]+(,[a-z_]+)*$")
    fields["company_id"] = pa.Field(nullable=True)
    config = type("Config", (), {"strict": True, "unique": ["asset_id", "sampled_at"]})
    namespace = {"__annotations__": annotations, **fields, "Config": config, "__module__": __name__}
    return type("FctVibration", (Sample,), namespace)


FctVibration = _vibration_model()


class FctRpm(Sample):
    rpm: float = pa.Field(ge=0, nullable=True)
    sample_id: str = pa.Field(nullable=True)
    company_id: str = pa.Field(nullable=True)

    class Config:
        strict = True
        unique = ("asset_id", "sampled_at")


class FctEnergy(Sample):
    quantity: str = pa.Field(isin=[q.name for q in ENERGY_QUANTITIES.values()])
    phase: str = pa.Field(isin=list(ENERGY_PHASES))
    avg: float = pa.Field(nullable=True)
    min: float = pa.Field(nullable=True)
    max: float = pa.Field(nullable=True)
    unit: str = pa.Field(nullable=True)
    company_id: str = pa.Field(nullable=True)

    class Config:
        strict = True
        unique = ("asset_id", "quantity", "sampled_at", "phase")


class FctEnergyConsumption(Sample):
    consumption_kwh: float = pa.Field(ge=0, nullable=True)
    accumulated_consumption_kwh: float = pa.Field(ge=0, nullable=True)
    is_forecast: bool = pa.Field(nullable=True)
    company_id: str = pa.Field(nullable=True)

    class Config:
        strict = True
        unique = ("asset_id", "sampled_at")


class FctEnergyDemand(Sample):
    demand_kw: float = pa.Field(ge=0, nullable=True)
    is_forecast: bool = pa.Field(nullable=True)
    company_id: str = pa.Field(nullable=True)

    class Config:
        strict = True
        unique = ("asset_id", "sampled_at")


class FctEnergyCost(Sample):
    cost: float = pa.Field(ge=0, nullable=True)  # the company's currency
    is_forecast: bool = pa.Field(nullable=True)
    company_id: str = pa.Field(nullable=True)

    class Config:
        strict = True
        unique = ("asset_id", "sampled_at")
