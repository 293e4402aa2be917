"""The README's examples run as written."""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, SHARED

#: Commands that serve until stopped, and the line they print once they are serving.
LONG_RUNNING = {"monitor emulator serve": "Serving until"}


def readme_examples() -> list[str]:
    """The `monitor …` lines of the README's sh blocks, after the first (install/test) block."""
    blocks = re.findall(r"```sh\n(.*?)```", (ROOT / "README.md").read_text(), re.DOTALL)
    return [
        line.split("#")[0].strip()
        for block in blocks[1:]
        for line in block.splitlines()
        if line.strip().startswith("monitor ")
    ]


def test_readme_has_examples() -> None:
    """The README shows at least one monitor command to try."""
    assert readme_examples()


def test_readme_examples_run(tmp_path: Path) -> None:
    """The README's examples, run in order from a copy of the repository root, all succeed."""
    if not SHARED.is_dir():
        pytest.skip(f"the examples read {SHARED}, which is absent")
    work = tmp_path / "main"
    work.mkdir()
    shutil.copy(ROOT / "sources.toml", work / "sources.toml")
    (tmp_path / "shared").symlink_to(SHARED)
    env = {
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "PYTHONUNBUFFERED": "1",
    }
    for command in readme_examples():
        command = command.replace("/tmp/", f"{tmp_path}/")
        ready = next(
            (line for prefix, line in LONG_RUNNING.items() if command.startswith(prefix)), None
        )
        if ready is None:
            done = subprocess.run(
                ["bash", "-c", command],
                cwd=work,
                capture_output=True,
                text=True,
                check=False,
                env=env,
            )
            assert done.returncode == 0, command + "\n" + done.stdout + done.stderr
            continue
        process = subprocess.Popen(
            ["bash", "-c", f"exec {command}"],
            cwd=work,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert process.stdout is not None
            seen = "".join(line for line in _until(process.stdout, ready))
            assert ready in seen, command + "\n" + seen
            process.send_signal(signal.SIGTERM)
            process.communicate(timeout=30)
        finally:
            process.kill()
        assert process.returncode == 0, command


def _until(stream: object, marker: str) -> list[str]:
    lines = []
    for line in stream:  # type: ignore[attr-defined]
        lines.append(line)
        if marker in line:
            break
    return lines
