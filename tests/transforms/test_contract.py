"""The transforms keep their own copy of the raw contract; it must match sources'."""

import pyarrow as pa

from sources.raw_schema import ENERGY_QUANTITIES as CONTRACT_QUANTITIES
from sources.raw_schema import PHASES_BY_QUANTITY as CONTRACT_PHASES
from sources.raw_schema import RAW_TABLES as CONTRACT
from transforms.models.clean import ENERGY_QUANTITIES
from transforms.raw import PHASES_BY_QUANTITY, RAW_TABLES

DUCKDB_TYPE = {
    pa.string(): "VARCHAR",
    pa.float64(): "DOUBLE",
    pa.bool_(): "BOOLEAN",
    pa.int64(): "BIGINT",
    pa.timestamp("us", tz="UTC"): "TIMESTAMPTZ",
}


def test_every_raw_table_of_the_contract_is_read_with_its_columns_and_types():
    assert set(RAW_TABLES) == set(CONTRACT)
    for name, table in CONTRACT.items():
        expected = {f.name: DUCKDB_TYPE[f.type] for f in table.schema}
        assert RAW_TABLES[name].columns == expected, name


def test_business_keys_are_the_primary_keys_without_the_connection():
    for name, table in CONTRACT.items():
        assert table.primary_key[0] == "connection_name"
        assert RAW_TABLES[name].business_key == table.primary_key[1:], name


def test_telemetry_tables_are_the_contracts_telemetry_tables():
    assert {n for n, t in RAW_TABLES.items() if t.telemetry} == {
        n for n, t in CONTRACT.items() if t.telemetry
    }


def test_every_energy_quantity_of_the_contract_has_a_clean_name_and_unit():
    assert PHASES_BY_QUANTITY == CONTRACT_PHASES
    assert set(ENERGY_QUANTITIES) == set(CONTRACT_QUANTITIES)
    names = [q.name for q in ENERGY_QUANTITIES.values()]
    assert all(name.isidentifier() and name.islower() for name in names)
