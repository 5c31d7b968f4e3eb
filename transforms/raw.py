"""The raw tables this layer reads: names, columns and business keys.

A copy of the part of the raw contract (`sources/raw_schema.py`) that the transforms
need; the two layers meet at these table and column names, never at imports. dlt adds
`_dlt_load_id` to every table. Business keys leave out `connection_name`: two
connections may load the same company, and the clean layer keeps one row per business
key, the most recently loaded one.
"""

from dataclasses import dataclass

import polars as pl

RAW_SCHEMA = "tractian_raw"
LOAD_ID = "_dlt_load_id"

_TS, _STR, _F64, _BOOL, _I64 = "TIMESTAMPTZ", "VARCHAR", "DOUBLE", "BOOLEAN", "BIGINT"

POLARS_TYPES: dict[str, pl.DataType] = {
    _TS: pl.Datetime("us", "UTC"),
    _STR: pl.String(),
    _F64: pl.Float64(),
    _BOOL: pl.Boolean(),
    _I64: pl.Int64(),
}

VIBRATION_MEASURES = ("rms", "peak", "peak_to_peak", "crest_factor", "crest_factor_db")
AXES = ("x", "y", "z")
ENERGY_STATS = ("average", "minimum", "maximum")
ENERGY_PHASES = ("a", "b", "c", "ab", "bc", "ac")
# The per-phase energy quantities, named as the API's paths name them and in the units
# it serves them: current A, voltage V, active-power W, power-factor (none),
# reactive-power VAR. Voltage is line-to-line, the others per phase.
PHASES_BY_QUANTITY = {
    "current": ("a", "b", "c"),
    "voltage": ("ab", "bc", "ac"),
    "active-power": ("a", "b", "c"),
    "power-factor": ("a", "b", "c"),
    "reactive-power": ("a", "b", "c"),
}
VIBRATION_VALUES = tuple(
    f"{family}_{measure}_{axis}"
    for family in ("accel", "vel")
    for measure in VIBRATION_MEASURES
    for axis in AXES
)
ENERGY_VALUES = tuple(f"{stat}_{phase}" for stat in ENERGY_STATS for phase in ENERGY_PHASES)


@dataclass(frozen=True)
class RawTable:
    """One raw table as the transforms read it.

    `columns` maps each contract column to its DuckDB type. Telemetry tables are
    partitioned by (asset_id, UTC day of sampled_at): the unit of incremental rebuilds.
    """

    name: str
    columns: dict[str, str]
    business_key: tuple[str, ...]
    telemetry: bool = False

    @property
    def qualified(self) -> str:
        return f"{RAW_SCHEMA}.{self.name}"

    @property
    def polars_schema(self) -> dict[str, pl.DataType]:
        """The columns as read (contract columns plus the load id)."""
        schema = {name: POLARS_TYPES[type_] for name, type_ in self.columns.items()}
        return {**schema, LOAD_ID: pl.String()}


def _cols(*pairs: tuple[str, str]) -> dict[str, str]:
    return {"connection_name": _STR, **dict(pairs)}


def _telemetry(name: str, key: tuple[str, ...], *values: tuple[str, str]) -> RawTable:
    head = (("company_id", _STR), ("asset_id", _STR))
    if "quantity" in key:
        head += (("quantity", _STR),)
    columns = _cols(*head, ("sampled_at", _TS), *values)
    return RawTable(name, columns, key, telemetry=True)


# `name` may be null: the published API has no endpoint that names a company.
COMPANIES = RawTable("companies", _cols(("id", _STR), ("name", _STR)), ("id",))
LOCATIONS = RawTable(
    "locations",
    _cols(
        ("id", _STR),
        ("company_id", _STR),
        ("name", _STR),
        ("parent_id", _STR),
        ("missing_since", _TS),
    ),
    ("id",),
)
ASSETS = RawTable(
    "assets",
    _cols(
        ("id", _STR),
        ("company_id", _STR),
        ("name", _STR),
        ("location_id", _STR),
        ("parent_id", _STR),
        ("sensors", _STR),  # JSON array of sensor ids: the published API's only sensor field
        ("sensor_id", _STR),  # this and the next three: null on the published API
        ("sensor_type", _STR),
        ("gateway_id", _STR),
        ("status", _STR),
        ("code", _STR),
        ("criticality_id", _STR),
        ("manufacturer", _STR),
        ("model_type", _STR),
        ("serial_number", _STR),
        ("created_at", _TS),
        ("updated_at", _TS),
        ("is_deleted", _BOOL),
        ("is_disabled", _BOOL),
        ("disabled_at", _TS),
        ("missing_since", _TS),
    ),
    ("id",),
)
VIBRATION_SAMPLES = _telemetry(
    "vibration_samples",
    ("asset_id", "sampled_at"),
    ("temperature", _F64),
    ("powered", _BOOL),
    *((name, _F64) for name in VIBRATION_VALUES),
)
RPM_SAMPLES = _telemetry(
    "rpm_samples", ("asset_id", "sampled_at"), ("sample_id", _STR), ("rpm", _F64)
)
ENERGY_SAMPLES = _telemetry(
    "energy_samples",
    ("asset_id", "quantity", "sampled_at"),
    *((name, _F64) for name in ENERGY_VALUES),
)
ENERGY_CONSUMPTION = _telemetry(
    "energy_consumption",
    ("asset_id", "sampled_at"),
    ("consumption", _F64),  # Wh in the interval ending at sampled_at
    ("accumulated_consumption", _F64),  # Wh
    ("forecast", _BOOL),
)
ENERGY_DEMAND = _telemetry(
    "energy_demand",
    ("asset_id", "sampled_at"),
    ("demand", _F64),  # kW
    ("forecast", _BOOL),
)
ENERGY_COST = _telemetry(
    "energy_cost",
    ("asset_id", "sampled_at"),
    ("cost", _F64),  # in the company's currency
    ("forecast", _BOOL),
)
# Which telemetry the connector found each monitored asset to have: `sensor_type`
# "vibration" | "energy", `detected_by` "asset" (the asset record said so) | "probe" (a
# telemetry endpoint answered with samples). The published asset schema has no sensor
# type, so against it this is the only place the type is known.
ASSET_SENSOR_TYPES = RawTable(
    "asset_sensor_types",
    _cols(("asset_id", _STR), ("company_id", _STR), ("sensor_type", _STR), ("detected_by", _STR)),
    ("asset_id",),
)
INSIGHTS = RawTable(
    "insights",
    _cols(
        ("id", _STR),
        ("company_id", _STR),
        ("type", _STR),
        ("number", _I64),
        ("created_at", _TS),
        ("asset_id", _STR),
        ("inspection_id", _STR),
        ("description", _STR),
        ("event_id", _STR),
        ("status", _STR),
        ("fix_status", _STR),
        ("reference_date", _TS),
        ("updated_at", _TS),
    ),
    ("id",),
)
EVENTS = RawTable(
    "events",
    _cols(
        ("id", _STR),
        ("company_id", _STR),
        ("type", _STR),
        ("asset_id", _STR),
        ("location_id", _STR),
        ("description", _STR),
        ("start_date", _TS),
        ("end_date", _TS),
        ("created_at", _TS),
        ("created_by_user_id", _STR),
    ),
    ("id",),
)
WORK_ORDERS = RawTable(
    "work_orders",
    _cols(
        ("id", _STR),
        ("company_id", _STR),
        ("number", _I64),
        ("status", _STR),
        ("title", _STR),
        ("asset_id", _STR),
        ("location_id", _STR),
        ("priority_id", _STR),
        ("category_ids", _STR),
        ("created_at", _TS),
        ("updated_at", _TS),
        ("started_at", _TS),
        ("due_date", _TS),
        ("canceled_at", _TS),
        ("canceled_reason", _STR),
        ("is_deleted", _BOOL),
        ("elapsed_intervals", _STR),
        ("total_cost", _F64),
    ),
    ("id",),
)
WORK_ORDER_PRIORITIES = RawTable(
    "work_order_priorities",
    _cols(("id", _STR), ("company_id", _STR), ("name", _STR), ("color", _STR), ("order", _I64)),
    ("id",),
)
WORK_ORDER_CATEGORIES = RawTable(
    "work_order_categories",
    _cols(
        ("id", _STR),
        ("company_id", _STR),
        ("name", _STR),
        ("color", _STR),
        ("code", _STR),
        ("type", _STR),
        ("is_preventive", _BOOL),
        ("include_in_indicators", _BOOL),
    ),
    ("id",),
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
