"""A real PostgreSQL server for the tests: initdb in a temporary directory, on a free
127.0.0.1 port, stopped (and its directory removed) when the session ends.

Debian's PostgreSQL is used (`/usr/lib/postgresql/<version>/bin`, or `initdb` on PATH).
`initdb` refuses to run as root, so as root the server runs as the `postgres` user
(`runuser`). Authentication is `trust`, on 127.0.0.1 only.
"""

import getpass
import glob
import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

USER = "tractian"
# `trust` on loopback ignores it, but dlt's PostgreSQL credentials require one.
PASSWORD = "test-only"
DATABASE = "tractian"


def _bin_dir() -> Path | None:
    """Debian's newest server binaries, else the directory of `initdb` on PATH."""
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]))
    if versions:
        return Path(versions[-1])
    found = shutil.which("initdb")
    return Path(found).parent if found else None


def available() -> bool:
    return _bin_dir() is not None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class PostgresServer:
    port: int
    directory: Path
    _as_user: list[str]
    _bin: Path

    @property
    def url(self) -> str:
        """URL of the test database."""
        return self.database_url(DATABASE)

    def database_url(self, name: str) -> str:
        return f"postgresql://{USER}:{PASSWORD}@127.0.0.1:{self.port}/{name}"

    def create_database(self, name: str) -> str:
        """A fresh database on this server; its URL."""
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", USER, name)
        return self.database_url(name)

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run(
            [*self._as_user, str(self._bin / tool), *args],
            check=True,
            capture_output=True,
            text=True,
        )

    def stop(self) -> None:
        subprocess.run(
            [
                *self._as_user,
                str(self._bin / "pg_ctl"),
                "-D",
                str(self.directory / "data"),
                "-m",
                "immediate",
                "-w",
                "stop",
            ],
            capture_output=True,
            check=False,
        )
        shutil.rmtree(self.directory, ignore_errors=True)


def start() -> PostgresServer:
    """initdb + pg_ctl start on a free loopback port; the `tractian` role and database."""
    bin_dir = _bin_dir()
    if bin_dir is None:
        raise RuntimeError("PostgreSQL is not installed (no pg_ctl on PATH or in /usr/lib)")
    as_root = os.geteuid() == 0
    as_user = ["runuser", "-u", "postgres", "--"] if as_root else []
    directory = Path(tempfile.mkdtemp(prefix="tractian-pg-"))
    if as_root:
        shutil.chown(directory, "postgres", "postgres")
    data = directory / "data"
    port = _free_port()
    owner = "postgres" if as_root else getpass.getuser()
    server = PostgresServer(port, directory, as_user, bin_dir)
    try:
        server._run("initdb", "-D", str(data), "--no-sync", "-A", "trust", "-U", owner)
        options = f"-p {port} -k {directory} -c listen_addresses=127.0.0.1 -c fsync=off"
        server._run(
            "pg_ctl", "-D", str(data), "-o", options, "-l", str(directory / "log"), "-w", "start"
        )
        server._run(
            "createuser", "-h", "127.0.0.1", "-p", str(port), "-U", owner, "--superuser", USER
        )
        server._run("createdb", "-h", "127.0.0.1", "-p", str(port), "-U", USER, DATABASE)
    except subprocess.CalledProcessError as exc:
        server.stop()
        raise RuntimeError(f"could not start PostgreSQL: {exc.stderr or exc}") from None
    return server
