"""Every table this layer writes, by qualified name, with the pandera model guarding it.

`MODELS["clean.dim_asset"]` is the model; `table_schema(name)` the polars schema the
table is written with (lineage columns last); `validate(name, frame)` checks a frame
and raises `TableValidationError` naming the table, the failing checks and examples.
"""

import functools

import pandera.polars as pa
import polars as pl

from transforms import tables as t
from transforms.models.clean import (
    AssetIsoConfig,
    BridgeAssetAncestor,
    DimAsset,
    DimCompany,
    DimLocation,
    DimWorkOrderCategory,
    DimWorkOrderPriority,
    FctEnergy,
    FctEnergyConsumption,
    FctEnergyCost,
    FctEnergyDemand,
    FctRpm,
    FctVibration,
)
from transforms.models.marts import (
    AggEnergyDaily,
    AggVibrationDaily,
    AssetHealthDaily,
    MaintenanceKpisMonthly,
    SensorHealthDaily,
)
from transforms.models.quarantine import QUARANTINE_MODELS
from transforms.models.records import FctEvent, FctInsight, FctWorkOrder

MODELS: dict[str, type[pa.DataFrameModel]] = {
    t.DIM_COMPANY: DimCompany,
    t.DIM_LOCATION: DimLocation,
    t.DIM_ASSET: DimAsset,
    t.BRIDGE_ASSET_ANCESTOR: BridgeAssetAncestor,
    t.ASSET_ISO_CONFIG: AssetIsoConfig,
    t.DIM_PRIORITY: DimWorkOrderPriority,
    t.DIM_CATEGORY: DimWorkOrderCategory,
    t.FCT_VIBRATION: FctVibration,
    t.FCT_RPM: FctRpm,
    t.FCT_ENERGY: FctEnergy,
    t.FCT_ENERGY_CONSUMPTION: FctEnergyConsumption,
    t.FCT_ENERGY_DEMAND: FctEnergyDemand,
    t.FCT_ENERGY_COST: FctEnergyCost,
    t.FCT_INSIGHT: FctInsight,
    t.FCT_EVENT: FctEvent,
    t.FCT_WORK_ORDER: FctWorkOrder,
    t.AGG_VIBRATION_DAILY: AggVibrationDaily,
    t.AGG_ENERGY_DAILY: AggEnergyDaily,
    t.ASSET_HEALTH_DAILY: AssetHealthDaily,
    t.SENSOR_HEALTH_DAILY: SensorHealthDaily,
    t.MAINTENANCE_KPIS_MONTHLY: MaintenanceKpisMonthly,
    **QUARANTINE_MODELS,
}
_LINEAGE = ("connection_name", "_dlt_load_id")
_EXAMPLES = 5


class TableValidationError(ValueError):
    """A frame does not satisfy its table's model."""


def table_schema(name: str) -> dict[str, pl.DataType]:
    """The polars schema of table `name`, in column order (lineage columns last)."""
    return dict(_table_schema(name))


@functools.cache
def _table_schema(name: str) -> tuple[tuple[str, pl.DataType], ...]:
    """Computed once per table: pandera's `to_schema` deep-copies the model every call
    (about 1 ms, and a run asks for some table's schema about a hundred times)."""
    columns = MODELS[name].to_schema().columns
    schema = {column: spec.dtype.type for column, spec in columns.items()}
    if name.startswith("clean."):
        schema = {
            **{c: d for c, d in schema.items() if c not in _LINEAGE},
            **{c: d for c, d in schema.items() if c in _LINEAGE},
        }
    return tuple(schema.items())


def conform(name: str, frame: pl.DataFrame) -> pl.DataFrame:
    """`frame` with exactly table `name`'s columns, in order, cast to their types."""
    return frame.select(pl.col(column).cast(dtype) for column, dtype in table_schema(name).items())


def failure_cases(name: str, frame: pl.DataFrame) -> pl.DataFrame | None:
    """pandera's failure cases of `frame` against table `name`'s model; None when valid.

    An empty frame with exactly the model's columns and types is valid without asking
    pandera: every check is row-wise (tests/transforms/test_models.py holds pandera to
    that), and most of a 15-minute run's quarantines are empty (about 10 ms each)."""
    if frame.is_empty() and frame.schema == table_schema(name):
        return None
    try:
        MODELS[name].validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        return exc.failure_cases
    return None


def validate(name: str, frame: pl.DataFrame) -> pl.DataFrame:
    """`frame` if it satisfies table `name`'s model; else TableValidationError."""
    failures = failure_cases(name, frame)
    if failures is None:
        return frame
    counts = failures.group_by("column", "check").len().sort("len", descending=True)
    summary = "; ".join(
        f"{r['column']}: {r['check']} x{r['len']}" for r in counts.iter_rows(named=True)
    )
    examples = failures.head(_EXAMPLES).select("column", "check", "failure_case").rows()
    raise TableValidationError(f"{name} failed validation: {summary}; examples {examples}")
