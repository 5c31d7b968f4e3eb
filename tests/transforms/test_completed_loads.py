"""The transform takes a load as new only once dlt has recorded it completed
(`tractian_raw._dlt_loads`): a package a killed sync left half loaded is transformed
whole after the next sync finishes it, not half now and the rest never. A full rebuild
meanwhile reads every raw row, the half-loaded package's too (the README says so)."""

import duckdb
import pytest

from tests.transforms.conftest import records, run
from tests.transforms.plant import load_plant
from tests.transforms.rawdb import load_id_at
from tests.transforms.test_incremental import vib
from transforms.warehouse.duckdb_io import RawTableError

FIRST = load_id_at("2024-03-03 06:00")
KILLED = load_id_at("2024-03-04 06:00")


def clean_times(raw) -> list[str]:
    rows = records(
        raw.path, "SELECT strftime(sampled_at, '%d %H:%M') AS t FROM clean.fct_vibration ORDER BY 1"
    )
    return [row["t"] for row in rows]


def test_a_half_loaded_package_waits_for_its_rest_then_is_transformed_whole(raw):
    load_plant(raw, FIRST)
    raw.append("vibration_samples", [vib("V1", "2024-03-03 05:00")], FIRST)
    run(raw)
    # A sync killed mid-load: one file of its package landed, the package is not done.
    raw.append("vibration_samples", [vib("V1", "2024-03-04 05:00")], KILLED, completed=False)

    waiting = run(raw)

    assert waiting.up_to_date, "a half-loaded package was taken as a new load"
    assert clean_times(raw) == ["03 05:00"]
    # The next sync loads the rest of the package and dlt records it completed.
    raw.append("vibration_samples", [vib("V1", "2024-03-04 05:30")], KILLED)

    done = run(raw)

    assert done.new_loads == 1
    assert clean_times(raw) == ["03 05:00", "04 05:00", "04 05:30"]


def test_a_full_rebuild_meanwhile_takes_in_the_rows_a_half_loaded_package_has(raw):
    load_plant(raw, FIRST)
    raw.append("vibration_samples", [vib("V1", "2024-03-03 05:00")], FIRST)
    run(raw)
    raw.append("vibration_samples", [vib("V1", "2024-03-04 05:00")], KILLED, completed=False)

    run(raw, full=True)

    assert clean_times(raw) == ["03 05:00", "04 05:00"]


def test_raw_tables_without_dlts_load_record_are_refused_by_name(raw):
    raw.append("vibration_samples", [vib("V1", "2024-03-03 05:00")], FIRST)
    with duckdb.connect(str(raw.path)) as conn:
        conn.execute("DROP TABLE tractian_raw._dlt_loads")

    with pytest.raises(RawTableError, match=r"tractian_raw\._dlt_loads is missing"):
        run(raw)
