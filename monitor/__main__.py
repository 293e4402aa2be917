"""`python -m monitor` is the `monitor` command."""

from __future__ import annotations

from monitor.cli import run

if __name__ == "__main__":
    run()
