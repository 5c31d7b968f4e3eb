"""Arrow conversion of API records when a timestamp strays from the contract's format."""

from datetime import UTC, datetime

from sources import raw_schema as rs
from sources.convert import records_to_table


def test_timestamps_without_zone_or_milliseconds_are_read_as_utc():
    records = [
        {"id": "e1", "type": "plannedStop", "createdAt": "2025-05-01T03:00:00.000Z"},
        {"id": "e2", "type": "plannedStop", "createdAt": "2025-05-01T03:00:00"},
        {"id": "e3", "type": "plannedStop", "createdAt": "2025-05-01T04:30:00+01:00"},
        {"id": "e4", "type": "plannedStop", "createdAt": None},
    ]

    table = records_to_table(rs.EVENTS, "plant", records, "c1")

    three_am = datetime(2025, 5, 1, 3, 0, tzinfo=UTC)
    expected = [three_am, three_am, datetime(2025, 5, 1, 3, 30, tzinfo=UTC), None]
    assert table.column("created_at").to_pylist() == expected
