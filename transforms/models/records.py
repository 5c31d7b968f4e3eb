"""pandera models of the clean maintenance records: insights, events, work orders."""

import pandera.polars as pa

from transforms import category_map
from transforms.models.clean import UTC, WORK_ORDER_KINDS, Lineage


class FctInsight(Lineage):
    insight_id: str = pa.Field(unique=True)
    company_id: str = pa.Field(nullable=True)
    asset_id: str = pa.Field(nullable=True)
    type: str = pa.Field(nullable=True)
    number: int = pa.Field(nullable=True)
    status: str = pa.Field(nullable=True)
    fix_status: str = pa.Field(nullable=True)
    is_open: bool
    created_at: UTC = pa.Field(nullable=True)
    reference_date: UTC = pa.Field(nullable=True)
    updated_at: UTC = pa.Field(nullable=True)
    closed_at: UTC = pa.Field(nullable=True)
    description: str = pa.Field(nullable=True)
    event_id: str = pa.Field(nullable=True)
    inspection_id: str = pa.Field(nullable=True)

    class Config:
        strict = True


class FctEvent(Lineage):
    event_id: str = pa.Field(unique=True)
    company_id: str = pa.Field(nullable=True)
    type: str = pa.Field(nullable=True)
    is_failure: bool
    asset_id: str = pa.Field(nullable=True)
    location_id: str = pa.Field(nullable=True)
    start_date: UTC = pa.Field(nullable=True)
    end_date: UTC = pa.Field(nullable=True)
    duration_hours: float = pa.Field(ge=0, nullable=True)
    created_at: UTC = pa.Field(nullable=True)
    created_by_user_id: str = pa.Field(nullable=True)
    description: str = pa.Field(nullable=True)

    class Config:
        strict = True


class FctWorkOrder(Lineage):
    work_order_id: str = pa.Field(unique=True)
    company_id: str = pa.Field(nullable=True)
    number: int = pa.Field(nullable=True)
    title: str = pa.Field(nullable=True)
    asset_id: str = pa.Field(nullable=True)
    location_id: str = pa.Field(nullable=True)
    kind: str = pa.Field(isin=WORK_ORDER_KINDS)
    kind_source: str = pa.Field(isin=category_map.SOURCES, nullable=True)
    category_id: str = pa.Field(nullable=True)
    category_name: str = pa.Field(nullable=True)
    include_in_indicators: bool = pa.Field(nullable=True)
    priority_id: str = pa.Field(nullable=True)
    priority_name: str = pa.Field(nullable=True)
    status: str = pa.Field(nullable=True)
    created_at: UTC = pa.Field(nullable=True)
    updated_at: UTC = pa.Field(nullable=True)
    started_at: UTC = pa.Field(nullable=True)
    due_date: UTC = pa.Field(nullable=True)
    canceled_at: UTC = pa.Field(nullable=True)
    canceled_reason: str = pa.Field(nullable=True)
    completed_at: UTC = pa.Field(nullable=True)
    repair_hours: float = pa.Field(ge=0, nullable=True)
    on_hold_hours: float = pa.Field(ge=0, nullable=True)
    total_cost: float = pa.Field(nullable=True)
    is_deleted: bool

    class Config:
        strict = True
