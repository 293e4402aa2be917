"""The benchmarks' scripts and BENCHMARKS.md: runnable, and the page is what the results say.

The benchmarks themselves are never run here (they take an hour); these tests pin that
their scripts start, and that BENCHMARKS.md is exactly what `bench/report.py` writes from
the committed results, so no figure on the page was typed by hand.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("script", ["scale.py", "peers.py", "report.py", "catalogs.py"])
def test_every_bench_script_has_help(script: str) -> None:
    """Each benchmark script starts and explains its options."""
    done = subprocess.run(
        [sys.executable, str(BENCH / script), "--help"],
        capture_output=True,
        text=True,
        cwd=BENCH,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "usage:" in done.stdout


def test_bench_run_is_one_executable_command() -> None:
    """bench/run runs the scale and peer benchmarks, then writes BENCHMARKS.md."""
    run = BENCH / "run"
    assert run.stat().st_mode & 0o111
    text = run.read_text()
    assert "bench/scale.py" in text and "bench/peers.py" in text and "bench/report.py" in text


def test_benchmarks_md_is_what_the_results_say() -> None:
    """BENCHMARKS.md equals bench/report.py's rendering of the committed results."""
    report = load("report")
    results = BENCH / "results"
    scale = json.loads((results / "scale.json").read_text())
    peers = json.loads((results / "peers.json").read_text())
    analysis = (BENCH / "analysis.md").read_text()
    assert (ROOT / "BENCHMARKS.md").read_text() == report.render(scale, peers, analysis)
    assert "(BENCHMARKS.md)" in (ROOT / "README.md").read_text()
    assert (results / "scaling.svg").read_text().lstrip().startswith("<?xml")


def test_a_failed_target_is_shown_as_failed() -> None:
    """The targets table prints each target's verdict as measured, FAIL included."""
    report = load("report")
    figure = {"median": 1.0, "min": 1.0, "max": 1.0}
    size: dict[str, Any] = {
        "figures": {key: figure for key, _ in report.SCALE_ROWS},
        "emulator_seed_s": 1.0,
        "mix": {"github_repo": 6},
        "what_it_means": {"github": "cheap"},
    }
    scale = {
        "machine": {"cores": 2, "cpu": "x", "python": "3.11"},
        "settings": {
            "latency_ms": 50,
            "repeats": {"10": 1},
            "no_token_github_latency_ms": 0,
            "arxiv_interval_s": 3,
        },
        "token_poll_of_10000_repos": {
            "repos": 10,
            "github_requests": 1,
            "github_points": 1,
            "wall_s": 1.0,
        },
        "sizes": {"10": size},
        "targets": [
            {"target": "fast", "pass": False, "measured": "slow"},
            {"target": "small", "pass": True, "measured": "tiny"},
        ],
    }
    text = report.render(scale, None)
    assert "| fast | slow | **FAIL** |" in text
    assert "| small | tiny | **PASS** |" in text
