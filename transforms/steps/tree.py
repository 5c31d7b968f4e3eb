"""Walks up the location and asset trees with iterative joins (one join per level).

`walk_up` takes nodes `(id, parent_id, label[, carry])` and answers, for every node,
the labels from its root down to itself joined with " / ", its depth (number of
ancestors), and what stopped the walk: nothing (reached a root), `unknown_parent` (a
parent id that is not a node) or `cycle` (still climbing after MAX_DEPTH levels). The
optional `carry` column is inherited from the nearest ancestor that has it (assets use
it for their location). It also lists (id, ancestor_id, distance) pairs, self included
at distance 0.
"""

from dataclasses import dataclass

import polars as pl

from transforms.steps.rules import CYCLE, UNKNOWN_PARENT

SEPARATOR = " / "
MAX_DEPTH = 64


@dataclass(frozen=True)
class Walk:
    """`nodes`: id, path, depth, problem[, carry]; `ancestors`: id, ancestor_id, distance."""

    nodes: pl.DataFrame
    ancestors: pl.DataFrame


def walk_up(nodes: pl.DataFrame, carry: str | None = None) -> Walk:
    """Resolve every node's path from the root; see the module docstring."""
    extra = [carry] if carry else []
    state = nodes.select(
        "id",
        pl.col("parent_id").alias("cursor"),
        pl.col("label").alias("path"),
        pl.lit(0, dtype=pl.Int64).alias("depth"),
        *extra,
    )
    parents = nodes.select(
        pl.col("id").alias("cursor"),
        pl.col("label").alias("parent_label"),
        pl.col("parent_id").alias("parent_cursor"),
        *[pl.col(c).alias(f"parent_{c}") for c in extra],
        pl.lit(True).alias("found"),
    )
    itself = pl.lit(0, dtype=pl.Int64).alias("distance")
    ancestors = [nodes.select("id", pl.col("id").alias("ancestor_id"), itself)]
    finished: list[pl.DataFrame] = []
    for _ in range(MAX_DEPTH):
        finished.append(_stopped(state.filter(pl.col("cursor").is_null()), None))
        state, orphans, found = _climb(state, parents, extra)
        finished.append(_stopped(orphans, UNKNOWN_PARENT))
        ancestors.append(found)
        if state.is_empty():
            break
    finished.append(_stopped(state.filter(pl.col("cursor").is_null()), None))
    finished.append(_stopped(state.filter(pl.col("cursor").is_not_null()), CYCLE))
    return Walk(pl.concat(finished).drop("cursor"), pl.concat(ancestors))


def _climb(
    state: pl.DataFrame, parents: pl.DataFrame, extra: list[str]
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """One level up for the nodes still climbing: (next state, orphans, ancestor pairs)."""
    climbing = state.filter(pl.col("cursor").is_not_null()).join(parents, on="cursor", how="left")
    orphans = climbing.filter(pl.col("found").is_null()).select(state.columns)
    climbing = climbing.filter(pl.col("found"))
    found = climbing.select(
        "id", pl.col("cursor").alias("ancestor_id"), (pl.col("depth") + 1).alias("distance")
    )
    next_state = climbing.select(
        "id",
        pl.col("parent_cursor").alias("cursor"),
        pl.concat_str(["parent_label", pl.lit(SEPARATOR), "path"]).alias("path"),
        pl.col("depth") + 1,
        *[pl.coalesce(c, f"parent_{c}").alias(c) for c in extra],
    )
    return next_state, orphans, found


def _stopped(frame: pl.DataFrame, problem: str | None) -> pl.DataFrame:
    return frame.with_columns(pl.lit(problem, dtype=pl.String).alias("problem"))


def trimmed(column: str) -> pl.Expr:
    """A name as it appears in a path: surrounding spaces trimmed, missing as empty."""
    return pl.col(column).str.strip_chars().fill_null("")
