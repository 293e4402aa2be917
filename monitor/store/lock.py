"""One writer per store: a lock file beside a SQLite store, an advisory lock on PostgreSQL.

    with writer_lock(store, role="monitor daemon"):
        ...  # only this process writes the store until the block ends

Both locks belong to the process that holds them and vanish with it, so a
killed monitor never leaves a stale lock behind: the kernel drops a `flock` on
exit, and PostgreSQL drops a session's advisory lock when its connection
closes. A second writer does not wait; it raises `StoreBusy` naming the holder.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from monitor.errors import StoreBusy
from monitor.store.store import Store

#: The advisory lock's key: any constant works, as long as every monitor uses the same one.
ADVISORY_KEY = 0x6D6F6E69746F72  # "monitor"


def holder_text(role: str) -> str:
    """Who holds the lock, as the other process will read it."""
    started = datetime.now(UTC).replace(microsecond=0).isoformat()
    return f"{role}, pid {os.getpid()} on {socket.gethostname()}, since {started}"


@contextmanager
def writer_lock(store: Store, *, role: str) -> Iterator[None]:
    """Hold the store's writer lock for the duration of the block, or raise `StoreBusy`."""
    url = store.engine.url
    if url.get_backend_name() == "sqlite":
        database = url.database or ""
        if database in ("", ":memory:") or database.startswith("file:"):
            yield  # a private in-memory store has no second writer
            return
        with _lock_file(Path(database + ".lock"), role):
            yield
    elif url.get_backend_name() == "postgresql":
        with _advisory_lock(store, role):
            yield
    else:  # other databases: no portable lock; document that one writer is the user's job
        yield


@contextmanager
def _lock_file(path: Path, role: str) -> Iterator[None]:
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(descriptor, 4096, 0).decode("utf-8", "replace").strip()
            raise StoreBusy(
                f"another monitor is writing this store ({holder or 'holder unknown'}; "
                f"lock file {path}). Wait for it to finish, or stop it first."
            ) from None
        # Written only after the lock is ours, so a reader never sees a half-written holder.
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, (holder_text(role) + "\n").encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(descriptor, 0)
            fcntl.flock(descriptor, fcntl.LOCK_UN)
    finally:
        os.close(descriptor)


@contextmanager
def _advisory_lock(store: Store, role: str) -> Iterator[None]:
    # A connection of its own, held open for as long as the lock: the lock lives in its session.
    with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as db:
        name = f"monitor: {holder_text(role)}"[:63]
        db.execute(sa.text("select set_config('application_name', :name, false)"), {"name": name})
        got = db.execute(sa.text("select pg_try_advisory_lock(:key)"), {"key": ADVISORY_KEY})
        if not got.scalar():
            holder = db.execute(
                sa.text(
                    "select a.application_name, a.client_addr, a.backend_start "
                    "from pg_locks l join pg_stat_activity a on a.pid = l.pid "
                    "where l.locktype = 'advisory' and l.granted "
                    "and l.classid = :high and l.objid = :low and l.objsubid = 1"
                ),
                {"high": ADVISORY_KEY >> 32, "low": ADVISORY_KEY & 0xFFFFFFFF},
            ).first()
            who = (
                f"{holder.application_name or 'a session'} from {holder.client_addr or 'local'}"
                if holder is not None
                else "holder unknown"
            )
            raise StoreBusy(
                f"another monitor is writing this store ({who}; PostgreSQL advisory lock "
                f"{ADVISORY_KEY}). Wait for it to finish, or stop it first."
            )
        try:
            yield
        finally:
            db.execute(sa.text("select pg_advisory_unlock(:key)"), {"key": ADVISORY_KEY})
