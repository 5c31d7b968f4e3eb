"""DuckDB extensions installed from their PyPI wheels, never downloaded.

DuckDB fetches an extension from its web repository the first time it is needed; these
machines (and many plants) cannot reach it. The `duckdb-extension-<name>` wheels carry
the binary built for one DuckDB version (hence the exact `duckdb` pin in
pyproject.toml); `install` copies it into DuckDB's extension directory once, after
which `ATTACH 'ducklake:...'` loads it by itself, in any process.
"""

import fcntl
import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb


def wheel_file(name: str) -> Path:
    """The extension binary shipped by the `duckdb-extension-<name>` wheel."""
    try:
        package = importlib.import_module(f"duckdb_extension_{name}")
    except ImportError:
        raise RuntimeError(
            f"DuckDB extension {name!r} is not installed: pip install "
            f"'duckdb-extension-{name.replace('_', '-')}=={duckdb.__version__}'"
        ) from None
    found = Path(package.__file__).parent / "extensions" / f"v{duckdb.__version__}"
    binary = found / f"{name}.duckdb_extension"
    if not binary.exists():
        raise RuntimeError(
            f"the {name!r} extension wheel has no build for DuckDB {duckdb.__version__} "
            f"(looked for {binary}); install the wheel of the same version as duckdb"
        )
    return binary


@contextmanager
def _one_installer_at_a_time() -> Iterator[None]:
    """Hold an exclusive lock beside DuckDB's extension directory (~/.duckdb).

    A process listing the installed extensions while another writes one fails on
    DuckDB's lock of the file being written: four syncs starting at once did.
    """
    folder = Path.home() / ".duckdb"
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "tractian-elt-extensions.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def install(*names: str) -> None:
    """Install each extension from its wheel unless DuckDB already has it (safe when
    several processes do it at once)."""
    with _one_installer_at_a_time(), duckdb.connect() as conn:
        installed = {
            row[0]
            for row in conn.sql(
                "SELECT extension_name FROM duckdb_extensions() WHERE installed"
            ).fetchall()
        }
        for name in names:
            if name not in installed:
                conn.execute(f"INSTALL '{wheel_file(name)}'")
