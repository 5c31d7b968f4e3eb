"""B7's floor: the clean telemetry facts and their daily aggregates in plain DuckDB SQL.

One statement per table, no polars, no pandera, no batching: the same deduplication
(latest load, then first connection), NaN as null, quarantine rules, side values nulled
and named in `nulled_fields`, ISO zones, energy unpivot and units, and the same daily
aggregates (powered-only velocity p95 and max, median gaps, stuck values), written to
schema `floor` with the clean tables' columns. It takes the dimensions the transform
built (`clean.dim_asset`, `clean.asset_iso_config`: a few thousand rows) as given, and
writes no quarantine table, marts or read copy: what it times is the telemetry alone.
`tests/transforms/test_sql_floor.py` holds it to the transform's own output.
"""

import duckdb

from transforms.models.clean import ENERGY_QUANTITIES, VIBRATION_COLUMNS, WH_PER_KWH
from transforms.raw import ENERGY_STATS, LOAD_ID, PHASES_BY_QUANTITY, RAW_TABLES, RawTable
from transforms.steps.rules import EARLIEST_VALID, FUTURE_TOLERANCE, TEMPERATURE_RANGE_C
from transforms.tables import AGG_ENERGY_DAILY, AGG_VIBRATION_DAILY, TELEMETRY_FACTS
from transforms.warehouse.duckdb_io import day_number

SCHEMA = "floor"
KNOWN = "clean.dim_asset"
LIMITS = "clean.asset_iso_config"
PRIMARY = ("vel_rms_x", "vel_rms_y", "vel_rms_z")


def _raw(table: RawTable) -> str:
    """The raw rows, floats' NaN as null, one per business key (latest load first)."""
    items = [
        f"nullif({c}, 'NaN'::DOUBLE) AS {c}" if t == "DOUBLE" else c
        for c, t in table.columns.items()
    ]
    key = ", ".join(table.business_key)
    return (
        f"SELECT {', '.join(items)}, {LOAD_ID} FROM {table.qualified} "
        f"QUALIFY row_number() OVER (PARTITION BY {key} "
        f"ORDER BY {LOAD_ID} DESC NULLS LAST, connection_name NULLS LAST) = 1"
    )


def _fails(*conditions: str) -> str:
    """True when any condition is true (a null condition passes)."""
    return " OR ".join(f"coalesce({c}, false)" for c in conditions)


def _common(future_allowed: str = "") -> list[str]:
    """Unknown asset, before 2000, in the future (past the load's time + tolerance)."""
    load_time = f"make_timestamp(CAST(trunc(TRY_CAST({LOAD_ID} AS DOUBLE) * 1e6) AS BIGINT))"
    tolerance = int(FUTURE_TOLERANCE.total_seconds())
    future = f"sampled_at > {load_time} + INTERVAL {tolerance} SECOND"
    if future_allowed:
        future = f"{future} AND NOT coalesce({future_allowed}, false)"
    return [
        f"asset_id IS NOT NULL AND asset_id NOT IN (SELECT asset_id FROM {KNOWN})",
        f"sampled_at < TIMESTAMPTZ '{EARLIEST_VALID.isoformat()}'",
        future,
    ]


def _kept(table: RawTable, rules: list[str]) -> str:
    return f"SELECT * FROM ({_raw(table)}) WHERE NOT ({_fails(*rules)})"


def _any_below_zero(columns: list[str] | tuple[str, ...]) -> str:
    return " OR ".join(f"{c} < 0" for c in columns)


def _side_checks() -> dict[str, str]:
    """Raw side-value column -> when its value is impossible (see telemetry_facts)."""
    low, high = TEMPERATURE_RANGE_C
    checks = {"temperature": f"temperature < {low} OR temperature > {high}"}
    for raw in VIBRATION_COLUMNS:
        if raw in PRIMARY:
            continue
        family, rest = raw.split("_", 1)
        measure, axis = rest[:-2], raw[-1]
        bad = f"{raw} < 0"
        if measure == "crest_factor":
            bad += f" OR {raw} < 1"
        if measure == "peak":
            bad += f" OR {raw} < {family}_rms_{axis}"
        checks[raw] = bad
    return checks


def _vibration() -> str:
    checks = _side_checks()
    clean_name = {"temperature": "temperature_c", **VIBRATION_COLUMNS}
    nulled = ", ".join(
        f"CASE WHEN {_fails(bad)} THEN '{clean_name[c]}' END" for c, bad in checks.items()
    )
    values = [
        f"CASE WHEN {_fails(bad)} THEN NULL ELSE {c} END AS {clean_name[c]}"
        for c, bad in checks.items()
    ]
    primary = [f"{c} AS {VIBRATION_COLUMNS[c]}" for c in PRIMARY]
    velocity = f"greatest({', '.join(PRIMARY)})"
    zone = (
        f"CASE WHEN NOT coalesce(powered, false) OR {velocity} IS NULL THEN NULL "
        f"WHEN {velocity} <= z.zone_a_max_mm_s THEN 'A' WHEN {velocity} <= z.zone_b_max_mm_s "
        f"THEN 'B' WHEN {velocity} <= z.zone_c_max_mm_s THEN 'C' ELSE 'D' END"
    )
    rules = [*_common(), _any_below_zero(PRIMARY)]
    return (
        f"SELECT k.asset_id, sampled_at, powered, company_id, connection_name, {LOAD_ID}, "
        f"{', '.join(primary + values)}, {velocity} AS vel_rms_max_mm_s, {zone} AS iso_zone, "
        f"nullif(concat_ws(',', {nulled}), '') AS nulled_fields "
        f"FROM ({_kept(RAW_TABLES['vibration_samples'], rules)}) k "
        f"LEFT JOIN {LIMITS} z ON z.asset_id = k.asset_id"
    )


def _rpm() -> str:
    rules = [*_common(), "rpm < 0"]
    return _kept(RAW_TABLES["rpm_samples"], rules)


def _energy() -> str:
    def columns(quantity: str) -> list[str]:
        return [f"{s}_{p}" for s in ENERGY_STATS for p in PHASES_BY_QUANTITY[quantity]]

    volts = [f"average_{p}" for p in PHASES_BY_QUANTITY["voltage"]]
    quantities = ", ".join(f"'{q}'" for q in PHASES_BY_QUANTITY)
    rules = [
        *_common(),
        f"quantity NOT IN ({quantities})",
        f"(quantity = 'current' AND ({_any_below_zero(columns('current'))})) OR "
        f"(quantity = 'voltage' AND ({_any_below_zero(columns('voltage'))}))",
        "quantity = 'power-factor' AND ("
        + " OR ".join(f"abs({c}) > 1" for c in columns("power-factor"))
        + ")",
        f"quantity = 'voltage' AND coalesce({' OR '.join(f'{v} = 0' for v in volts)}, false) "
        f"AND NOT ({' AND '.join(f'({v} = 0 OR {v} IS NULL)' for v in volts)})",
    ]
    parts = []
    for raw_quantity, phases in PHASES_BY_QUANTITY.items():
        clean = ENERGY_QUANTITIES[raw_quantity]
        unit = "NULL" if clean.unit is None else f"'{clean.unit}'"
        for phase in phases:
            scaled = [
                f"average_{phase} / {clean.per_unit} AS avg",
                f"minimum_{phase} / {clean.per_unit} AS min",
                f"maximum_{phase} / {clean.per_unit} AS max",
            ]
            parts.append(
                f"SELECT asset_id, '{clean.name}' AS quantity, sampled_at, company_id, "
                f"connection_name, {LOAD_ID}, '{phase}' AS phase, {', '.join(scaled)}, "
                f"{unit} AS unit FROM kept WHERE quantity = '{raw_quantity}'"
            )
    kept = _kept(RAW_TABLES["energy_samples"], rules)
    return f"WITH kept AS ({kept}) " + " UNION ALL ".join(parts)


def _interval(raw: str, values: dict[str, tuple[str, float]]) -> str:
    rules = [*_common(future_allowed="forecast"), _any_below_zero(list(values))]
    scaled = ", ".join(f"{c} / {per_unit} AS {name}" for c, (name, per_unit) in values.items())
    return (
        f"SELECT asset_id, sampled_at, company_id, connection_name, {LOAD_ID}, {scaled}, "
        f"forecast AS is_forecast FROM ({_kept(RAW_TABLES[raw], rules)})"
    )


_DAY = f"DATE '1970-01-01' + CAST({day_number('sampled_at')} AS INTEGER)"
_GAP = "epoch_us(lead(sampled_at) OVER w - sampled_at) / 1e6"
_WINDOW = "WINDOW w AS (PARTITION BY asset_id, day ORDER BY sampled_at)"


def _vibration_daily(fact: str) -> str:
    powered = "coalesce(powered, false)"
    gaps = (
        f"SELECT asset_id, {_DAY} AS day, sampled_at, {powered} AS on_, "
        f"vel_rms_max_mm_s AS v, temperature_c, nulled_fields, {_GAP} AS gap "
        f"FROM {fact} {_WINDOW}"
    )
    return (
        "SELECT asset_id, day, count(*) AS samples, "
        "count(*) FILTER (WHERE on_) AS powered_samples, "
        "coalesce(sum(gap * CAST(on_ AS DOUBLE)), 0) AS powered_seconds_between, "
        "max(gap) AS largest_gap_between_s, "
        "median(gap) FILTER (WHERE on_) AS median_gap_powered_s, "
        "median(gap) FILTER (WHERE NOT on_) AS median_gap_stopped_s, "
        "min(sampled_at) AS first_sampled_at, arg_min(on_, sampled_at) AS first_powered, "
        "max(sampled_at) AS last_sampled_at, arg_max(on_, sampled_at) AS last_powered, "
        "quantile_cont(v, 0.95) FILTER (WHERE on_) AS vel_rms_p95_mm_s, "
        "max(v) FILTER (WHERE on_) AS vel_rms_max_mm_s, "
        "count(v) FILTER (WHERE on_) >= 6 AND count(DISTINCT v) FILTER (WHERE on_) = 1 "
        "AS stuck_value, max(temperature_c) AS temperature_max_c, "
        "count(nulled_fields) AS samples_with_nulled_fields "
        f"FROM ({gaps}) GROUP BY asset_id, day"
    )


def _energy_daily(fact: str) -> str:
    gaps = (
        f"SELECT asset_id, {_DAY} AS day, sampled_at, {_GAP} AS gap "
        f"FROM (SELECT DISTINCT asset_id, sampled_at FROM {fact}) {_WINDOW}"
    )
    return (
        "SELECT asset_id, day, count(*) AS samples, max(gap) AS largest_gap_between_s, "
        "median(gap) AS median_gap_s, min(sampled_at) AS first_sampled_at, "
        f"max(sampled_at) AS last_sampled_at FROM ({gaps}) GROUP BY asset_id, day"
    )


def floor_name(clean: str) -> str:
    """`clean.fct_x` -> `floor.fct_x`."""
    return f"{SCHEMA}.{clean.split('.', 1)[1]}"


def queries() -> dict[str, str]:
    """Clean table -> the SELECT the floor fills its twin with, in build order."""
    facts = TELEMETRY_FACTS
    return {
        facts["vibration_samples"]: _vibration(),
        facts["rpm_samples"]: _rpm(),
        facts["energy_samples"]: _energy(),
        facts["energy_consumption"]: _interval(
            "energy_consumption",
            {
                "consumption": ("consumption_kwh", WH_PER_KWH),
                "accumulated_consumption": ("accumulated_consumption_kwh", WH_PER_KWH),
            },
        ),
        facts["energy_demand"]: _interval("energy_demand", {"demand": ("demand_kw", 1.0)}),
        facts["energy_cost"]: _interval("energy_cost", {"cost": ("cost", 1.0)}),
        AGG_VIBRATION_DAILY: _vibration_daily(floor_name(facts["vibration_samples"])),
        AGG_ENERGY_DAILY: _energy_daily(floor_name(facts["energy_samples"])),
    }


def build(conn: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Build every floor table (its columns and types: the clean table's); rows per table."""
    conn.execute("SET TimeZone = 'UTC'")  # days are UTC days
    conn.execute("SET preserve_insertion_order = false")
    conn.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
    rows = {}
    for clean, select in queries().items():
        target = floor_name(clean)
        conn.execute(f"CREATE OR REPLACE TABLE {target} AS FROM {clean} LIMIT 0")
        conn.execute(f"INSERT INTO {target} BY NAME {select}")
        rows[target] = conn.execute(f"SELECT count(*) FROM {target}").fetchall()[0][0]
    return rows
