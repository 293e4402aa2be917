"""Shared fixtures: an environment with no tokens, no proxies and no way off the machine.

Every test runs with the process environment scrubbed of credentials, proxy
settings and MONITOR_* variables, with the Hugging Face cache (and any token
saved in it) redirected to a temporary directory, and with outgoing
connections limited to loopback: a test that tries to reach the internet fails
at once instead of hanging or, worse, passing.
"""

from __future__ import annotations

import ipaddress
import json
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from monitor.emulator import Emulator, World
from tests import postgres

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data"
SHARED = ROOT.parent / "shared"
SEEDS = SHARED / "seeds"
DOCS = ROOT / "docs"


def documentation() -> list[Path]:
    """The project's documentation: README.md, then the reference's pages in docs/, by name."""
    return [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]


def docs_text() -> str:
    """README.md and every page of docs/ as one text, for what the documentation must say."""
    return "\n".join(path.read_text() for path in documentation())


_SCRUBBED_PREFIXES = ("MONITOR_",)
_SCRUBBED = (
    "GITHUB_TOKEN",
    "GH_TOKEN",
    "GITHUB_API_TOKEN",
    "HF_TOKEN",
    "HUGGING_FACE_HUB_TOKEN",
    "HUGGINGFACE_TOKEN",
    "HF_ENDPOINT",
    "HF_HUB_OFFLINE",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
    "no_proxy",
)


@pytest.fixture(autouse=True)
def _isolated_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Scrub tokens, proxies and MONITOR_* settings; keep HF state in a temp dir."""
    for name in list(os.environ):
        if name in _SCRUBBED or name.startswith(_SCRUBBED_PREFIXES):
            monkeypatch.delenv(name, raising=False)
    hf_home = tmp_path_factory.mktemp("hf-home")
    monkeypatch.setenv("HF_HOME", str(hf_home))
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")


_real_connect = socket.socket.connect


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback  # all of 127.0.0.0/8, and ::1
    except ValueError:
        return False


def _loopback_only(self: socket.socket, address: Any) -> Any:
    host = address[0] if isinstance(address, tuple) else address
    if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(str(host)):
        raise ConnectionRefusedError(f"tests may not leave the machine (tried {address!r})")
    return _real_connect(self, address)


@pytest.fixture(autouse=True)
def _no_internet(monkeypatch: pytest.MonkeyPatch) -> None:
    """Refuse every connection that is not to loopback."""
    monkeypatch.setattr(socket.socket, "connect", _loopback_only)


@pytest.fixture
def world() -> World:
    """An empty emulated world."""
    return World()


@pytest.fixture
def emulator(world: World) -> Iterator[Emulator]:
    """The emulator serving `world` on loopback for one test."""
    with Emulator(world) as running:
        yield running


def recorded(name: str) -> Any:
    """A recorded real response from ../shared/api-examples, or a skip where it is absent."""
    path = SHARED / "api-examples" / name
    if not path.is_file():
        pytest.skip(f"the recorded example {path} is absent")
    return json.loads(path.read_text())


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[postgres.Server]:
    """A throwaway PostgreSQL server for the session, or a skip saying why there is none."""
    server, why = postgres.start()
    if server is None:
        pytest.skip(why)
    yield server
    postgres.stop(server)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty store: SQLite in a temp dir, and a new database on the test PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'monitor.db'}"
        return
    server: postgres.Server = request.getfixturevalue("postgres_server")
    import uuid

    import sqlalchemy as sa

    name = f"monitor_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as db:
        db.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield server.database_url(name)
    with admin.connect() as db:
        db.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def seeds() -> list[Path]:
    """The five seed documents, or a skip where ../shared/seeds is absent."""
    if not SEEDS.is_dir():
        pytest.skip(f"the seed documents are not at {SEEDS}")
    return sorted(SEEDS.glob("*.txt"))
