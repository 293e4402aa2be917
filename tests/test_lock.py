"""One writer per store: the SQLite lock file and the PostgreSQL advisory lock."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from monitor.errors import StoreBusy
from monitor.store import Store
from monitor.store.lock import writer_lock


def test_a_second_writer_is_refused_and_told_who_holds_the_store(database_url: str) -> None:
    """While one writer holds the lock, another gets StoreBusy naming the holder."""
    first, second = Store.connect(database_url), Store.connect(database_url)
    try:
        with (
            writer_lock(first, role="monitor daemon"),
            pytest.raises(StoreBusy, match="monitor daemon, pid"),
            writer_lock(second, role="monitor check"),
        ):
            pytest.fail("two writers held the store at once")
        with writer_lock(second, role="monitor check"):
            pass  # released: the next writer gets it
    finally:
        first.close()
        second.close()


def test_a_killed_writer_leaves_no_stale_lock(database_url: str, tmp_path: Path) -> None:
    """A writer killed with SIGKILL releases the lock with its process."""
    script = textwrap.dedent(
        f"""
        import sys, time
        from monitor.store import Store
        from monitor.store.lock import writer_lock
        store = Store.connect({database_url!r})
        with writer_lock(store, role="doomed"):
            print("locked", flush=True)
            time.sleep(60)
        """
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, cwd=tmp_path
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        store = Store.connect(database_url)
        try:
            with pytest.raises(StoreBusy, match="doomed"), writer_lock(store, role="check"):
                pass
            holder.kill()
            holder.wait(timeout=10)
            with writer_lock(store, role="monitor check"):
                pass
        finally:
            store.close()
    finally:
        holder.kill()
        holder.wait(timeout=10)


def test_an_in_memory_store_needs_no_lock() -> None:
    """A private in-memory SQLite store is never shared, so locking it is a no-op."""
    store = Store.connect("sqlite:///:memory:")
    with writer_lock(store, role="a"), writer_lock(store, role="b"):
        pass
    store.close()
