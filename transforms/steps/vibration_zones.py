"""ISO 10816-3 vibration severity zones and the per-asset machine configuration.

Zone limits on velocity RMS (mm/s), by machine group and foundation:

| group | foundation | A up to | B up to | C up to | D above |
|-------|------------|---------|---------|---------|---------|
| 1 (large, > 300 kW)        | rigid    | 2.3 | 4.5 | 7.1  | 7.1  |
| 1                          | flexible | 3.5 | 7.1 | 11.0 | 11.0 |
| 2 (medium, 15 kW - 300 kW) | rigid    | 1.4 | 2.8 | 4.5  | 4.5  |
| 2                          | flexible | 2.3 | 4.5 | 7.1  | 7.1  |

A limit belongs to the lower zone: v <= A -> "A", A < v <= B -> "B", B < v <= C -> "C",
v > C -> "D". An asset without configuration is group 2, rigid. The configuration is an
optional CSV (`transforms/zone_config.py` reads it); a row applies to the asset
and all its descendants, and the nearest configured ancestor wins.
"""

import hashlib

import polars as pl

ZONE_LIMITS: dict[tuple[int, str], tuple[float, float, float]] = {
    (1, "rigid"): (2.3, 4.5, 7.1),
    (1, "flexible"): (3.5, 7.1, 11.0),
    (2, "rigid"): (1.4, 2.8, 4.5),
    (2, "flexible"): (2.3, 4.5, 7.1),
}
DEFAULT_CLASS = (2, "rigid")
ZONES = ("A", "B", "C", "D")
LIMIT_COLUMNS = ("zone_a_max_mm_s", "zone_b_max_mm_s", "zone_c_max_mm_s")


def zone(velocity: pl.Expr) -> pl.Expr:
    """The zone of `velocity` against the limit columns of the same row (null stays null)."""
    a, b, c = (pl.col(name) for name in LIMIT_COLUMNS)
    return (
        pl.when(velocity.is_null())
        .then(pl.lit(None, dtype=pl.String))
        .when(velocity <= a)
        .then(pl.lit("A"))
        .when(velocity <= b)
        .then(pl.lit("B"))
        .when(velocity <= c)
        .then(pl.lit("C"))
        .otherwise(pl.lit("D"))
    )


def overrides_digest(overrides: pl.DataFrame) -> str:
    """A stable digest of the configuration, so a run notices when it changed."""
    text = overrides.sort("asset_id").write_csv()
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def asset_config(ancestors: pl.DataFrame, overrides: pl.DataFrame) -> pl.DataFrame:
    """Every asset's class and zone limits, inherited from its nearest configured ancestor.

    `ancestors` has (id, ancestor_id, distance) with each asset at distance 0.
    """
    limits = pl.DataFrame(
        [(g, f, *lim) for (g, f), lim in ZONE_LIMITS.items()],
        schema=["machine_group", "foundation", *LIMIT_COLUMNS],
        orient="row",
    )
    nearest = (
        ancestors.join(overrides, left_on="ancestor_id", right_on="asset_id")
        .sort("id", "distance")
        .unique("id", keep="first")
        .select(
            pl.col("id").alias("asset_id"),
            "machine_group",
            "foundation",
            pl.col("ancestor_id").alias("configured_on"),
        )
    )
    everyone = ancestors.filter(pl.col("distance") == 0).select(pl.col("id").alias("asset_id"))
    group, foundation = DEFAULT_CLASS
    return (
        everyone.join(nearest, on="asset_id", how="left")
        .with_columns(
            pl.col("machine_group").fill_null(group),
            pl.col("foundation").fill_null(foundation),
        )
        .join(limits, on=["machine_group", "foundation"], how="left")
        .sort("asset_id")
    )
