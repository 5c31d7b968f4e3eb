"""Clean tables, quarantine, marts and the read copy, from the raw tables of the warehouse.

No Dagster, no `sources` imports: the layers meet at the raw table names of
`transforms.raw`. The package is split by what a module does:

- `transforms.steps`: the pure polars steps (dimensions, records, telemetry facts,
  daily aggregates, marts, quarantine rules, ISO zones); frames in, frames out, no
  database, testable alone.
- `transforms.models`: the pandera model of every table, by qualified name (`MODELS`).
- `transforms.warehouse`: everything that reads or writes the DuckDB warehouse: the run
  (`warehouse.run.transform(db_path, full=False, ...) -> TransformReport`), its
  incremental plan, the build steps that feed `steps` from the warehouse, the read copy
  and the checks on stored tables (`warehouse.checks`).
- `transforms.tables` names the tables; `transforms.lineage` declares what each is built
  from (the Dagster assets read it); `transforms.raw` is the raw contract this layer reads;
  `transforms.zone_config` reads the ISO machine configuration.
  (`tractian-elt transform` is `orchestration/transform_cli.py`.)

The catalogue of tables, formulas and example queries is `docs/catalogue.md`.
"""
