"""A throwaway PostgreSQL server for the store tests, started from the machine's binaries.

The server runs as the `postgres` user when the tests run as root (initdb
refuses root), listens on a free loopback port with trust authentication, keeps
its data in a temporary directory, and is stopped at the end of the session.
Where no PostgreSQL is installed, `start()` returns None and the tests that need
it skip with that reason.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Server:
    bindir: Path
    datadir: Path
    port: int
    as_user: str | None

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def database_url(self, name: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{name}"


def find_bindir() -> Path | None:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    candidates += [os.path.dirname(p) for p in [shutil.which("pg_ctl")] if p]
    for candidate in candidates:
        if all((Path(candidate) / tool).exists() for tool in ("initdb", "pg_ctl", "postgres")):
            return Path(candidate)
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run(server_user: str | None, *command: str) -> None:
    prefix = ["runuser", "-u", server_user, "--"] if server_user else []
    subprocess.run([*prefix, *command], check=True, capture_output=True, text=True)


def start() -> tuple[Server | None, str]:
    """Start a server; (None, why) when that is impossible here."""
    bindir = find_bindir()
    if bindir is None:
        return None, "no PostgreSQL binaries (initdb, pg_ctl, postgres) are installed"
    user = None
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return None, "running as root and there is no postgres user to run PostgreSQL as"
        user = "postgres"
    root = Path(tempfile.mkdtemp(prefix="monitor-pg-"))
    datadir = root / "data"
    if user:
        shutil.chown(root, user)
    root.chmod(0o755)
    port = _free_port()
    try:
        _run(
            user,
            str(bindir / "initdb"),
            "-D",
            str(datadir),
            "-U",
            "postgres",
            "--auth=trust",
            "--no-sync",
            "-E",
            "UTF8",
        )
        _run(
            user,
            str(bindir / "pg_ctl"),
            "-D",
            str(datadir),
            "-w",
            "-t",
            "30",
            "-o",
            f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off",
            "-l",
            str(root / "server.log"),
            "start",
        )
    except (subprocess.CalledProcessError, FileNotFoundError) as exc:
        detail = getattr(exc, "stderr", "") or str(exc)
        return None, f"PostgreSQL would not start here: {detail.strip()[:300]}"
    return Server(bindir, datadir, port, user), ""


def stop(server: Server) -> None:
    _run(
        server.as_user,
        str(server.bindir / "pg_ctl"),
        "-D",
        str(server.datadir),
        "-m",
        "fast",
        "-w",
        "stop",
    )
    time.sleep(0.1)
    shutil.rmtree(server.datadir.parent, ignore_errors=True)
