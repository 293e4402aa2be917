"""The README's examples run as written."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, SHARED


def readme_examples() -> list[str]:
    """The `monitor …` lines of the README's sh blocks, after the first (install/test) block."""
    blocks = re.findall(r"```sh\n(.*?)```", (ROOT / "README.md").read_text(), re.DOTALL)
    return [
        line.strip()
        for block in blocks[1:]
        for line in block.splitlines()
        if line.strip().startswith("monitor ")
    ]


def test_readme_has_examples() -> None:
    """The README shows at least one monitor command to try."""
    assert readme_examples()


def test_readme_examples_run(tmp_path: Path) -> None:
    """The README's examples, run in order from a copy of the repository root, all exit 0."""
    if not SHARED.is_dir():
        pytest.skip(f"the examples read {SHARED}, which is absent")
    work = tmp_path / "main"
    work.mkdir()
    shutil.copy(ROOT / "sources.toml", work / "sources.toml")
    (tmp_path / "shared").symlink_to(SHARED)
    script = "set -e\n" + "\n".join(c.replace("/tmp/", f"{tmp_path}/") for c in readme_examples())
    path = f"{Path(sys.executable).parent}:/usr/bin:/bin"
    done = subprocess.run(
        ["bash", "-c", script],
        cwd=work,
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": path, "HOME": str(tmp_path)},
    )
    assert done.returncode == 0, done.stdout + done.stderr
