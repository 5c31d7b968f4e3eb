"""Raw tables loaded under contract v1, brought to v2 once, so that nothing loaded is lost.

Contract v1 named energy quantities `active_power` and `power_factor` and stored active
power in kW and consumption in kWh; v2 keeps the API's own names and units
(`active-power` in W, `power-factor`, consumption in Wh, api-contract part P). A v1
warehouse holds v1 rows that v2 code would read in the wrong unit (1.5 kW as 1.5 W), and
its new energy streams (keyed by the new paths) re-read their 14-day backfill: converted
rows carry the same keys as the re-read ones, so the sync's known-samples filter drops
the re-reads instead of doubling them.

A warehouse records its contract version in `tractian_raw._contract`; one without it
whose raw tables exist is v1. The migration runs in one transaction with the version
row, so a crash leaves v1 (migrated again next time) or v2, never half of each.
"""

from pathlib import Path

import duckdb

from sources import raw_schema as rs

CONTRACT_VERSION = 2
VERSION_TABLE = f"{rs.DATASET}._contract"
_V1_RENAMES = {"active_power": "active-power", "power_factor": "power-factor"}
_KILO = 1000.0


def migrate(db_path: Path) -> list[str]:
    """Bring the warehouse's raw tables to the current contract; what was done, in words."""
    with duckdb.connect(str(db_path)) as conn:
        conn.execute(f"CREATE SCHEMA IF NOT EXISTS {rs.DATASET}")
        conn.execute(f"CREATE TABLE IF NOT EXISTS {VERSION_TABLE} (version INTEGER NOT NULL)")
        if conn.execute(f"SELECT count(*) FROM {VERSION_TABLE}").fetchall()[0][0]:
            return []
        conn.execute("BEGIN TRANSACTION")
        done = _v1_to_v2(conn, rs.present_tables(conn))
        conn.execute(f"INSERT INTO {VERSION_TABLE} VALUES (?)", [CONTRACT_VERSION])
        conn.execute("COMMIT")
    return done


def _v1_to_v2(conn: duckdb.DuckDBPyConnection, present: set[str]) -> list[str]:
    done = []
    if rs.ENERGY_SAMPLES.name in present:
        table = f"{rs.DATASET}.{rs.ENERGY_SAMPLES.name}"
        watts = ", ".join(
            f"{stat}_{phase} = {stat}_{phase} * {_KILO}"
            for stat in rs.ENERGY_STATS
            for phase in rs.PHASES_BY_QUANTITY["active-power"]
        )
        count = conn.execute(
            f"UPDATE {table} SET {watts} WHERE quantity = 'active_power'"
        ).fetchall()[0][0]
        for old, new in _V1_RENAMES.items():
            conn.execute(f"UPDATE {table} SET quantity = ? WHERE quantity = ?", [new, old])
        done.append(f"{count} active power rows from kW to W, quantities renamed")
    if rs.ENERGY_CONSUMPTION.name in present:
        count = conn.execute(
            f"""UPDATE {rs.DATASET}.{rs.ENERGY_CONSUMPTION.name}
                SET consumption = consumption * {_KILO},
                    accumulated_consumption = accumulated_consumption * {_KILO}"""
        ).fetchall()[0][0]
        done.append(f"{count} consumption rows from kWh to Wh")
    return done
