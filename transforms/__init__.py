"""Clean tables, quarantine, marts and the read copy, from the raw tables of the warehouse.

Pure polars + pandera; no Dagster, no `sources` imports (the layers meet at the raw
table names of `transforms.raw`). Entry points:

- `transforms.run.transform(db_path, full=False, ...) -> TransformReport`: one run.
- `transforms.cli.register(subparsers)`: `tractian-elt transform [--db PATH] [--full]`.
- `transforms.models.MODELS`: the pandera model of every table, by qualified name.
- `transforms.checks.check_table(conn, name)`: validate a stored table, for asset checks.
- `transforms.tables`: the table names; `transforms.publish`: the read copy.

The catalogue of tables, formulas and example queries is `docs/catalogue.md`.
"""
