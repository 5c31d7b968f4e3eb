"""Sets of rows of the partitioned tables, as SQL: what an incremental run rewrites.

- `KeyRows`: telemetry facts and quarantines are row-wise functions of their raw row
  (after deduplication on the business key), so a run rewrites only the keys its new
  loads carry, plus every row of the assets whose standing changed. A 15-minute sync
  brings thousands of samples; rewriting their whole (asset_id, day) partitions instead
  meant hundreds of thousands of rows, written, checkpointed and published again.
- `PartitionRows`: daily aggregates depend on every sample of their (asset_id, day), so
  they are rewritten by partition.
- `DaysFrom`: the daily marts' rows a run recomputed (`mart_scope`): each component's
  from a day on, or all of them.
- `NO_ROWS`: a table the run left as it was (the whole tables, when their inputs did
  not change).

Each gives a WHERE clause over a table alias and the frames it needs registered.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Protocol

import duckdb
import polars as pl

from transforms.raw import LOAD_ID, RawTable
from transforms.warehouse.duckdb_io import (
    partition_filter,
    parts_frames,
    raw_columns,
    registered,
    sql_string,
)

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
class ChangedKeys:
    """The business keys some loads brought to one raw table, kept in DuckDB (a temporary
    table of this connection), since the first sync of a connection can bring millions."""

    table: str
    columns: tuple[str, ...]
    bounds: tuple[datetime, datetime] | None  # sampled_at range of the keys; None: none


def changed_keys(
    conn: duckdb.DuckDBPyConnection, table: RawTable, load_ids: list[str]
) -> ChangedKeys:
    """The keys of `table`'s rows from `load_ids` (no table when the raw table is absent)."""
    keys = f"_changed_keys_{table.name}"
    if raw_columns(conn, table) is None:
        return ChangedKeys(keys, table.business_key, None)
    columns = ", ".join(table.business_key)
    loads = pl.DataFrame({"load_id": load_ids}, schema={"load_id": pl.String})
    with registered(conn, _loads=loads):
        conn.execute(
            f"CREATE OR REPLACE TEMP TABLE {keys} AS SELECT DISTINCT {columns} "
            f"FROM {table.qualified} WHERE {LOAD_ID} IN (SELECT load_id FROM _loads)"
        )
    first, last = conn.sql(
        f"SELECT min({TIMESTAMP_KEY}), max({TIMESTAMP_KEY}) FROM {keys}"
    ).fetchall()[0]
    return ChangedKeys(keys, table.business_key, (first, last) if first else None)


@dataclass(frozen=True)
class KeyRows:
    """Rows whose business key is in `keys`, or of `assets` (asset_id).

    `renamed`: key columns whose values the table holds under other names (column -> the
    raw table's value -> the table's), as the clean energy facts hold the API's
    `active-power` as `active_power`; the keys are raw.
    """

    keys: ChangedKeys
    assets: pl.DataFrame
    renamed: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    @classmethod
    def of(cls, keys: ChangedKeys, whole_assets: pl.Series) -> "KeyRows":
        """The rows to rewrite: those of `keys`, and every row of `whole_assets`."""
        assets = pl.DataFrame({"asset_id": whole_assets.unique()}, schema={"asset_id": pl.String})
        return cls(keys, assets)

    def named_as(self, renamed: Mapping[str, Mapping[str, str]]) -> "KeyRows":
        """The same rows, in a table that holds key values under other names."""
        return replace(self, renamed=renamed)

    def where(self, alias: str = "") -> str:
        prefix = f"{alias}." if alias else ""
        clauses = []
        if self.keys.bounds is not None:
            first, last = (t.isoformat() for t in self.keys.bounds)
            columns = ", ".join(prefix + c for c in self.keys.columns)
            clauses.append(
                # The constant range lets DuckDB skip row groups before the key lookup.
                f"({prefix}{TIMESTAMP_KEY} BETWEEN TIMESTAMPTZ '{first}' AND "
                f"TIMESTAMPTZ '{last}' AND ({columns}) IN "
                f"(SELECT {', '.join(map(self._key_value, self.keys.columns))} "
                f"FROM {self.keys.table}))"
            )
        if not self.assets.is_empty():
            clauses.append(f"{prefix}asset_id IN (SELECT asset_id FROM _whole_assets)")
        return " OR ".join(clauses) if clauses else "FALSE"

    def _key_value(self, column: str) -> str:
        """SQL for a key column of the keys table, as the table names its values."""
        names = self.renamed.get(column)
        if not names:
            return column
        cases = " ".join(f"WHEN {sql_string(a)} THEN {sql_string(b)}" for a, b in names.items())
        return f"CASE {column} {cases} ELSE {column} END"

    def frames(self) -> dict[str, pl.DataFrame]:
        return {} if self.assets.is_empty() else {"_whole_assets": self.assets}

    def is_empty(self) -> bool:
        return self.keys.bounds is None and self.assets.is_empty()


@dataclass(frozen=True)
class DaysFrom:
    """Rows on or after their asset's `from_day` (null: all its rows), of the assets in
    `scope` (asset_id, from_day)."""

    scope: pl.DataFrame

    def where(self, alias: str = "") -> str:
        # The scope's columns are renamed so that unqualified names reach the outer table.
        prefix = f"{alias}." if alias else ""
        return (
            f"EXISTS (SELECT 1 FROM _days_from WHERE _asset = {prefix}asset_id "
            f"AND (_from IS NULL OR {prefix}day >= _from))"
        )

    def frames(self) -> dict[str, pl.DataFrame]:
        return {"_days_from": self.scope.rename({"asset_id": "_asset", "from_day": "_from"})}


@dataclass(frozen=True)
class NoRows:
    def where(self, alias: str = "") -> str:
        return "FALSE"

    def frames(self) -> dict[str, pl.DataFrame]:
        return {}


NO_ROWS = NoRows()
