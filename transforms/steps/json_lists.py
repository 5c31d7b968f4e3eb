"""JSON list columns of raw tables: work orders' category ids and elapsed intervals,
assets' `sensors` (the published API's sensor ids).

Parsed with polars' vectorised JSON decoder. A malformed value makes the decoder fail
for the whole column; only then are the values checked one by one to find the culprits,
whose parsed value is null.
"""

import json

import polars as pl

IDS = pl.List(pl.String)


def _well_formed(text: str | None, item_type: type) -> bool:
    if text is None:
        return True
    try:
        value = json.loads(text)
    except ValueError:
        return False
    return value is None or (
        isinstance(value, list) and all(isinstance(v, item_type) for v in value)
    )


def decode_json_list(
    frame: pl.DataFrame, column: str, dtype: pl.DataType, item_type: type
) -> pl.DataFrame:
    """`frame` plus `{column}_parsed` (null where malformed) and `{column}_ok` (false
    where malformed): a JSON list of `item_type` items, or null."""
    ok = f"{column}_ok"
    try:
        return frame.with_columns(
            pl.col(column).str.json_decode(dtype).alias(f"{column}_parsed"), pl.lit(True).alias(ok)
        )
    except pl.exceptions.PolarsError:
        flags = frame[column].map_elements(
            lambda t: _well_formed(t, item_type), return_dtype=pl.Boolean
        )
        flagged = frame.with_columns(flags.alias(ok))
        valid = pl.when(pl.col(ok)).then(pl.col(column))
        return flagged.with_columns(valid.str.json_decode(dtype).alias(f"{column}_parsed"))
