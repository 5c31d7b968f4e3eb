"""pandera models of the quarantine tables: the raw columns plus the rule columns."""

import pandera.polars as pa

from transforms.models.clean import UTC
from transforms.raw import LOAD_ID, RAW_TABLES, RawTable
from transforms.steps.rules import ALL_RULES


def _model(table: RawTable) -> type[pa.DataFrameModel]:
    annotations: dict = {}
    fields: dict = {}
    for name, dtype in table.polars_schema.items():
        attribute = "dlt_load_id" if name == LOAD_ID else name
        annotations[attribute] = type(dtype) if dtype != UTC else UTC
        fields[attribute] = pa.Field(nullable=name != LOAD_ID, alias=name)
    annotations |= {"rule": str, "rules": str, "quarantined_at": UTC}
    fields["rule"] = pa.Field(isin=ALL_RULES)
    fields["rules"] = pa.Field(str_matches=rf"^({'|'.join(ALL_RULES)})(,({'|'.join(ALL_RULES)}))*$")
    namespace = {
        "__annotations__": annotations,
        **fields,
        "Config": type("Config", (), {"strict": True, "unique": list(table.business_key)}),
        "__module__": __name__,
    }
    camel = "".join(part.title() for part in table.name.split("_"))
    return type(f"Quarantine{camel}", (pa.DataFrameModel,), namespace)


QUARANTINE_MODELS: dict[str, type[pa.DataFrameModel]] = {
    f"quarantine.{name}": _model(table) for name, table in RAW_TABLES.items()
}
