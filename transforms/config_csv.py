"""Reading the transforms' small configuration CSVs (ISO classes, category map)."""

from pathlib import Path

import polars as pl


def read_config_csv(
    path: Path, schema: dict[str, pl.DataType], what: str, error: type[ValueError]
) -> pl.DataFrame:
    """The rows of `path`, whose header must be exactly `schema`'s columns; `error`
    (named `what` and the file) when it cannot be read or has another header."""
    expected = list(schema)
    try:
        with open(path, encoding="utf-8") as handle:
            header = handle.readline().strip().split(",")
    except OSError as exc:
        raise error(f"cannot read {what} {path}: {exc}") from None
    if header != expected:
        raise error(f"{what} {path}: header must be {','.join(expected)}")
    try:
        return pl.read_csv(path, schema=schema, has_header=True)
    except pl.exceptions.PolarsError as exc:
        raise error(f"cannot read {what} {path}: {exc}") from None
