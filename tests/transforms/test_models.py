"""The models' shortcut for empty frames agrees with pandera."""

import polars as pl
import pytest

from transforms.models import MODELS, failure_cases, table_schema
from transforms.tables import FCT_VIBRATION


@pytest.mark.parametrize("name", sorted(MODELS))
def test_pandera_passes_every_empty_frame_of_the_models_schema(name):
    """`failure_cases` skips pandera for such a frame: every check must be row-wise."""
    MODELS[name].validate(pl.DataFrame(schema=table_schema(name)), lazy=True)


def test_an_empty_frame_of_another_schema_still_fails():
    schema = table_schema(FCT_VIBRATION) | {"vel_rms_max_mm_s": pl.String}
    failures = failure_cases(FCT_VIBRATION, pl.DataFrame(schema=schema))
    assert failures is not None
    assert "vel_rms_max_mm_s" in failures["column"].to_list()
    missing = dict(list(table_schema(FCT_VIBRATION).items())[1:])
    assert failure_cases(FCT_VIBRATION, pl.DataFrame(schema=missing)) is not None
