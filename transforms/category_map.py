"""Which kind of maintenance a work-order category stands for.

The maintenance KPIs depend on it (corrective work orders, PM compliance, the
preventive share of hours), and categories are named by each plant, in its language.
A category's kind is the first that applies of:
1. a row of the configured CSV (header `category,kind`), named by `--category-map` or
   the environment variable in CONFIG_ENV. `category` is a category id or a category
   name, compared as labels are (below); `kind` is one of KINDS.
2. `preventive` when the API flags the category preventive (`isPreventive`).
3. The default vocabulary, English and Portuguese (and Spanish where it differs), on
   the category's `type`, else its `name`: a label is lowercased, stripped of accents
   and cut into words; the first kind (in the order of DEFAULT_WORDS) with one of its
   words in the label wins, so "Manutenção Corretiva" is corrective and "Corrective
   (predictive finding)" predictive.
4. `other`.
`kind_source` says which: `map`, `flag`, `vocabulary` or `default`. A work order
without a known category is `unknown`, unless the map has a row for `(no category)`.
EN 13306:2017 names the kinds: corrective maintenance is carried out after fault
recognition; preventive maintenance at predetermined intervals or to prescribed
criteria; predictive maintenance is the condition-based maintenance carried out
following a forecast.
"""

import hashlib
import os
from pathlib import Path

import polars as pl

from transforms.config_csv import read_config_csv

CONFIG_ENV = "TRACTIAN_CATEGORY_MAP"
KINDS = ("corrective", "preventive", "predictive", "other")
DEFAULT_WORDS: dict[str, tuple[str, ...]] = {
    "predictive": (
        "predictive",
        "predictiva",
        "predictivo",
        "preditiva",
        "preditivo",
        "cbm",
        "condition",
        "condicao",
    ),
    "preventive": ("preventive", "preventative", "preventiva", "preventivo", "pm"),
    "corrective": (
        "corrective",
        "correctiva",
        "correctivo",
        "corretiva",
        "corretivo",
        "repair",
        "reparo",
        "reparacao",
        "breakdown",
        "quebra",
        "emergency",
        "emergencia",
        "emergencial",
    ),
}
_SCHEMA = {"category": pl.String, "kind": pl.String}
NO_CATEGORY = "(no category)"
SOURCES = ("map", "flag", "vocabulary", "default")


class CategoryMapError(ValueError):
    """The category map file is malformed; the message names the file and the line."""


def label(expr: pl.Expr) -> pl.Expr:
    """A category label as compared: lowercase words without accents, single-spaced."""
    return (
        expr.str.normalize("NFKD")
        .str.replace_all(r"\p{M}", "")
        .str.to_lowercase()
        .str.replace_all(r"[^a-z0-9]+", " ")
        .str.strip_chars()
    )


def default_kind(expr: pl.Expr) -> pl.Expr:
    """The default vocabulary's kind of a label expression (null when no word matches)."""
    words = label(expr).str.split(" ")
    kind = pl.lit(None, dtype=pl.String)
    for name, vocabulary in reversed(DEFAULT_WORDS.items()):
        hit = words.list.eval(pl.element().is_in(list(vocabulary))).list.any()
        kind = pl.when(hit.fill_null(False)).then(pl.lit(name)).otherwise(kind)
    return kind


def read(path: Path | None) -> pl.DataFrame:
    """The configured rows (category as a label, kind); empty without a file."""
    if path is None:
        return pl.DataFrame(schema=_SCHEMA)
    frame = read_config_csv(path, _SCHEMA, "category map", CategoryMapError)
    for line, row in enumerate(frame.iter_rows(named=True), start=2):
        if not row["category"] or row["kind"] not in KINDS:
            raise CategoryMapError(
                f"category map {path} line {line}: need a category and a kind among "
                f"{', '.join(KINDS)}, got {row}"
            )
    return frame.with_columns(label(pl.col("category"))).unique(
        "category", keep="last", maintain_order=True
    )


def load(path: Path | None) -> pl.DataFrame:
    """The map at `path`, else at the path in CONFIG_ENV, else none."""
    named = path or (Path(env) if (env := os.environ.get(CONFIG_ENV)) else None)
    return read(named)


def digest(mapping: pl.DataFrame) -> str:
    """A stable digest of the configured rows, so a run notices when they changed."""
    return hashlib.sha256(mapping.sort("category").write_csv().encode()).hexdigest()[:16]


def uncategorized_kind(mapping: pl.DataFrame) -> str | None:
    """The kind the map gives work orders without a known category (None: `unknown`)."""
    row = mapping.filter(pl.col("category") == label(pl.lit(NO_CATEGORY)))
    return row["kind"][0] if row.height else None


def classify(mapping: pl.DataFrame) -> tuple[pl.Expr, pl.Expr]:
    """(kind, kind_source) of a raw category (columns id, name, type, is_preventive)
    under `mapping` (from `load`)."""
    configured = dict(zip(mapping["category"], mapping["kind"], strict=True))
    by_id = label(pl.col("id")).replace_strict(configured, default=None, return_dtype=pl.String)
    by_name = label(pl.col("name")).replace_strict(configured, default=None, return_dtype=pl.String)
    mapped = pl.coalesce(by_id, by_name)
    flagged = pl.when(pl.col("is_preventive").fill_null(False)).then(pl.lit("preventive"))
    vocabulary = pl.coalesce(default_kind(pl.col("type")), default_kind(pl.col("name")))
    kind = pl.coalesce(mapped, flagged, vocabulary, pl.lit("other"))
    source = (
        pl.when(mapped.is_not_null())
        .then(pl.lit("map"))
        .when(flagged.is_not_null())
        .then(pl.lit("flag"))
        .when(vocabulary.is_not_null())
        .then(pl.lit("vocabulary"))
        .otherwise(pl.lit("default"))
    )
    return kind, source
