"""The known-samples filter and the duplicate repair, on hand-made raw tables loaded by
dlt into each backend (the DuckDB file, PostgreSQL), read through its SQL client."""

from datetime import timedelta

import pyarrow as pa

from sources import raw_dataset
from sources import raw_schema as rs
from sources.telemetry_dedup import KnownSamples, known_samples
from sources.telemetry_streams import Stream, SyncWindow
from tests.sources.conftest import utc

NOW = utc(2026, 11, 20, 12, 0)
TABLE = rs.RPM_SAMPLES


def hours_ago(*hours: int) -> list:
    return [NOW - timedelta(hours=h) for h in hours]


def rows(connection: str, asset: str, times: list) -> list[dict]:
    return [
        {"connection_name": connection, "company_id": "c", "asset_id": asset, "sampled_at": t}
        for t in times
    ]


def holding(warehouse, records: list[dict]):
    """`warehouse` with `records` appended to the raw table by dlt, duplicates and all."""
    full = [{f.name: r.get(f.name) for f in TABLE.schema} for r in records]
    given = pa.Table.from_pylist(full, schema=TABLE.schema)
    pipeline = warehouse.pipeline("given")
    warehouse.prepare(pipeline)
    pipeline.run(given, table_name=TABLE.name, write_disposition="append")
    return warehouse


def window_table(asset: str, times: list) -> pa.Table:
    full = [{f.name: r.get(f.name) for f in TABLE.schema} for r in rows("plant", asset, times)]
    return pa.Table.from_pylist(full, schema=TABLE.schema)


def times_of(known: KnownSamples, asset: str) -> set:
    held = known.by_series.get((asset,))
    return set() if held is None else set(held.to_pylist())


def test_unseen_keeps_only_the_samples_the_table_lacks(warehouse):
    held = rows("plant", "a", hours_ago(1, 2, 3)) + rows("other", "a", [NOW])
    with holding(warehouse, held).sql_client() as client:
        known = KnownSamples.load(client, "plant", TABLE, NOW - timedelta(days=1), NOW)

    fresh = known.unseen(window_table("a", [*hours_ago(2, 4), NOW]))

    # 2 h ago is held; 4 h ago is new; NOW is held only by another connection: new here
    assert fresh.column("sampled_at").to_pylist() == [*hours_ago(4), NOW]
    assert known.unseen(window_table("b", hours_ago(1))).num_rows == 1  # unknown series


def test_a_new_component_looks_back_to_start_for_its_own_series_only(warehouse):
    old = hours_ago(100, 50, 10)  # 100 h and 50 h ago: before the lookback of 48 h
    holding(warehouse, rows("plant", "a", old) + rows("plant", "b", old))
    window = SyncWindow(start=NOW - timedelta(days=14), lookback=timedelta(hours=48), now=NOW)
    streams = [
        Stream("a/vibration/rotation", "a", "/assets/a/vibration/rotation", lambda b: b),
        Stream("b/vibration/rotation", "b", "/assets/b/vibration/rotation", lambda b: b),
    ]
    state = {"a/vibration/rotation": NOW.isoformat()}  # `a` synced up to now; `b` is new

    with warehouse.sql_client() as client:
        known = known_samples(client, "plant", TABLE, streams, state, window)

    assert times_of(known, "a") == set(hours_ago(10))  # only its 48 h re-read
    assert times_of(known, "b") == set(old)  # its whole backfill


def test_duplicate_repair_keeps_one_row_per_key_of_that_connection_only(warehouse):
    held = rows("plant", "a", hours_ago(1, 1, 1, 2)) + rows("other", "a", hours_ago(1, 1))
    holding(warehouse, held)

    with warehouse.sql_client() as client:
        dropped = raw_dataset.drop_duplicate_samples(client, [TABLE], "plant")
        name = client.make_qualified_table_name(TABLE.name)
        query = f"SELECT connection_name, count(*) FROM {name} GROUP BY 1 ORDER BY 1"
        with client.execute_query(query) as cursor:
            counts = [tuple(row) for row in cursor.fetchall()]

    assert dropped == {TABLE.name: 2}
    assert counts == [("other", 2), ("plant", 2)]
