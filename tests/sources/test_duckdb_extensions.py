"""Installing the DuckDB extensions from their wheels, from many processes at once."""

import os
import subprocess
import sys

import duckdb

INSTALL = "from sources.duckdb_extensions import install; install('ducklake', 'postgres_scanner')"


def test_processes_starting_at_once_all_install_the_extensions(tmp_path):
    """Twelve syncs starting together into a fresh home: without a lock, a process
    listing the extensions while another writes one failed (2 runs in 5 here)."""
    env = os.environ | {"HOME": str(tmp_path)}
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", INSTALL], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for _ in range(12)
    ]
    failures = [p.communicate()[1].decode() for p in processes if p.wait() != 0]
    assert failures == []
    folder = tmp_path / ".duckdb" / "extensions" / f"v{duckdb.__version__}"
    installed = {path.name for path in folder.rglob("*.duckdb_extension")}
    assert installed == {"ducklake.duckdb_extension", "postgres_scanner.duckdb_extension"}
