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
    # Registered first, as an import would: dataclasses look their module up by name.
    sys.modules[spec.name] = module
    if str(BENCH) not in sys.path:
        sys.path.insert(0, str(BENCH))  # the scripts import each other, as when run
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    "script",
    [
        "scale.py",
        "peers.py",
        "report.py",
        "catalogs.py",
        "startup.py",
        "million.py",
        "hub_requests.py",
    ],
)
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

    def read(name: str) -> Any:
        path = results / f"{name}.json"
        return json.loads(path.read_text()) if path.exists() else None

    analysis = (BENCH / "analysis.md").read_text()
    page = report.render(
        read("scale"), read("peers"), analysis, startup=read("startup"), million=read("million")
    )
    assert (ROOT / "BENCHMARKS.md").read_text() == page
    assert "(BENCHMARKS.md)" in (ROOT / "README.md").read_text()
    assert (results / "scaling.svg").read_text().lstrip().startswith("<?xml")


def test_a_failed_target_is_shown_as_failed() -> None:
    """A figure over its target is judged FAIL, with the commit that measured it."""
    targets = load("targets")
    report = load("report")
    scale = json.loads((BENCH / "results" / "scale.json").read_text())
    slow = {"median": 5.0, "min": 4.0, "max": 6.0}
    scale = {**scale, "commit": "abc1234"}
    scale["sizes"]["10000"]["figures"]["wall_s_nothing_due"] = slow
    found = targets.judge(scale=scale)
    (nothing_due,) = [t for t in found if "nothing due" in t.name and "10,000" in t.name]
    assert nothing_due.passed is False and nothing_due.commit == "abc1234"
    assert nothing_due.measured.startswith("median 5.00 s")
    # What was not measured is never a PASS.
    assert [t.passed for t in found if "linkinator" in t.name] == [None]
    assert "| abc1234 | **FAIL** |" in report.render(scale, None)
