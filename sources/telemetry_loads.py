"""How the telemetry tables load: by append on a first backfill, by upsert afterwards.

dlt's default merge (delete-insert) deletes every re-read row and inserts it again. A
15-minute sync re-reads 48 hours (the lookback) of every stream, almost all unchanged, so
that rewrote ~14 % of the history every sync and gave each re-read row a new
`_dlt_load_id`, which made the transforms rebuild every partition of it. An upsert that
skips unchanged rows writes only new and changed samples (bench/ B2, B4).

A first backfill needs no merge at all: no row of it exists yet and the windows of one
sync never overlap, so its keys are unique; appending halves its load time (bench/ B1).

Neither deduplicates within a load, as delete-insert does, so a file whose load committed
just before a kill, and which dlt loads again when the pending package resumes, would
double its rows; `drop_duplicate_samples` repairs that after a resumed load.
"""

from pathlib import Path

import duckdb
from dlt.extract.source import DltSource

from sources import raw_schema as rs

UPSERT = {"disposition": "merge", "strategy": "upsert", "skip_unchanged_rows": True}
TELEMETRY = [t for t in rs.RAW_TABLES.values() if t.telemetry]


def _present(conn: duckdb.DuckDBPyConnection) -> set[str]:
    rows = conn.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = ?", [rs.DATASET]
    ).fetchall()
    return {row[0] for row in rows}


def append_first_backfills(source: DltSource, db_path: Path, connection_name: str) -> None:
    """Switch telemetry resources whose table holds no row of the connection to append."""
    with duckdb.connect(str(db_path)) as conn:
        present = _present(conn)
        for table in TELEMETRY:
            if table.name not in source.resources:
                continue
            has_rows = (
                table.name in present
                and conn.execute(
                    f"SELECT count(*) FROM (SELECT 1 FROM {rs.DATASET}.{table.name} "
                    "WHERE connection_name = ? LIMIT 1)",
                    [connection_name],
                ).fetchall()[0][0]
            )
            if not has_rows:
                source.resources[table.name].apply_hints(write_disposition="append")


def drop_duplicate_samples(db_path: Path, connection_name: str) -> dict[str, int]:
    """Delete all but one row of each telemetry key of the connection; rows dropped."""
    dropped = {}
    with duckdb.connect(str(db_path)) as conn:
        present = _present(conn)
        for table in TELEMETRY:
            if table.name not in present:
                continue
            keys = ", ".join(k for k in table.primary_key if k != "connection_name")
            dropped[table.name] = conn.execute(
                f"""DELETE FROM {rs.DATASET}.{table.name} WHERE rowid IN (
                    SELECT rowid FROM (
                        SELECT rowid, row_number() OVER (PARTITION BY {keys}) AS copy
                        FROM {rs.DATASET}.{table.name} WHERE connection_name = ?
                    ) WHERE copy > 1)""",
                [connection_name],
            ).fetchall()[0][0]
    return dropped
