"""A throwaway PostgreSQL cluster for the benchmarks, started from the machine's binaries.

    with throwaway_cluster() as cluster:
        url = cluster.create_database("monitor")   # postgresql+psycopg://…

`initdb` refuses to run as root, so as root the cluster runs as the `postgres`
user (`runuser -u postgres --`). It lives in a temporary directory (data, log
and unix socket), listens on a free loopback port with trust authentication
and PostgreSQL's default settings otherwise (fsync and all: it is measured as a
user would run it), and is stopped and removed at the end. The binaries are
found under /usr/lib/postgresql/*/bin or next to `pg_ctl` on PATH. The same
approach as the test suite's tests/postgres.py, written again here so that
bench/ does not import from tests/.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_NEEDED = ("initdb", "pg_ctl", "postgres")


def find_bindir() -> Path:
    """The directory of initdb, pg_ctl and postgres; RuntimeError saying what to install."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    candidates += [os.path.dirname(p) for p in [shutil.which("pg_ctl")] if p]
    for candidate in candidates:
        if all((Path(candidate) / tool).exists() for tool in _NEEDED):
            return Path(candidate)
    raise RuntimeError(
        "no PostgreSQL server binaries (initdb, pg_ctl, postgres): install them, "
        "e.g. `apt-get install postgresql`"
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Cluster:
    """A running throwaway cluster."""

    bindir: Path
    root: Path
    port: int
    user: str | None

    @property
    def datadir(self) -> Path:
        return self.root / "data"

    def url(self, database: str) -> str:
        """The SQLAlchemy URL monitor takes in MONITOR_DATABASE_URL."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def _admin(self) -> Any:
        import psycopg

        return psycopg.connect(
            f"postgresql://postgres@127.0.0.1:{self.port}/postgres", autocommit=True
        )

    def create_database(self, name: str) -> str:
        with self._admin() as db:
            db.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def facts(self) -> dict[str, str]:
        """The server's version and the settings that matter to a write-heavy run."""
        found = {}
        with self._admin() as db:
            for setting in ("server_version", "shared_buffers", "fsync", "synchronous_commit"):
                found[setting] = str(db.execute(f"SHOW {setting}").fetchone()[0])
        return found

    def run(self, *command: str) -> None:
        prefix = ["runuser", "-u", self.user, "--"] if self.user else []
        subprocess.run([*prefix, *command], check=True, capture_output=True, text=True)

    def stop(self) -> None:
        try:
            self.run(str(self.bindir / "pg_ctl"), "-D", str(self.datadir), "-m", "fast", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def start() -> Cluster:
    """initdb and start a cluster in a new temporary directory."""
    try:
        import psycopg  # noqa: F401  (monitor needs it to reach PostgreSQL at all)
    except ImportError:
        raise RuntimeError(
            "psycopg is not installed: `python -m pip install -e '.[postgres]'`"
        ) from None
    bindir = find_bindir()
    user = None
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            raise RuntimeError(
                "running as root, and there is no `postgres` user to run PostgreSQL as"
            ) from None
        user = "postgres"
    root = Path(tempfile.mkdtemp(prefix="monitor-bench-pg-"))
    root.chmod(0o755)
    if user:
        shutil.chown(root, user)
    cluster = Cluster(bindir, root, _free_port(), user)
    try:
        cluster.run(
            str(bindir / "initdb"),
            "-D",
            str(cluster.datadir),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
        )
        cluster.run(
            str(bindir / "pg_ctl"),
            "-D",
            str(cluster.datadir),
            "-w",
            "-t",
            "60",
            "-o",
            f"-p {cluster.port} -k {root} -c listen_addresses=127.0.0.1",
            "-l",
            str(root / "server.log"),
            "start",
        )
    except subprocess.CalledProcessError as exc:
        log = root / "server.log"
        detail = (exc.stderr or "") + (log.read_text() if log.exists() else "")
        shutil.rmtree(root, ignore_errors=True)
        raise RuntimeError(f"PostgreSQL would not start: {detail.strip()[-1000:]}") from None
    return cluster


@contextmanager
def throwaway_cluster() -> Iterator[Cluster]:
    """A cluster for the length of a `with` block, stopped and removed after it."""
    cluster = start()
    try:
        yield cluster
    finally:
        cluster.stop()
