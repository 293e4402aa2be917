"""The documentation's examples, in README.md and docs/*.md, run as written."""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, SHARED, documentation

#: Commands that serve until stopped, and the line they print once they are serving.
LONG_RUNNING = {"monitor emulator serve": "Serving until"}


def examples(text: str, *, skip: int = 0) -> list[str]:
    """The `monitor …` lines of a page's sh blocks, after its first `skip` blocks."""
    blocks = re.findall(r"```sh\n(.*?)```", text, re.DOTALL)
    return [
        line.split("#")[0].strip()
        for block in blocks[skip:]
        for line in block.splitlines()
        if line.strip().startswith("monitor ")
    ]


def readme_examples() -> list[str]:
    """The README's examples, after its first (install/test) block, then those of docs/*.md."""
    readme, *pages = documentation()
    found = examples(readme.read_text(), skip=1)
    return found + [line for page in pages for line in examples(page.read_text())]


def test_readme_has_examples() -> None:
    """The README shows at least one monitor command to try."""
    assert examples((ROOT / "README.md").read_text(), skip=1)


def test_the_reference_has_examples() -> None:
    """The reference in docs/ shows monitor commands to try too (the emulator's, at least)."""
    in_docs = [line for page in documentation()[1:] for line in examples(page.read_text())]
    assert any(line.startswith("monitor emulator serve") for line in in_docs), in_docs


#: Fences a page may use: `sh` blocks are run; the others are shown, never run.
SHOWN = {"sh", "console", "text", "toml", "yaml", "markdown", "crontab", "json"}


def test_no_shell_example_hides_from_the_runner() -> None:
    """Every code block is fenced `sh` (run) or as something shown: no `bash` that runs nowhere."""
    unknown = []
    for page in documentation():
        inside = False
        for number, line in enumerate(page.read_text().splitlines(), 1):
            if line.lstrip().startswith("```"):
                info = line.strip()[3:].strip()
                if not inside and info not in SHOWN:
                    unknown.append(f"{page.name}:{number}: {line.strip()}")
                inside = not inside
    assert unknown == []


def test_readme_examples_run(tmp_path: Path) -> None:
    """The README's and docs/'s examples, run in order from a copy of the root, all succeed."""
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
