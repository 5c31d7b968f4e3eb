"""Insights, reliability events and work orders, derived from fault episodes and
preventive schedules.

`drafts_created_in(company, start, end)` returns every record of a company created in
[start, end) with its whole future; all of it is a function of (seed, component, time).
"""

from collections.abc import Iterator

import numpy as np

from simulator.asset_tree import AssetTree, Component
from simulator.episodes import ZONE_C, ZONE_D, Episode
from simulator.noise import hex_id, key_of, scalar_uniforms, uniforms
from simulator.profiles import Profile
from simulator.telemetry_model import Telemetry
from simulator.timefmt import DAY_MS, HOUR_MS, MINUTE_MS, ceil_div, iso8601
from simulator.workorders import (
    Draft,
    WorkOrderPlan,
    priority_id,
    user_id,
    work_order_draft,
)

_PREVENTIVE_TASKS = {
    "vibration": ("Lubricate bearings", "Check alignment and fasteners", "Inspect coupling"),
    "energy": ("Inspect electrical panel", "Thermography of connections", "Tighten terminals"),
}
_CANCEL_REASONS = ("Asset out of service", "Duplicated work order", "Rescheduled by planner")
# A preventive work order opens 1-3 days before it is due.
_MAX_LEAD_MS = 3 * DAY_MS


class Maintenance:
    def __init__(self, seed: int, catalog: AssetTree, telemetry: Telemetry) -> None:
        self._seed = seed
        self._catalog = catalog
        self._telemetry = telemetry

    def drafts_created_in(self, company_id: str, start_ms: int, end_ms: int) -> list[Draft]:
        """Every record of one company created in [start, end), with its whole future."""
        out: list[Draft] = []
        for c in self._catalog.components_of(company_id):
            if c.sensor_type == "vibration":
                for ep in self._telemetry.episodes_between(c.id, start_ms, end_ms):
                    if ep.first_record_ms < end_ms and ep.end_ms >= start_ms:
                        out.extend(self._episode_drafts(c, ep))
        out.extend(self._preventive_drafts(company_id, start_ms, end_ms))
        return [d for d in out if start_ms <= d.created_ms < end_ms]

    def _user(self, company_id: str, *parts: object) -> str:
        return user_id(company_id, self._seed, "user", *parts)

    def _event(
        self, c: Component, ep: Episode, kind: str, span: tuple[int, int | None], created: int
    ) -> Draft:
        event_id = hex_id(self._seed, "event", c.id, ep.cycle, kind)
        description = f"{kind} on {c.name}: {ep.mechanism}"
        fields = {
            "id": event_id,
            "type": kind,
            "companyId": c.company_id,
            "assetId": c.id,
            "locationId": c.location_id,
            "description": description,
            "startDate": iso8601(span[0]),
            "endDate": iso8601(span[1]),
            "createdAt": iso8601(created),
            "createdByUserId": self._user(c.company_id, event_id),
        }
        return Draft("event", event_id, c.company_id, created, fields)

    def _episode_drafts(self, c: Component, ep: Episode) -> Iterator[Draft]:
        u = scalar_uniforms(key_of(self._seed, "episode-records", c.id, ep.cycle), 4)
        potential = self._event(c, ep, "potentialFailure", (ep.detected_ms, None), ep.detected_ms)
        yield potential
        yield self._insight(c, ep, potential.id)
        if ep.functional_ms is not None:
            f = ep.functional_ms
            yield self._event(c, ep, "functionalFailure", (f, None), f)
        if ep.total_failure_ms is not None:
            span = (ep.total_failure_ms, ep.repaired_ms)
            logged = ep.repaired_ms + int((10 + 40 * u[0]) * MINUTE_MS)
            yield self._event(c, ep, "totalFailure", span, logged)
            yield self._event(c, ep, "unplannedStop", span, logged + 5 * MINUTE_MS)
        yield work_order_draft(self._corrective_plan(c, ep, u[1]))
        if ep.predictive is not None:
            yield work_order_draft(self._predictive_plan(c, ep, u[2]))

    def _insight(self, c: Component, ep: Episode, event_id: str) -> Draft:
        insight_id = hex_id(self._seed, "insight", c.id, ep.cycle)
        fields = {
            "id": insight_id,
            "type": "vibration",
            "number": None,
            "createdAt": iso8601(ep.insight_ms),
            "assetId": c.id,
            "inspectionId": hex_id(self._seed, "inspection", insight_id),
            "description": (
                f"Velocity RMS above {ZONE_C} mm/s (ISO 10816-3 zone C) on {c.name}: "
                f"suspected {ep.mechanism}"
            ),
            "eventId": event_id,
            "status": "pending",
            "fixStatus": "notFixed",
            "referenceDate": iso8601(ep.insight_ms),
            "updatedAt": None,
        }
        changes = [
            (ep.wo_started_ms, {"status": "inspection"}),
            (ep.repaired_ms, {"fixStatus": "fixed"}),
            (ep.checked_ms, {"status": "checked"}),
        ]
        return Draft("insight", insight_id, c.company_id, ep.insight_ms, fields, changes)

    def _corrective_plan(self, c: Component, ep: Episode, u: float) -> WorkOrderPlan:
        transitions = [(ep.wo_started_ms, "inProgress")]
        if ep.hold is not None:
            transitions += [(ep.hold[0], "onHold"), (ep.hold[1], "inProgress")]
        transitions.append((ep.repaired_ms, "done"))
        failed_first = ep.functional_ms is not None and ep.functional_ms <= ep.wo_created_ms
        plan = WorkOrderPlan(
            id=hex_id(self._seed, "workorder", c.id, ep.cycle, "corrective"),
            company_id=c.company_id,
            created_ms=ep.wo_created_ms,
            title=f"Corrective: {ep.mechanism} on {c.name}",
            asset_id=c.id,
            location_id=c.location_id,
            priority="Urgent" if failed_first else "High",
            category="Corrective",
            due_ms=ep.wo_created_ms + 2 * DAY_MS,
            transitions=transitions,
            cost=round(400 + 4600 * u, 2),
        )
        if ep.functional_ms is not None and not failed_first:
            # Zone D reached while waiting: the planner escalates the work order.
            plan.edits.append(
                (ep.functional_ms, {"priorityId": priority_id(c.company_id, "Urgent")})
            )
        return plan

    def _predictive_plan(self, c: Component, ep: Episode, u: float) -> WorkOrderPlan:
        created, started, done = ep.predictive
        return WorkOrderPlan(
            id=hex_id(self._seed, "workorder", c.id, ep.cycle, "predictive"),
            company_id=c.company_id,
            created_ms=created,
            title=f"Predictive: vibration trend review on {c.name} (zone D at {ZONE_D} mm/s)",
            asset_id=c.id,
            location_id=c.location_id,
            priority="Medium",
            category="Predictive",
            due_ms=created + 3 * DAY_MS,
            transitions=[(started, "inProgress"), (done, "done")],
            cost=round(80 + 170 * u, 2),
        )

    def _preventive_drafts(self, company_id: str, start_ms: int, end_ms: int) -> list[Draft]:
        """Preventive work orders created in [start, end): occurrence i of a component is
        due at phase + i * period and opens 1-3 days earlier. Draws are vectorised."""
        rows: list[tuple[Component, Profile, int]] = []
        for c in self._catalog.components_of(company_id):
            p = self._telemetry.profiles[c.id]
            first = ceil_div(start_ms - p.preventive_phase_ms, p.preventive_period_ms)
            last = (end_ms + _MAX_LEAD_MS - p.preventive_phase_ms) // p.preventive_period_ms
            rows.extend((c, p, i) for i in range(first, last + 1))
        if not rows:
            return []
        keys = np.array([p.preventive_key for _, p, _ in rows], dtype=np.uint64)
        occurrence = np.array([i for _, _, i in rows], dtype=np.int64)
        u = uniforms(keys, occurrence, 12)
        due = np.array([p.preventive_phase_ms + i * p.preventive_period_ms for _, p, i in rows])
        created = due - ((1 + 2 * u[:, 0]) * DAY_MS).astype(np.int64)
        inside = np.flatnonzero((created >= start_ms) & (created < end_ms))
        return [
            work_order_draft(
                self._preventive_plan(
                    rows[n][0], rows[n][2], u[n].tolist(), int(due[n]), int(created[n])
                )
            )
            for n in inside
        ]

    def _preventive_plan(
        self, c: Component, i: int, u: list[float], due: int, created: int
    ) -> WorkOrderPlan:
        tasks = _PREVENTIVE_TASKS[c.sensor_type]
        plan = WorkOrderPlan(
            id=hex_id(self._seed, "workorder", c.id, i, "preventive"),
            company_id=c.company_id,
            created_ms=created,
            title=f"Preventive: {tasks[int(u[1] * len(tasks))]} - {c.name}",
            asset_id=c.id,
            location_id=c.location_id,
            priority="Low" if u[2] < 0.7 else "Medium",
            category="Preventive",
            due_ms=due,
            transitions=[],
            cost=round(50 + 450 * u[3], 2),
        )
        started = due + int((-6 + 30 * u[4]) * HOUR_MS)
        if u[5] < 0.05:
            plan.cancel_reason = _CANCEL_REASONS[int(u[6] * len(_CANCEL_REASONS))]
            plan.transitions = [(created + int(u[7] * (started - created)), "canceled")]
            return plan
        plan.transitions = [
            (started, "inProgress"),
            (started + int((1 + 3 * u[8]) * HOUR_MS), "done"),
        ]
        if u[9] < 0.15:
            plan.edits.append((created + int(u[10] * (started - created)), self._edit(plan, u[11])))
        if u[9] > 0.96:
            plan.deleted_ms = created + int(u[10] * 0.9 * (started - created))
        return plan

    def _edit(self, plan: WorkOrderPlan, u: float) -> dict:
        """A planner's edit: retitle, move the due date, or raise the priority."""
        if u < 1 / 3:
            return {"title": f"{plan.title} (revised)"}
        if u < 2 / 3:
            return {"dueDate": iso8601(plan.due_ms + DAY_MS)}
        return {"priorityId": priority_id(plan.company_id, "High")}
