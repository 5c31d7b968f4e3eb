"""Markdown summaries shown on the marts in the UI: what a reliability engineer looks at
first (the ten worst assets by the ISO zone of the day's p95 velocity, the least complete
sensors, the least available assets), computed from the marts just written."""

from collections.abc import Sequence

from transforms import tables as t
from transforms.warehouse.duckdb_io import Target, opened

TOP = 10
_SUMMARIES: dict[str, tuple[str, str]] = {
    t.ASSET_HEALTH_DAILY: (
        "Ten worst assets by ISO 10816 zone on the latest day",
        f"""SELECT coalesce(a.name, h.asset_id) AS asset, h.iso_zone AS zone,
                   round(h.vel_rms_p95_mm_s, 2) AS vel_rms_p95_mm_s, h.worst_zone,
                   h.baseline_alert, round(h.temperature_max_c, 1) AS temperature_max_c,
                   h.open_insights
            FROM {t.ASSET_HEALTH_DAILY} h LEFT JOIN {t.DIM_ASSET} a USING (asset_id)
            WHERE h.day = (SELECT max(day) FROM {t.ASSET_HEALTH_DAILY})
            ORDER BY h.iso_zone DESC NULLS LAST, h.vel_rms_p95_mm_s DESC NULLS LAST, asset
            LIMIT {TOP}""",
    ),
    t.SENSOR_HEALTH_DAILY: (
        "Ten least complete sensors on the latest day",
        f"""SELECT coalesce(a.name, s.asset_id) AS asset, s.sensor_type,
                   round(s.completeness, 3) AS completeness,
                   round(s.largest_gap_hours, 1) AS largest_gap_hours, s.out_of_range_count
            FROM {t.SENSOR_HEALTH_DAILY} s LEFT JOIN {t.DIM_ASSET} a USING (asset_id)
            WHERE s.day = (SELECT max(day) FROM {t.SENSOR_HEALTH_DAILY})
            ORDER BY s.completeness ASC NULLS FIRST, s.largest_gap_hours DESC, asset
            LIMIT {TOP}""",
    ),
    t.MAINTENANCE_KPIS_MONTHLY: (
        "Ten least available assets in the latest month",
        f"""SELECT coalesce(a.name, k.asset_id) AS asset, k.failures,
                   round(k.availability, 4) AS availability,
                   round(k.downtime_hours, 1) AS downtime_h, round(k.mttr_hours, 1) AS mttr_h,
                   round(k.mtbf_12m_hours, 0) AS mtbf_12m_h, k.corrective_work_orders
            FROM {t.MAINTENANCE_KPIS_MONTHLY} k LEFT JOIN {t.DIM_ASSET} a USING (asset_id)
            WHERE k.month = (SELECT max(month) FROM {t.MAINTENANCE_KPIS_MONTHLY})
            ORDER BY k.availability ASC NULLS LAST, k.failures DESC, asset
            LIMIT {TOP}""",
    ),
}
SUMMARIZED_MARTS = tuple(_SUMMARIES)


def mart_summary(target: Target, mart: str) -> str:
    """The markdown summary of `mart` (a heading and a table; a note when it is empty)."""
    title, query = _SUMMARIES[mart]
    with opened(target, read_only=True) as conn:
        relation = conn.sql(query)
        header, rows = relation.columns, relation.fetchall()
    if not rows:
        return f"**{title}**\n\nNo rows yet."
    return f"**{title}**\n\n{markdown_table(header, rows)}"


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join("" if v is None else str(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)
