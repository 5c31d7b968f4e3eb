"""The record ledger: numbers records per company in creation order and answers
"what existed, and in which state, at time T".

Records are generated lazily in week-long chunks from an origin before history start,
each chunk once and in time order, so numbers never change once given, however far the
clock later runs. Nothing exists before the origin: an episode straddling it keeps only
its records created after it (this is over a month before history start).
"""

import gc
import threading
from bisect import bisect_right
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from simulator.maintenance import Maintenance
from simulator.timefmt import DAY_MS, WEEK_MS, iso8601
from simulator.workorders import Draft

# Records start this long (the longest fault cycle) before history start, so work orders
# and insights open at history start have their earlier life.
ORIGIN_MARGIN_MS = 35 * DAY_MS
INSIGHT_LIST_FIELDS = (
    "id",
    "type",
    "number",
    "createdAt",
    "assetId",
    "inspectionId",
    "description",
    "eventId",
)


@dataclass(frozen=True)
class Record:
    id: str
    kind: str
    company_id: str
    created_ms: int
    times: tuple[int, ...]  # when each version starts
    versions: tuple[dict, ...]  # published body of each version
    listing: dict | None  # insights: the list endpoint's fields (they never change)

    def at(self, as_of_ms: int) -> dict:
        """The version current at `as_of_ms` (the record must exist by then)."""
        return self.versions[bisect_right(self.times, as_of_ms) - 1]

    def updated_ms(self, as_of_ms: int) -> int:
        return self.times[bisect_right(self.times, as_of_ms) - 1]


def _materialize(draft: Draft, number: int | None) -> Record:
    """Every version of a record; drafts carry number/updatedAt slots in published order."""
    times = [draft.created_ms]
    state = draft.fields
    if number is not None:
        state = dict(state, number=number, updatedAt=iso8601(draft.created_ms))
    versions = [state]
    for t, change in draft.changes:
        state = dict(state, **change, updatedAt=iso8601(t))
        versions.append(state)
        times.append(t)
    listing = None
    if draft.kind == "insight":
        listing = {k: state[k] for k in INSIGHT_LIST_FIELDS}
    return Record(
        draft.id,
        draft.kind,
        draft.company_id,
        draft.created_ms,
        tuple(times),
        tuple(versions),
        listing,
    )


class _CompanyBook:
    """One company's records, generated up to `until` (exclusive)."""

    def __init__(self, origin_ms: int) -> None:
        self.until = origin_ms
        self.records: dict[str, list[Record]] = {"insight": [], "event": [], "work_order": []}
        self.created: dict[str, list[int]] = {kind: [] for kind in self.records}
        self.numbers = dict.fromkeys(self.records, 0)
        self.lock = threading.Lock()

    def add(self, drafts: list[Draft]) -> list[Record]:
        drafts.sort(key=lambda d: (d.created_ms, d.id))
        added = []
        for draft in drafts:
            number = None
            if draft.kind != "event":
                self.numbers[draft.kind] += 1
                number = self.numbers[draft.kind]
            record = _materialize(draft, number)
            self.records[draft.kind].append(record)
            self.created[draft.kind].append(record.created_ms)
            added.append(record)
        return added


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic GC while building many small dicts: its repeated full passes
    over the growing ledger cost about 40% of generation time (measured)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class Ledger:
    def __init__(
        self, maintenance: Maintenance, history_start_ms: int, company_ids: list[str]
    ) -> None:
        self._maintenance = maintenance
        # Chunks sit on a fixed weekly grid so nearby start times give the same numbers.
        self.origin_ms = (history_start_ms - ORIGIN_MARGIN_MS) // WEEK_MS * WEEK_MS
        self._books = {cid: _CompanyBook(self.origin_ms) for cid in company_ids}
        self._by_id: dict[str, Record] = {}

    def ensure(self, company_id: str, until_ms: int) -> None:
        """Generate every record of the company created at or before `until_ms`."""
        book = self._books[company_id]
        if until_ms < book.until:
            return
        with book.lock, _gc_paused():
            while book.until <= until_ms:
                drafts = self._maintenance.drafts_created_in(
                    company_id, book.until, book.until + WEEK_MS
                )
                for record in book.add(drafts):
                    self._by_id[record.id] = record
                book.until += WEEK_MS

    def existing(self, company_id: str, kind: str, as_of_ms: int) -> list[Record]:
        """Records of one kind created at or before `as_of_ms`, by (createdAt, id)."""
        self.ensure(company_id, as_of_ms)
        book = self._books[company_id]
        return book.records[kind][: bisect_right(book.created[kind], as_of_ms)]

    def get(self, record_id: str, as_of_ms: int) -> Record | None:
        for company_id in self._books:
            self.ensure(company_id, as_of_ms)
        record = self._by_id.get(record_id)
        return record if record is not None and record.created_ms <= as_of_ms else None
