"""What the benchmark scripts share: the machine they ran on, and a clean environment.

Imported by its siblings as `common` (each script's directory is first on sys.path).
"""

from __future__ import annotations

import os
import platform
import re
import subprocess
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

#: variables a measured process must not inherit: settings, tokens, proxies
_DROPPED_PREFIXES = ("MONITOR_", "GITHUB_", "GH_", "HF_")


def machine() -> dict[str, Any]:
    """Cores, CPU model, memory, Python, Node.js and platform of this machine."""
    cpu = platform.processor()
    ram = None
    try:
        found = re.search(r"model name\s*:\s*(.+)", Path("/proc/cpuinfo").read_text())
        cpu = found[1].strip() if found else cpu
        memory = re.search(r"MemTotal:\s*(\d+) kB", Path("/proc/meminfo").read_text())
        ram = round(int(memory[1]) / 1024 / 1024, 1) if memory else None
    except OSError:
        pass
    try:
        node = subprocess.run(
            ["node", "--version"], capture_output=True, text=True, check=False
        ).stdout.strip()
    except OSError:
        node = None
    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "ram_gb": ram,
        "python": platform.python_version(),
        "node": node,
        "platform": platform.platform(),
    }


def clean_environment() -> dict[str, str]:
    """This environment without monitor settings, tokens, proxies or PYTHONPATH."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(_DROPPED_PREFIXES)
        and not k.lower().endswith("_proxy")
        and k != "PYTHONPATH"
    }
    return env | {"HF_HUB_DISABLE_TELEMETRY": "1", "NO_COLOR": "1", "FORCE_COLOR": "0"}


def commit() -> str:
    """The commit measured (`-dirty` when the work tree has uncommitted changes)."""
    done = subprocess.run(
        ["git", "-C", str(ROOT), "describe", "--always", "--dirty"],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip() or "?"
