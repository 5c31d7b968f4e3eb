"""Where a sync writes its raw dataset: the embedded DuckDB file, or any dlt SQL destination.

- `Warehouse.duckdb_file(path)`: the zero-configuration default. The file is created
  readable by DuckDB 1.x tools, DuckDB's cache is capped while loading (bench/ B3), a v1
  raw contract is upgraded once (`raw_migrations`), and dlt's pipeline working
  directories live beside the file.
- `Warehouse.of(destination, pipelines_dir)`: any dlt destination, e.g.
  `dlt.destinations.postgres("postgresql://...")`.
- `Warehouse.ducklake(catalog, data_path)`: a DuckLake, catalog in PostgreSQL and data
  files on a local path or object storage; several syncs may write it at once, and
  readers attach it read-only while they do.
- `Warehouse.from_url(url)`: `postgresql://...` for PostgreSQL, else a DuckDB file path.
- `configured()`: the one the setting `sources.tractian.warehouse` names (`duckdb`, the
  default, or `ducklake`); what the CLI and Dagster use.

The connector reads the destination back only through the pipeline's own SQL client
(`raw_dataset`), so whatever dlt can load, a sync keeps exactly-once.
"""

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import dlt
import duckdb
from dlt.destinations.impl.duckdb.configuration import DuckDbCredentials
from dlt.destinations.impl.ducklake.configuration import DuckLakeCredentials

from sources import duckdb_extensions, raw_dataset, settings
from sources import raw_schema as rs
from sources.raw_migrations import migrate

READER_PIPELINE = "tractian_reader"
POSTGRES_SCHEMES = ("postgres", "postgresql", "postgresql+psycopg2")
# The backend switch, and where a DuckLake is (dlt's own keys for its ducklake destination;
# the catalog URL holds a password: secrets.toml or the environment).
WAREHOUSE_SETTING = "sources.tractian.warehouse"
LAKE_CATALOG_SETTING = "destination.ducklake.credentials.catalog"
LAKE_STORAGE_SETTING = "destination.ducklake.credentials.storage.bucket_url"
BACKENDS = ("duckdb", "ducklake")
# Syncs attaching a new lake at once race to create its catalog; the losers retry.
_LAKE_INIT_ATTEMPTS = 5


class WarehouseConfigError(ValueError):
    """The warehouse setting names no backend, or a DuckLake without its catalog."""


class WarehouseError(RuntimeError):
    """The warehouse failed; the message is the cause's, with the password masked."""


@dataclass(frozen=True)
class Warehouse:
    """A dlt destination for the raw dataset, and where pipelines keep their working files."""

    destination: Any
    pipelines_dir: Path
    db_path: Path | None = None  # set for the embedded DuckDB file
    lake: bool = False  # a DuckLake: needs its DuckDB extensions
    # Pipelines of this warehouse may run at once: each gets its own staging dataset
    # (they would otherwise share `<dataset>_staging` and overwrite each other's merges).
    concurrent: bool = False
    # Load jobs at once (None: dlt's default). A DuckDB file takes one writer anyway, and
    # each parallel job holds its own buffers: one worker peaks ~120 MB lower (bench/ B3).
    load_workers: int | None = None
    label: str = ""  # what to call it in messages: never a password
    # The password in the destination's URL, masked in errors (`secrets_masked`).
    password: str = field(default="", repr=False)

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
            load_workers=1,
            label=str(path),
        )

    @classmethod
    def ducklake(
        cls, catalog: str | None, data_path: str | None, pipelines_dir: Path
    ) -> "Warehouse":
        """A DuckLake named `tractian`: `catalog` a `postgresql://` URL, `data_path` a
        directory or `s3://bucket/prefix`; either None resolves from dlt configuration
        (`DESTINATION__DUCKLAKE__CREDENTIALS__CATALOG`, `...__STORAGE__BUCKET_URL`)."""
        credentials = DuckLakeCredentials(settings.LAKE_NAME, catalog=catalog, storage=data_path)
        label = f"ducklake {_without_password(catalog) if catalog else '(configured catalog)'}"
        destination = dlt.destinations.ducklake(credentials)
        password = urlsplit(catalog).password or "" if catalog else ""
        return cls(
            destination,
            pipelines_dir,
            lake=True,
            concurrent=True,
            label=label,
            password=password,
        )

    @classmethod
    def of(cls, destination: Any, pipelines_dir: Path, label: str = "") -> "Warehouse":
        return cls(destination, pipelines_dir, label=label or str(destination))

    @classmethod
    def from_url(cls, url: str, pipelines_dir: Path | None = None) -> "Warehouse":
        """`postgresql://user:password@host:port/db` or a DuckDB file path."""
        parts = urlsplit(url)
        if parts.scheme in POSTGRES_SCHEMES:
            return cls(
                dlt.destinations.postgres(url),
                pipelines_dir or Path(".dlt_pipelines"),
                concurrent=True,
                label=_without_password(url),
                password=parts.password or "",
            )
        if parts.scheme not in ("", "duckdb", "file"):
            raise ValueError(
                f"warehouse {url.split('://')[0]}://...: use a DuckDB file path or a "
                "postgresql:// URL"
            )
        return cls.duckdb_file(Path(parts.path if parts.scheme else url))

    def prepare(self, pipeline: dlt.Pipeline) -> list[str]:
        """Make the destination ready for `pipeline`'s sync; the raw contract upgrades
        this made."""
        if self.lake:
            duckdb_extensions.install("ducklake", "postgres_scanner")
            _create_lake_catalog(pipeline)
        if self.db_path is None:
            return []
        if not self.db_path.exists():
            self.db_path.parent.mkdir(parents=True, exist_ok=True)
            config = {"storage_compatibility_version": settings.DUCKDB_STORAGE_VERSION}
            duckdb.connect(str(self.db_path), config=config).close()
        return migrate(self.db_path)

    def pipeline(self, pipeline_name: str) -> dlt.Pipeline:
        destination = self.destination
        if self.concurrent:
            layout = f"%s_staging_{pipeline_name}"
            params = {**destination.config_params, "staging_dataset_name_layout": layout}
            destination = type(destination)(**params)
        return dlt.pipeline(
            pipeline_name=pipeline_name,
            destination=destination,
            dataset_name=rs.DATASET,
            pipelines_dir=str(self.pipelines_dir),
            progress=None,
        )

    @contextmanager
    def sql_client(self) -> Iterator[raw_dataset.Client]:
        """The destination's SQL client on the raw dataset, for reading it back."""
        with self.pipeline(READER_PIPELINE).sql_client() as client:
            yield client

    @contextmanager
    def duckdb_target(self) -> Iterator[Path | duckdb.DuckDBPyConnection]:
        """What the transforms run on: the file's path, or a DuckDB connection on the lake
        attached by dlt (its object-storage secrets included) as the current database."""
        if self.db_path is not None:
            yield self.db_path
            return
        if not self.lake:
            raise WarehouseConfigError(f"{self.label} is not a DuckDB warehouse")
        duckdb_extensions.install("ducklake", "postgres_scanner")
        with self.secrets_masked(), self.sql_client() as client:
            yield client.native_connection

    @contextmanager
    def secrets_masked(self) -> Iterator[None]:
        """Errors raised in the block never carry the password: DuckDB and the
        PostgreSQL driver quote the whole catalog URL when they cannot connect."""
        try:
            yield
        except Exception as exc:
            if self.password and self.password in str(exc):
                raise WarehouseError(str(exc).replace(self.password, "***")) from None
            raise

    def __str__(self) -> str:
        return self.label


def configured_backend() -> str:
    """`duckdb` (the default) or `ducklake`, as the setting says."""
    backend = str(dlt.config.get(WAREHOUSE_SETTING) or "duckdb").strip().lower()
    if backend not in BACKENDS:
        raise WarehouseConfigError(
            f"{WAREHOUSE_SETTING} (env SOURCES__TRACTIAN__WAREHOUSE) is {backend!r}: "
            f"use one of {', '.join(BACKENDS)}"
        )
    return backend


def configured(db_path: Path | None = None) -> Warehouse:
    """The warehouse the configuration names: the DuckDB file `db_path` (default
    `warehouse/tractian.duckdb`) unless `sources.tractian.warehouse` is `ducklake`."""
    path = db_path or Path(settings.DEFAULT_DB_PATH)
    if configured_backend() == "duckdb":
        return Warehouse.duckdb_file(path)
    catalog = dlt.secrets.get(LAKE_CATALOG_SETTING)
    if not catalog:
        raise WarehouseConfigError(
            "the ducklake warehouse needs its catalog: set "
            "DESTINATION__DUCKLAKE__CREDENTIALS__CATALOG (or [destination.ducklake."
            "credentials] catalog in .dlt/secrets.toml) to a postgresql:// URL"
        )
    storage = dlt.config.get(LAKE_STORAGE_SETTING) or str(path.parent / "lake")
    return Warehouse.ducklake(str(catalog), str(storage), path.parent / ".dlt_pipelines")


def _create_lake_catalog(pipeline: dlt.Pipeline) -> None:
    """Attach the lake once, which creates its catalog the first time. Syncs starting
    together on a new lake race to create it: the losers see "already exists" and retry."""
    for attempt in range(1, _LAKE_INIT_ATTEMPTS + 1):
        try:
            with pipeline.sql_client():
                return
        except Exception as exc:
            racing = "already exists" in str(exc) or "duplicate key" in str(exc)
            if not racing or attempt == _LAKE_INIT_ATTEMPTS:
                raise
            time.sleep(0.2 * attempt)


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[-1]))
