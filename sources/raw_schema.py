"""The raw tables of dataset `tractian_raw`: names, Arrow schemas and primary keys.

This is the contract between the connector (which builds these Arrow tables from API
responses), the simulator's ground truth (which builds them from its model) and the
transforms (which read them from DuckDB). Columns are snake_case versions of the API's
camelCase fields; nested objects are flattened (`deleted.value` -> `is_deleted`), lists
of ids are kept as JSON text. Every row carries `connection_name`, part of every primary
key, so two connections that can read the same company never overwrite each other.

dlt adds `_dlt_load_id` and `_dlt_id` to each table when loading.
"""

from dataclasses import dataclass

import duckdb
import pyarrow as pa

DATASET = "tractian_raw"

TS = pa.timestamp("us", tz="UTC")

VIBRATION_MEASURES = ("rms", "peak", "peak_to_peak", "crest_factor", "crest_factor_db")
VIBRATION_AXES = ("x", "y", "z")
# The per-phase energy quantities, named as the API's paths name them
# (GET /assets/{id}/energy/{quantity}) and kept in the API's units: current A, voltage V,
# active-power W, power-factor (no unit), reactive-power VAR. The clean layer converts.
ENERGY_QUANTITIES = ("current", "voltage", "active-power", "power-factor", "reactive-power")
# Line quantities (voltage) are reported between phases, the others per phase.
PHASES_BY_QUANTITY = {
    "current": ("a", "b", "c"),
    "voltage": ("ab", "bc", "ac"),
    "active-power": ("a", "b", "c"),
    "power-factor": ("a", "b", "c"),
    "reactive-power": ("a", "b", "c"),
}
ENERGY_PHASES = ("a", "b", "c", "ab", "bc", "ac")
ENERGY_STATS = ("average", "minimum", "maximum")


def _key(name: str, type_: pa.DataType) -> pa.Field:
    return pa.field(name, type_, nullable=False)


CONNECTION = _key("connection_name", pa.string())


@dataclass(frozen=True)
class RawTable:
    """One raw table: its name, Arrow schema and primary key."""

    name: str
    schema: pa.Schema
    primary_key: tuple[str, ...]
    telemetry: bool = False


def _vibration_schema() -> pa.Schema:
    fields = [
        CONNECTION,
        pa.field("company_id", pa.string()),
        _key("asset_id", pa.string()),
        _key("sampled_at", TS),
        pa.field("temperature", pa.float64()),
        pa.field("powered", pa.bool_()),
    ]
    for family in ("accel", "vel"):
        for measure in VIBRATION_MEASURES:
            for axis in VIBRATION_AXES:
                fields.append(pa.field(f"{family}_{measure}_{axis}", pa.float64()))
    return pa.schema(fields)


def _energy_schema() -> pa.Schema:
    fields = [
        CONNECTION,
        pa.field("company_id", pa.string()),
        _key("asset_id", pa.string()),
        _key("quantity", pa.string()),
        _key("sampled_at", TS),
    ]
    for stat in ENERGY_STATS:
        for phase in ENERGY_PHASES:
            fields.append(pa.field(f"{stat}_{phase}", pa.float64()))
    return pa.schema(fields)


COMPANIES = RawTable(
    "companies",
    pa.schema([CONNECTION, _key("id", pa.string()), pa.field("name", pa.string())]),
    ("connection_name", "id"),
)

LOCATIONS = RawTable(
    "locations",
    pa.schema(
        [
            CONNECTION,
            _key("id", pa.string()),
            pa.field("company_id", pa.string()),
            pa.field("name", pa.string()),
            pa.field("parent_id", pa.string()),
            # Set when the record disappeared from the API's snapshot; null while present.
            pa.field("missing_since", TS),
        ]
    ),
    ("connection_name", "id"),
)

ASSETS = RawTable(
    "assets",
    pa.schema(
        [
            CONNECTION,
            _key("id", pa.string()),
            pa.field("company_id", pa.string()),
            pa.field("name", pa.string()),
            pa.field("location_id", pa.string()),
            pa.field("parent_id", pa.string()),
            pa.field("sensors", pa.string()),  # JSON array of sensor ids
            pa.field("sensor_id", pa.string()),
            pa.field("sensor_type", pa.string()),
            pa.field("gateway_id", pa.string()),
            pa.field("status", pa.string()),
            pa.field("code", pa.string()),
            pa.field("criticality_id", pa.string()),
            pa.field("manufacturer", pa.string()),
            pa.field("model_type", pa.string()),
            pa.field("serial_number", pa.string()),
            pa.field("created_at", TS),
            pa.field("updated_at", TS),
            pa.field("is_deleted", pa.bool_()),  # the API's deleted.value
            pa.field("is_disabled", pa.bool_()),  # the API's disabled.value
            pa.field("disabled_at", TS),  # the API's disabled.date
            pa.field("missing_since", TS),
        ]
    ),
    ("connection_name", "id"),
)

VIBRATION_SAMPLES = RawTable(
    "vibration_samples",
    _vibration_schema(),
    ("connection_name", "asset_id", "sampled_at"),
    telemetry=True,
)

RPM_SAMPLES = RawTable(
    "rpm_samples",
    pa.schema(
        [
            CONNECTION,
            pa.field("company_id", pa.string()),
            _key("asset_id", pa.string()),
            _key("sampled_at", TS),
            pa.field("sample_id", pa.string()),
            pa.field("rpm", pa.float64()),
        ]
    ),
    ("connection_name", "asset_id", "sampled_at"),
    telemetry=True,
)

ENERGY_SAMPLES = RawTable(
    "energy_samples",
    _energy_schema(),
    ("connection_name", "asset_id", "quantity", "sampled_at"),
    telemetry=True,
)


def _interval_schema(*values: pa.Field) -> pa.Schema:
    """An energy interval series: one value (or two) and `forecast` per `sampled_at`."""
    return pa.schema(
        [
            CONNECTION,
            pa.field("company_id", pa.string()),
            _key("asset_id", pa.string()),
            _key("sampled_at", TS),
            *values,
            pa.field("forecast", pa.bool_()),
        ]
    )


ENERGY_CONSUMPTION = RawTable(
    "energy_consumption",
    _interval_schema(
        pa.field("consumption", pa.float64()),  # Wh in the interval ending at sampled_at
        pa.field("accumulated_consumption", pa.float64()),  # Wh
    ),
    ("connection_name", "asset_id", "sampled_at"),
    telemetry=True,
)

ENERGY_DEMAND = RawTable(
    "energy_demand",
    _interval_schema(pa.field("demand", pa.float64())),  # kW, as the API serves it
    ("connection_name", "asset_id", "sampled_at"),
    telemetry=True,
)

ENERGY_COST = RawTable(
    "energy_cost",
    _interval_schema(pa.field("cost", pa.float64())),  # in the company's currency
    ("connection_name", "asset_id", "sampled_at"),
    telemetry=True,
)

# What the connector learned about each monitored asset: which telemetry it has. From the
# asset's `sensorType` where the API gives one (`detected_by` = "asset"), otherwise from
# which telemetry endpoint answered with samples ("probe"). Assets whose probes found no
# samples yet have no row.
ASSET_SENSOR_TYPES = RawTable(
    "asset_sensor_types",
    pa.schema(
        [
            CONNECTION,
            _key("asset_id", pa.string()),
            pa.field("company_id", pa.string()),
            pa.field("sensor_type", pa.string()),  # "vibration" | "energy"
            pa.field("detected_by", pa.string()),  # "asset" | "probe"
        ]
    ),
    ("connection_name", "asset_id"),
)

INSIGHTS = RawTable(
    "insights",
    pa.schema(
        [
            CONNECTION,
            _key("id", pa.string()),
            pa.field("company_id", pa.string()),
            pa.field("type", pa.string()),
            pa.field("number", pa.int64()),
            pa.field("created_at", TS),
            pa.field("asset_id", pa.string()),
            pa.field("inspection_id", pa.string()),
            pa.field("description", pa.string()),
            pa.field("event_id", pa.string()),
            pa.field("status", pa.string()),
            pa.field("fix_status", pa.string()),
            pa.field("reference_date", TS),
            pa.field("updated_at", TS),
        ]
    ),
    ("connection_name", "id"),
)

EVENTS = RawTable(
    "events",
    pa.schema(
        [
            CONNECTION,
            _key("id", pa.string()),
            pa.field("company_id", pa.string()),
            pa.field("type", pa.string()),
            pa.field("asset_id", pa.string()),
            pa.field("location_id", pa.string()),
            pa.field("description", pa.string()),
            pa.field("start_date", TS),
            pa.field("end_date", TS),
            pa.field("created_at", TS),
            pa.field("created_by_user_id", pa.string()),
        ]
    ),
    ("connection_name", "id"),
)

WORK_ORDERS = RawTable(
    "work_orders",
    pa.schema(
        [
            CONNECTION,
            _key("id", pa.string()),
            pa.field("company_id", pa.string()),
            pa.field("number", pa.int64()),
            pa.field("status", pa.string()),
            pa.field("title", pa.string()),
            pa.field("asset_id", pa.string()),
            pa.field("location_id", pa.string()),
            pa.field("priority_id", pa.string()),
            pa.field("category_ids", pa.string()),  # JSON array of category ids
            pa.field("created_at", TS),
            pa.field("updated_at", TS),
            pa.field("started_at", TS),
            pa.field("due_date", TS),
            pa.field("canceled_at", TS),
            pa.field("canceled_reason", pa.string()),
            pa.field("is_deleted", pa.bool_()),  # the API's deleted.value
            # JSON array of {startedAt, endedAt, status, durationInSeconds}, as the API gives it
            pa.field("elapsed_intervals", pa.string()),
            pa.field("total_cost", pa.float64()),  # the API's totalCost.total
        ]
    ),
    ("connection_name", "id"),
)

WORK_ORDER_PRIORITIES = RawTable(
    "work_order_priorities",
    pa.schema(
        [
            CONNECTION,
            _key("id", pa.string()),
            pa.field("company_id", pa.string()),
            pa.field("name", pa.string()),
            pa.field("color", pa.string()),
            pa.field("order", pa.int64()),
        ]
    ),
    ("connection_name", "id"),
)

WORK_ORDER_CATEGORIES = RawTable(
    "work_order_categories",
    pa.schema(
        [
            CONNECTION,
            _key("id", pa.string()),
            pa.field("company_id", pa.string()),
            pa.field("name", pa.string()),
            pa.field("color", pa.string()),
            pa.field("code", pa.string()),
            pa.field("type", pa.string()),
            pa.field("is_preventive", pa.bool_()),
            pa.field("include_in_indicators", pa.bool_()),
        ]
    ),
    ("connection_name", "id"),
)

RAW_TABLES: dict[str, RawTable] = {
    t.name: t
    for t in (
        COMPANIES,
        LOCATIONS,
        ASSETS,
        VIBRATION_SAMPLES,
        RPM_SAMPLES,
        ENERGY_SAMPLES,
        ENERGY_CONSUMPTION,
        ENERGY_DEMAND,
        ENERGY_COST,
        ASSET_SENSOR_TYPES,
        INSIGHTS,
        EVENTS,
        WORK_ORDERS,
        WORK_ORDER_PRIORITIES,
        WORK_ORDER_CATEGORIES,
    )
}


TELEMETRY_TABLES = tuple(t for t in RAW_TABLES.values() if t.telemetry)


def present_tables(conn: duckdb.DuckDBPyConnection) -> set[str]:
    """The raw tables that exist in the warehouse `conn` is connected to."""
    rows = conn.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = ?", [DATASET]
    ).fetchall()
    return {row[0] for row in rows}
