"""`python -m monitor` is the `monitor` command."""

from __future__ import annotations

from monitor.cli import main

if __name__ == "__main__":
    main(prog_name="monitor")
