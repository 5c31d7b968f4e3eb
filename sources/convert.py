"""API JSON to Arrow tables with the raw schemas of `sources.raw_schema`.

Telemetry bodies are columnar already, so each array becomes one Arrow column without
building a Python object per sample. Catalog records become rows through one table of
field mappings per raw table.
"""

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
import pyarrow as pa

from sources import raw_schema as rs

Record = dict[str, Any]
Extractor = Callable[[Record], Any]

_CAMEL = {
    "rms": "rms",
    "peak": "peak",
    "peak_to_peak": "peakToPeak",
    "crest_factor": "crestFactor",
    "crest_factor_db": "crestFactorDb",
}


def _json(value: Any) -> str | None:
    return None if value is None else orjson.dumps(value).decode()


def _nested(*path: str) -> Extractor:
    def extract(record: Record) -> Any:
        value: Any = record
        for key in path:
            if not isinstance(value, dict):
                return None
            value = value.get(key)
        return value

    return extract


def _field(name: str) -> Extractor:
    return lambda record: record.get(name)


_CATALOG_MAPPINGS: dict[str, dict[str, Extractor]] = {
    "companies": {"id": _field("id"), "name": _field("name")},
    "locations": {
        "id": _field("id"),
        "company_id": _field("companyId"),
        "name": _field("name"),
        "parent_id": _field("parentId"),
    },
    "assets": {
        "id": _field("id"),
        "company_id": _field("companyId"),
        "name": _field("name"),
        "location_id": _field("locationId"),
        "parent_id": _field("parentId"),
        "sensors": lambda r: _json(r.get("sensors")),
        "sensor_id": _field("sensorId"),
        "sensor_type": _field("sensorType"),
        "gateway_id": _field("gatewayId"),
        "status": _field("status"),
        "code": _field("code"),
        "criticality_id": _field("criticalityId"),
        "manufacturer": _field("manufacturer"),
        "model_type": _field("modelType"),
        "serial_number": _field("serialNumber"),
        "created_at": _field("createdAt"),
        "updated_at": _field("updatedAt"),
        "is_deleted": _nested("deleted", "value"),
        "is_disabled": _nested("disabled", "value"),
        "disabled_at": _nested("disabled", "date"),
    },
    "insights": {
        "id": _field("id"),
        "company_id": _field("companyId"),
        "type": _field("type"),
        "number": _field("number"),
        "created_at": _field("createdAt"),
        "asset_id": _field("assetId"),
        "inspection_id": _field("inspectionId"),
        "description": _field("description"),
        "event_id": _field("eventId"),
        "status": _field("status"),
        "fix_status": _field("fixStatus"),
        "reference_date": _field("referenceDate"),
        "updated_at": _field("updatedAt"),
    },
    "events": {
        "id": _field("id"),
        "company_id": _field("companyId"),
        "type": _field("type"),
        "asset_id": _field("assetId"),
        "location_id": _field("locationId"),
        "description": _field("description"),
        "start_date": _field("startDate"),
        "end_date": _field("endDate"),
        "created_at": _field("createdAt"),
        "created_by_user_id": _field("createdByUserId"),
    },
    "work_orders": {
        "id": _field("id"),
        "company_id": _field("companyId"),
        "number": _field("number"),
        "status": _field("status"),
        "title": _field("title"),
        "asset_id": _field("assetId"),
        "location_id": _field("locationId"),
        "priority_id": _field("priorityId"),
        "category_ids": lambda r: _json(r.get("categoryIds")),
        "created_at": _field("createdAt"),
        "updated_at": _field("updatedAt"),
        "started_at": _field("startedAt"),
        "due_date": _field("dueDate"),
        "canceled_at": _field("canceledAt"),
        "canceled_reason": _field("canceledReason"),
        "is_deleted": _nested("deleted", "value"),
        "elapsed_intervals": lambda r: _json(r.get("elapsedIntervals")),
        "total_cost": _nested("totalCost", "total"),
    },
    "work_order_priorities": {
        "id": _field("id"),
        "company_id": _field("companyId"),
        "name": _field("name"),
        "color": _field("color"),
        "order": _field("order"),
    },
    "asset_sensor_types": {  # records are `sensor_types.SensorType`s as dicts
        "asset_id": _field("asset_id"),
        "company_id": _field("company_id"),
        "sensor_type": _field("sensor_type"),
        "detected_by": _field("detected_by"),
    },
    "work_order_categories": {
        "id": _field("id"),
        "company_id": _field("companyId"),
        "name": _field("name"),
        "color": _field("color"),
        "code": _field("code"),
        "type": _field("type"),
        "is_preventive": _field("isPreventive"),
        "include_in_indicators": _field("includeInIndicators"),
    },
}


def _column(values: Sequence[Any], type_: pa.DataType) -> pa.Array:
    """An Arrow column; ISO timestamp strings are parsed by Arrow, not per value in Python
    (but for a column with one the contract does not promise, e.g. without a zone)."""
    if pa.types.is_timestamp(type_):
        try:
            return pa.array(values, pa.string()).cast(type_)
        except pa.ArrowInvalid:
            return pa.array([_utc(v) for v in values], type_)
    return pa.array(values, type_)


def _utc(text: str | None) -> datetime | None:
    """An ISO 8601 timestamp; one without a zone is UTC, as every API time is."""
    if text is None:
        return None
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _constant(value: str | None, length: int) -> pa.Array:
    # pa.repeat builds the column in C: building a list of `length` items first cost a
    # third of an energy window's conversion (bench/).
    return pa.repeat(pa.scalar(value, pa.string()), length)


def records_to_table(
    table: rs.RawTable,
    connection_name: str,
    records: Sequence[Record],
    company_id: str | None = None,
) -> pa.Table:
    """Catalog records of one raw table as Arrow; `company_id` fills records lacking it."""
    mapping = _CATALOG_MAPPINGS[table.name]
    columns = []
    for column in table.schema:
        if column.name == "connection_name":
            columns.append(_constant(connection_name, len(records)))
        elif column.name in mapping:
            values = [mapping[column.name](r) for r in records]
            if column.name == "company_id" and company_id is not None:
                values = [v if v is not None else company_id for v in values]
            columns.append(_column(values, column.type))
        else:  # connector-owned columns such as missing_since
            columns.append(pa.nulls(len(records), column.type))
    return pa.Table.from_arrays(columns, schema=table.schema)


def _telemetry_table(
    table: rs.RawTable,
    connection_name: str,
    asset_id: str,
    company_id: str,
    sampled_at: Sequence[str],
    arrays: dict[str, Sequence[Any] | None],
    constants: dict[str, str] | None = None,
) -> pa.Table:
    n = len(sampled_at)
    fixed = {
        "connection_name": connection_name,
        "asset_id": asset_id,
        "company_id": company_id,
        **(constants or {}),
    }
    columns = []
    for column in table.schema:
        if column.name in fixed:
            columns.append(_constant(fixed[column.name], n))
        elif column.name == "sampled_at":
            columns.append(_column(sampled_at, column.type))
        elif arrays.get(column.name) is not None:
            columns.append(_column(arrays[column.name], column.type))
        else:
            columns.append(pa.nulls(n, column.type))
    return pa.Table.from_arrays(columns, schema=table.schema)


def vibration_table(connection_name: str, asset_id: str, company_id: str, body: Record) -> pa.Table:
    arrays: dict[str, Sequence[Any] | None] = {
        "temperature": body.get("temperature"),
        "powered": body.get("powered"),
    }
    for family in ("accel", "vel"):
        for measure in rs.VIBRATION_MEASURES:
            per_axis = _nested(family, _CAMEL[measure])(body) or {}
            for axis in rs.VIBRATION_AXES:
                arrays[f"{family}_{measure}_{axis}"] = per_axis.get(axis)
    return _telemetry_table(
        rs.VIBRATION_SAMPLES,
        connection_name,
        asset_id,
        company_id,
        body["sampledAt"],
        arrays,
    )


def rpm_table(connection_name: str, asset_id: str, company_id: str, body: Record) -> pa.Table:
    arrays = {"sample_id": body.get("id"), "rpm": body.get("rpm")}
    return _telemetry_table(
        rs.RPM_SAMPLES, connection_name, asset_id, company_id, body["sampledAt"], arrays
    )


def energy_table(
    connection_name: str, asset_id: str, company_id: str, body: Record, quantity: str
) -> pa.Table:
    arrays: dict[str, Sequence[Any] | None] = {}
    for stat in rs.ENERGY_STATS:
        per_phase = body.get(stat) or {}
        for phase in rs.PHASES_BY_QUANTITY[quantity]:
            arrays[f"{stat}_{phase}"] = per_phase.get(phase)
    return _telemetry_table(
        rs.ENERGY_SAMPLES,
        connection_name,
        asset_id,
        company_id,
        body["sampledAt"],
        arrays,
        constants={"quantity": quantity},
    )


# raw interval table -> its columns and the body's fields they come from
_INTERVAL_FIELDS = {
    rs.ENERGY_CONSUMPTION.name: {
        "consumption": "consumption",
        "accumulated_consumption": "accumulatedConsumption",
        "forecast": "forecast",
    },
    rs.ENERGY_DEMAND.name: {"demand": "demand", "forecast": "forecast"},
    rs.ENERGY_COST.name: {"cost": "cost", "forecast": "forecast"},
}


def interval_table(
    connection_name: str, asset_id: str, company_id: str, body: Record, table: str
) -> pa.Table:
    """A consumption, demand or cost body: one value per interval, as served."""
    arrays = {column: body.get(name) for column, name in _INTERVAL_FIELDS[table].items()}
    return _telemetry_table(
        rs.RAW_TABLES[table],
        connection_name,
        asset_id,
        company_id,
        body["sampledAt"],
        arrays,
    )
