"""Building blocks of maintenance records: drafts, work-order timelines, priorities and
categories.

A draft is a record's whole life known in advance: its fields at creation and the
changes that follow, each at a time. The ledger numbers drafts and answers "what did
this record look like at time T".
"""

from dataclasses import dataclass, field
from functools import lru_cache

from simulator.noise import hex_id, key_of
from simulator.timefmt import iso8601

PRIORITIES = (("Low", "#4CAF50"), ("Medium", "#FFC107"), ("High", "#FF9800"), ("Urgent", "#F44336"))
CATEGORIES = (
    ("Corrective", "#E53935", "COR", "corrective", False),
    ("Preventive", "#1E88E5", "PRE", "preventive", True),
    ("Predictive", "#8E24AA", "PRD", "predictive", False),
)
_INTERVAL_STATUSES = ("inProgress", "onHold")
USERS_PER_COMPANY = 5


def user_id(company_id: str, *parts: object) -> str:
    """One of the company's few users, chosen by hashing `parts`."""
    return hex_id("user", company_id, key_of(*parts) % USERS_PER_COMPANY)


@dataclass
class Draft:
    kind: str  # "insight" | "event" | "work_order"
    id: str
    company_id: str
    created_ms: int
    fields: dict  # published fields at creation, in order; number/updatedAt still None
    changes: list[tuple[int, dict]] = field(default_factory=list)  # ascending times


@lru_cache(maxsize=256)
def priority_id(company_id: str, name: str) -> str:
    return hex_id("priority", company_id, name)


@lru_cache(maxsize=256)
def category_id(company_id: str, name: str) -> str:
    return hex_id("category", company_id, name)


def priorities(company_id: str) -> list[dict]:
    return [
        {
            "id": priority_id(company_id, name),
            "name": name,
            "color": color,
            "companyId": company_id,
            "order": order,
        }
        for order, (name, color) in enumerate(PRIORITIES, start=1)
    ]


def categories(company_id: str) -> list[dict]:
    return [
        {
            "id": category_id(company_id, name),
            "name": name,
            "companyId": company_id,
            "color": color,
            "code": code,
            "type": kind,
            "isPreventive": preventive,
            "includeInIndicators": True,
        }
        for name, color, code, kind, preventive in CATEGORIES
    ]


@dataclass
class WorkOrderPlan:
    """What happens to one work order after it is opened."""

    id: str
    company_id: str
    created_ms: int
    title: str
    asset_id: str
    location_id: str | None
    priority: str
    category: str
    due_ms: int
    transitions: list[tuple[int, str]]  # (time, new status), ascending
    cost: float
    edits: list[tuple[int, dict]] = field(default_factory=list)
    deleted_ms: int | None = None
    cancel_reason: str | None = None


def work_order_draft(plan: WorkOrderPlan) -> Draft:
    """`companyId`, `createdByUserId` and each interval's `userId` are required by the
    published schema, so they are always there."""
    cid = plan.company_id
    fields = {
        "id": plan.id,
        "number": None,
        "status": "open",
        "companyId": cid,
        "title": plan.title,
        "assetId": plan.asset_id,
        "locationId": plan.location_id,
        "priorityId": priority_id(cid, plan.priority),
        "categoryIds": [category_id(cid, plan.category)],
        "createdAt": iso8601(plan.created_ms),
        "createdByUserId": user_id(cid, plan.id, "creator"),
        "updatedAt": None,
        "startedAt": None,
        "dueDate": iso8601(plan.due_ms),
        "canceledAt": None,
        "canceledReason": None,
        "deleted": {"value": False},
        "elapsedIntervals": [],
        "totalCost": {"total": 0.0},
    }
    changes = sorted(_status_changes(plan) + plan.edits, key=lambda c: c[0])
    if plan.deleted_ms is not None:
        changes = [c for c in changes if c[0] < plan.deleted_ms]
        changes.append((plan.deleted_ms, {"deleted": {"value": True}}))
    return Draft("work_order", plan.id, cid, plan.created_ms, fields, changes)


def _status_changes(plan: WorkOrderPlan) -> list[tuple[int, dict]]:
    """One change per transition; elapsedIntervals records inProgress/onHold spans."""
    changes: list[tuple[int, dict]] = []
    intervals: list[dict] = []
    since: int | None = None
    technician = user_id(plan.company_id, plan.id, "technician")
    for t, status in plan.transitions:
        if since is not None:
            intervals[-1] = dict(
                intervals[-1], endedAt=iso8601(t), durationInSeconds=(t - since) // 1000
            )
            since = None
        if status in _INTERVAL_STATUSES:
            intervals.append(
                {
                    "startedAt": iso8601(t),
                    "endedAt": None,
                    "status": status,
                    "userId": technician,
                    "durationInSeconds": None,
                }
            )
            since = t
        change: dict = {"status": status, "elapsedIntervals": list(intervals)}
        if status == "inProgress" and not changes:
            change["startedAt"] = iso8601(t)
        if status == "done":
            change["totalCost"] = {"total": plan.cost}
        if status == "canceled":
            change.update(canceledAt=iso8601(t), canceledReason=plan.cancel_reason)
        changes.append((t, change))
    return changes
