"""Sets of rows of the partitioned tables, as SQL: what an incremental run rewrites.

- `KeyRows`: telemetry facts and quarantines are row-wise functions of their raw row
  (after deduplication on the business key), so a run rewrites only the keys its new
  loads carry, plus every row of the assets whose standing changed. A 15-minute sync
  brings thousands of samples; rewriting their whole (asset_id, day) partitions instead
  meant hundreds of thousands of rows, written, checkpointed and published again.
- `PartitionRows`: daily aggregates depend on every sample of their (asset_id, day), so
  they are rewritten by partition.

Both give a WHERE clause over a table alias and the frames it needs registered.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import duckdb
import polars as pl

from transforms.raw import LOAD_ID, RawTable
from transforms.warehouse import partition_filter, parts_frames, raw_columns, registered

TIMESTAMP_KEY = "sampled_at"


class RowSet(Protocol):
    def where(self, alias: str = "") -> str:
        """SQL true for the rows of the set (columns of `alias`, if given)."""
        ...

    def frames(self) -> dict[str, pl.DataFrame]:
        """The frames `where` refers to, to register while it runs."""
        ...


@dataclass(frozen=True)
class PartitionRows:
    parts: pl.DataFrame  # asset_id, day
    column: str  # the column whose UTC day, with asset_id, names the partition

    def where(self, alias: str = "") -> str:
        return partition_filter(self.column, self.parts, alias)

    def frames(self) -> dict[str, pl.DataFrame]:
        return parts_frames(self.parts)


@dataclass(frozen=True)
class KeyRows:
    """Rows whose business key is in `keys_table` (a temporary table), or of `assets`."""

    keys_table: str
    key_columns: tuple[str, ...]
    bounds: tuple[datetime, datetime] | None  # sampled_at range of the keys; None: none
    assets: pl.DataFrame  # asset_id

    def where(self, alias: str = "") -> str:
        prefix = f"{alias}." if alias else ""
        clauses = []
        if self.bounds is not None:
            first, last = (t.isoformat() for t in self.bounds)
            columns = ", ".join(prefix + c for c in self.key_columns)
            clauses.append(
                # The constant range lets DuckDB skip row groups before the key lookup.
                f"({prefix}{TIMESTAMP_KEY} BETWEEN TIMESTAMPTZ '{first}' AND "
                f"TIMESTAMPTZ '{last}' AND ({columns}) IN "
                f"(SELECT {', '.join(self.key_columns)} FROM {self.keys_table}))"
            )
        if not self.assets.is_empty():
            clauses.append(f"{prefix}asset_id IN (SELECT asset_id FROM _whole_assets)")
        return " OR ".join(clauses) if clauses else "FALSE"

    def frames(self) -> dict[str, pl.DataFrame]:
        return {} if self.assets.is_empty() else {"_whole_assets": self.assets}

    def is_empty(self) -> bool:
        return self.bounds is None and self.assets.is_empty()


def key_rows(
    conn: duckdb.DuckDBPyConnection,
    table: RawTable,
    load_ids: list[str],
    whole_assets: pl.Series,
) -> KeyRows:
    """The rows of `table`'s outputs to rewrite: keys of `load_ids`, all of `whole_assets`.

    The keys stay in DuckDB (a temporary table of this connection), since the first sync
    of a new connection can bring millions of them.
    """
    keys_table = f"_changed_keys_{table.name}"
    key_columns = table.business_key
    assets = pl.DataFrame({"asset_id": whole_assets.unique()}, schema={"asset_id": pl.String})
    if raw_columns(conn, table) is None:
        return KeyRows(keys_table, key_columns, None, assets)
    loads = pl.DataFrame({"load_id": load_ids}, schema={"load_id": pl.String})
    with registered(conn, _loads=loads):
        conn.execute(
            f"CREATE OR REPLACE TEMP TABLE {keys_table} AS "
            f"SELECT DISTINCT {', '.join(key_columns)} FROM {table.qualified} "
            f"WHERE {LOAD_ID} IN (SELECT load_id FROM _loads)"
        )
    first, last = conn.sql(
        f"SELECT min({TIMESTAMP_KEY}), max({TIMESTAMP_KEY}) FROM {keys_table}"
    ).fetchall()[0]
    return KeyRows(keys_table, key_columns, (first, last) if first else None, assets)
