"""Where a sync writes its raw dataset: the embedded DuckDB file, or any dlt SQL destination.

- `Warehouse.duckdb_file(path)`: the zero-configuration default. The file is created
  readable by DuckDB 1.x tools, DuckDB's cache is capped while loading (bench/ B3), a v1
  raw contract is upgraded once (`raw_migrations`), and dlt's pipeline working
  directories live beside the file.
- `Warehouse.of(destination, pipelines_dir)`: any dlt destination, e.g.
  `dlt.destinations.postgres("postgresql://...")`.
- `Warehouse.from_url(url)`: `postgresql://...` for PostgreSQL, else a DuckDB file path.

The connector reads the destination back only through the pipeline's own SQL client
(`raw_dataset`), so whatever dlt can load, a sync keeps exactly-once.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import dlt
import duckdb
from dlt.destinations.impl.duckdb.configuration import DuckDbCredentials

from sources import raw_dataset, settings
from sources import raw_schema as rs
from sources.raw_migrations import migrate

READER_PIPELINE = "tractian_reader"
POSTGRES_SCHEMES = ("postgres", "postgresql", "postgresql+psycopg2")


@dataclass(frozen=True)
class Warehouse:
    """A dlt destination for the raw dataset, and where pipelines keep their working files."""

    destination: Any
    pipelines_dir: Path
    db_path: Path | None = None  # set for the embedded DuckDB file
    label: str = ""  # what to call it in messages: never a password

    @classmethod
    def duckdb_file(cls, path: Path) -> "Warehouse":
        # DuckDB would otherwise cache up to 80 % of RAM while loading (bench/ B3).
        credentials = DuckDbCredentials(
            str(path),
            global_config={
                "memory_limit": settings.DUCKDB_MEMORY_LIMIT,
                "preserve_insertion_order": False,
            },
        )
        return cls(
            dlt.destinations.duckdb(credentials),
            path.parent / ".dlt_pipelines",
            db_path=path,
            label=str(path),
        )

    @classmethod
    def of(cls, destination: Any, pipelines_dir: Path, label: str = "") -> "Warehouse":
        return cls(destination, pipelines_dir, label=label or str(destination))

    @classmethod
    def from_url(cls, url: str, pipelines_dir: Path | None = None) -> "Warehouse":
        """`postgresql://user:password@host:port/db` or a DuckDB file path."""
        parts = urlsplit(url)
        if parts.scheme in POSTGRES_SCHEMES:
            safe = parts._replace(netloc=parts.netloc.rsplit("@", 1)[-1])
            return cls.of(
                dlt.destinations.postgres(url),
                pipelines_dir or Path(".dlt_pipelines"),
                label=urlunsplit(safe),
            )
        if parts.scheme not in ("", "duckdb", "file"):
            raise ValueError(
                f"warehouse {url.split('://')[0]}://...: use a DuckDB file path or a "
                "postgresql:// URL"
            )
        return cls.duckdb_file(Path(parts.path if parts.scheme else url))

    def prepare(self) -> list[str]:
        """Make the destination ready for a sync; the raw contract upgrades this made."""
        if self.db_path is None:
            return []
        if not self.db_path.exists():
            self.db_path.parent.mkdir(parents=True, exist_ok=True)
            config = {"storage_compatibility_version": "v1.0.0"}  # see STACK-NOTES
            duckdb.connect(str(self.db_path), config=config).close()
        return migrate(self.db_path)

    def pipeline(self, pipeline_name: str) -> dlt.Pipeline:
        return dlt.pipeline(
            pipeline_name=pipeline_name,
            destination=self.destination,
            dataset_name=rs.DATASET,
            pipelines_dir=str(self.pipelines_dir),
            progress=None,
        )

    @contextmanager
    def sql_client(self) -> Iterator[raw_dataset.Client]:
        """The destination's SQL client on the raw dataset, for reading it back."""
        with self.pipeline(READER_PIPELINE).sql_client() as client:
            yield client

    def __str__(self) -> str:
        return self.label
