"""`monitor gate`: a pull request's new links judged at the door, against the emulator.

A temporary git repository has a base branch and a pull-request branch; the
gate runs in it in-process, through the real PyGithub, huggingface_hub and
httpx, with the emulator's request log counting what it costs.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from monitor.admission import RULES, Level, Rule
from monitor.catalog.diff import Added, Base, Change, added_lines
from monitor.catalog.kinds import identify
from monitor.catalog.links import Link
from monitor.cli import main
from monitor.emulator import Emulator, World
from monitor.gate import GateResult, judge
from monitor.model import Facts, Observation, Outcome
from monitor.render.gate import lines, sarif, summary, workflow_commands
from monitor.settings import Policy
from tests.harness import GITHUB_TOKEN

NOW = "2026-11-10T06:00:00+00:00"
ROOT = Path(__file__).resolve().parent.parent
MULTITOOL = ROOT / ".ci" / "node" / "node_modules" / "@microsoft" / "sarif-multitool-linux"
SCHEMA = MULTITOOL / "sarif-2.1.0.json"

BASE_README = """\
# Awesome LLM

- [Good repo](https://github.com/good/repo): already here.
- [Broken before](https://github.com/gone-before/x): broken on the base already.
- [A page](https://example.org/ok)
"""

#: The pull request: line 4 only rewords a line whose link was broken before it; every
#: other added line adds one link that breaks one rule (or none).
PR_README = """\
# Awesome LLM

- [Good repo](https://github.com/good/repo): already here.
- [Broken before](https://github.com/gone-before/x): reworded, still broken, not ours.
- [A page](https://example.org/ok)
- [Fine](https://github.com/fine/repo)
- [Renamed](https://github.com/old/name)
- [Gone](https://github.com/gone/repo)
- [Blocked](https://github.com/blocked/repo)
- [Archived](https://github.com/arch/repo)
- [Unlicensed](https://github.com/nolic/repo)
- [Other licence](https://github.com/other/repo)
- [Stale](https://github.com/stale/repo)
- [Gated](https://huggingface.co/org/gated-model)
- [No model](https://huggingface.co/org/no-such-model)
- [Withdrawn](https://arxiv.org/abs/2301.00002)
- [Paper](https://arxiv.org/abs/2301.00001)
- [Moved page](https://example.org/moved)
- [Dead page](https://example.org/gone)
- [Walled](https://walled.example/)
- [Flaky](https://flaky.example/)
"""

#: line -> the rules that must fire there (and nowhere else).
EXPECTED = {
    7: ["renamed"],
    8: ["deleted"],
    9: ["blocked"],
    10: ["archived"],
    11: ["no-license"],
    12: ["no-license"],
    13: ["stale"],
    14: ["gated"],
    15: ["deleted"],
    16: ["withdrawn"],
    18: ["redirected"],
    19: ["not-found"],
    20: ["unverified"],
    21: ["unverified"],
}


def populate(world: World) -> None:
    """Every resource the pull request links to, each breaking its one rule."""
    recent = "2026-10-01T00:00:00Z"
    for name in ("good/repo", "fine/repo", "old/name", "gone/repo", "blocked/repo"):
        world.add_repo(name, last_commit=recent)
    world.rename("old/name", "new/name")
    world.delete("gone/repo")
    world.block("blocked/repo")
    world.add_repo("arch/repo", last_commit=recent, archived=True)
    world.add_repo("nolic/repo", last_commit=recent, license=None)
    world.add_repo("other/repo", last_commit=recent, license="NOASSERTION")
    world.add_repo("stale/repo", last_commit="2021-01-01T00:00:00Z")
    world.add_hf_repo("org/gated-model", gated="manual", last_modified=recent)
    world.add_paper("2301.00001", "A paper", ["2023-01-01T00:00:00Z"])
    world.add_paper("2301.00002", "A withdrawn paper", ["2023-01-01T00:00:00Z"])
    world.add_version("2301.00002", "2023-06-01T00:00:00Z", withdrawn=True)
    world.set_page("https://example.org/ok", "ok")
    world.set_page("https://example.org/moved", "redirect", location="https://example.org/new")
    world.set_page("https://example.org/new", "ok")
    world.set_page("https://walled.example/", "cf-challenge")
    world.set_page("https://flaky.example/", 503, retry_after=1)


def git(folder: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=folder, capture_output=True, text=True, check=True)
    return done.stdout


@pytest.fixture
def repository(tmp_path: Path) -> Path:
    """A list's repository: `main` with the base README, `pr` with the pull request's."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    folder = tmp_path / "list"
    folder.mkdir()
    git(folder, "init", "-q", "-b", "main")
    git(folder, "config", "user.email", "maintainer@example.org")
    git(folder, "config", "user.name", "Maintainer")
    (folder / "README.md").write_text(BASE_README)
    git(folder, "add", "README.md")
    git(folder, "commit", "-q", "-m", "base")
    git(folder, "checkout", "-q", "-b", "pr")
    (folder / "README.md").write_text(PR_README)
    git(folder, "commit", "-q", "-am", "add links")
    return folder


@pytest.fixture
def gate_env(
    emulator: Emulator, world: World, repository: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    """The emulator populated, the settings pointing at it, the working folder the repository."""
    populate(world)
    env = {
        **emulator.environment(),
        "GITHUB_TOKEN": GITHUB_TOKEN,
        "MONITOR_PROBES_ARXIV_INTERVAL_SECONDS": "0",
        "MONITOR_PROBES_WEB_RETRY_BACKOFF_MS": "0",
        "MONITOR_PROBES_API_RETRY_BACKOFF_MS": "0",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(repository)
    return env


def run(*args: str) -> Result:
    return CliRunner().invoke(main, ["gate", "--now", NOW, *args])


def findings(result: Result) -> dict[int, list[str]]:
    """line -> rule names, from the `DOCUMENT:LINE: level: … [rule]` lines."""
    found: dict[int, list[str]] = {}
    for text in result.output.splitlines():
        if text.startswith("README.md:"):
            line = int(text.split(":")[1])
            found.setdefault(line, []).append(text.rsplit("[", 1)[1].rstrip("]"))
    return found


# --- the rules, on the lines that broke them ---------------------------------------------------


def test_every_rule_fires_on_the_line_that_added_the_link_and_only_there(
    gate_env: dict[str, str],
) -> None:
    """Each added link's rule fires on its line; the reworded broken line is not blamed."""
    result = run()
    assert result.exit_code == 1, result.output
    assert findings(result) == EXPECTED
    assert "README.md:4" not in result.output  # broken on the base: not this change's doing


def test_findings_say_what_to_do(gate_env: dict[str, str]) -> None:
    """Renames and redirects name the URL to use; unverified links never read as errors."""
    output = run().output
    assert (
        "README.md:7: error: https://github.com/old/name: renamed: old/name is now new/name; "
        "link https://github.com/new/name [renamed]"
    ) in output
    assert (
        "README.md:18: error: https://example.org/moved: redirects permanently to "
        "https://example.org/new; link that instead [redirected]"
    ) in output
    assert "README.md:20: warning: https://walled.example/: could not be verified" in output
    assert "README.md:21: warning: https://flaky.example/: could not be verified" in output
    assert (
        "README.md:12: warning: https://github.com/other/repo: no licence GitHub can identify "
        "(NOASSERTION) [no-license]"
    ) in output
    last = output.splitlines()[-2]
    assert last.startswith("monitor gate: 6 errors, 8 warnings in 16 new links (README.md), ")
    assert "compared with the merge base with main" in last
    assert output.splitlines()[-1].endswith(" s; requests: arxiv 1, github 1, hf 2, web 7")


def test_warnings_promoted_by_the_catalog_fail_the_gate_but_unverified_never(
    gate_env: dict[str, str], repository: Path
) -> None:
    """`[gate] errors` makes archived an error; `unverified` there is refused as bad input."""
    catalog = repository / "sources.toml"
    catalog.write_text('[gate]\nerrors = ["archived"]\n')
    output = run("README.md").output
    assert "README.md:10: error: https://github.com/arch/repo: the repository is archived" in (
        output
    )
    assert "README.md:13: warning:" in output
    catalog.write_text('[gate]\nerrors = ["unverified"]\n')
    refused = run("README.md")
    assert refused.exit_code == 2
    assert "'unverified' can never be an error" in refused.output


def test_the_catalogs_judgement_is_honoured(gate_env: dict[str, str], repository: Path) -> None:
    """An entry marked `ignore` is skipped; a `finished` project is never stale."""
    (repository / "sources.toml").write_text(
        '[[source]]\nurl = "https://github.com/gone/repo"\nignore = true\n\n'
        '[[source]]\nurl = "https://github.com/stale/repo"\nmaintenance = "finished"\n'
    )
    found = findings(run("README.md"))
    assert 8 not in found and 13 not in found
    assert found[7] == ["renamed"]


def test_a_pull_request_of_good_links_passes(
    emulator: Emulator, world: World, repository: Path, gate_env: dict[str, str]
) -> None:
    """Only good links added: exit 0, and a line saying so."""
    (repository / "README.md").write_text(
        BASE_README
        + "- [Fine](https://github.com/fine/repo)\n- [Paper](https://arxiv.org/abs/2301.00001)\n"
    )
    git(repository, "commit", "-q", "-am", "good links only")
    result = run()
    assert result.exit_code == 0, result.output
    first, second = result.output.splitlines()
    assert first == (
        "monitor gate: no problem in 2 new links (README.md), compared with the merge base "
        f"with main ({git(repository, 'merge-base', 'HEAD', 'main')[:7]})"
    )
    assert second.startswith("monitor gate: 2 resources checked in ")
    assert second.endswith(" s; requests: arxiv 1, github 1")


def test_uncommitted_and_untracked_documents_count_too(
    repository: Path, gate_env: dict[str, str]
) -> None:
    """The working tree is compared, so a contributor can gate before committing."""
    git(repository, "checkout", "-q", "main")
    (repository / "NEW.md").write_text("# New\n\n[Gone](https://github.com/gone/repo)\n")
    result = run()
    assert result.exit_code == 1
    assert "NEW.md:3: error: https://github.com/gone/repo: GitHub has no repository" in (
        result.output
    )


def test_bad_input_exits_2_naming_what_to_fix(
    repository: Path, gate_env: dict[str, str], tmp_path: Path
) -> None:
    """A base that is not there, a document that is not, a folder outside git: exit 2."""
    missing = run("--base", "origin/nope")
    assert missing.exit_code == 2
    assert "'origin/nope' is not a commit in this repository" in missing.output
    assert "fetch-depth: 0" in missing.output
    absent = run("NOPE.md")
    assert absent.exit_code == 2 and "NOPE.md: no such file" in absent.output
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "README.md").write_text("[x](https://example.org/)\n")
    result = CliRunner().invoke(main, ["gate", str(outside / "README.md")])
    assert result.exit_code == 2 and "is not in the repository" in result.output


def test_a_folder_outside_any_repository_is_bad_input(
    gate_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No git repository around: exit 2 with the reason, never a trace."""
    outside = tmp_path / "plain"
    outside.mkdir()
    monkeypatch.chdir(outside)
    result = run()
    assert result.exit_code == 2
    assert "is not inside a git repository" in result.output
    assert "Traceback" not in result.output


def test_the_store_is_never_written(gate_env: dict[str, str], repository: Path) -> None:
    """No database appears where the settings point."""
    run()
    assert not (repository / "monitor.db").exists()


# --- GitHub's surfaces -------------------------------------------------------------------------


def test_annotations_and_summary_in_github_actions(
    gate_env: dict[str, str], repository: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With GITHUB_ACTIONS=true: one annotation per finding, and the summary appended."""
    summary_file = tmp_path / "summary.md"
    summary_file.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary_file))
    output = run().output
    assert (
        "::error file=README.md,line=7,title=monitor gate%3A It was renamed or transferred::"
        "https://github.com/old/name: renamed: old/name is now new/name; "
        "link https://github.com/new/name"
    ) in output.splitlines()
    assert (
        "::warning file=README.md,line=20,title=monitor gate%3A It could not be verified::"
        "https://walled.example/: could not be verified: the site turns robots away (HTTP 403); "
        "open it in a browser"
    ) in output.splitlines()
    assert sum(line.startswith("::") for line in output.splitlines()) == 14
    text = summary_file.read_text()
    assert text.startswith("earlier step\n## monitor gate\n\n❌ 6 errors, 8 warnings in 16 new")
    assert (
        "| ❌ | README.md:7 | <https://github.com/old/name> | `renamed` | renamed: old/name is "
        "now new/name; link https://github.com/new/name |"
    ) in text.splitlines()
    assert "| ⚠️ | README.md:20 | <https://walled.example/> | `unverified` |" in text


def test_sarif_validates_against_the_sarif_2_1_0_schema(
    gate_env: dict[str, str], tmp_path: Path
) -> None:
    """The log validates against the published schema, one rule per admission rule."""
    if not SCHEMA.is_file():
        pytest.skip(
            f"the SARIF 2.1.0 schema is not at {SCHEMA}: .ci/run installs it with "
            "`npm install --prefix .ci/node @microsoft/sarif-multitool-linux`"
        )
    import jsonschema

    path = tmp_path / "gate.sarif"
    run("--sarif", str(path))
    log = json.loads(path.read_text())
    schema = json.loads(SCHEMA.read_text())
    validator = jsonschema.validators.validator_for(schema)(schema)
    errors = sorted(validator.iter_errors(log), key=str)
    assert not errors, errors[0].message
    run_ = log["runs"][0]
    assert [r["id"] for r in run_["tool"]["driver"]["rules"]] == [r.value for r in RULES]
    assert len(run_["results"]) == 14
    renamed = next(r for r in run_["results"] if r["ruleId"] == "renamed")
    assert renamed["level"] == "error"
    assert renamed["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "README.md", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 7},
    }


def test_sarif_passes_microsofts_validator_with_githubs_rules(
    gate_env: dict[str, str], tmp_path: Path
) -> None:
    """The SARIF Multitool's `validate` (SARIF and GitHub ingestion rules) finds nothing amiss."""
    tool = MULTITOOL / "Sarif.Multitool"
    if not tool.is_file():
        pytest.skip(f"the SARIF Multitool is not at {tool}: .ci/run installs it from npm")
    path = tmp_path / "gate.sarif"
    run("--sarif", str(path))
    out = tmp_path / "validation.sarif"
    done = subprocess.run(
        [
            str(tool),
            "validate",
            str(path),
            "--output",
            str(out),
            "--rule-kind",
            "Sarif;Gh",
            "--log",
            "ForceOverwrite",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={"DOTNET_SYSTEM_GLOBALIZATION_INVARIANT": "1", "PATH": "/usr/bin:/bin"},
    )
    report = json.loads(out.read_text())
    said = {(r.get("level", "warning"), r["ruleId"]) for r in report["runs"][0]["results"]}
    # Only advice remains: SARIF2005 asks for an informationUri, a web page monitor lacks.
    assert said <= {("warning", "SARIF2005")}, report["runs"][0]["results"]
    assert done.returncode == 0, done.stdout + done.stderr


def test_fingerprints_stay_when_lines_move(gate_env: dict[str, str], repository: Path) -> None:
    """Lines inserted above a finding move it, but its fingerprint stays the same."""
    first = tmp_sarif(repository, "first.sarif")
    readme = repository / "README.md"
    readme.write_text(readme.read_text().replace("# Awesome LLM\n", "# Awesome LLM\n\nIntro.\n"))
    second = tmp_sarif(repository, "second.sarif")

    def prints(log: dict[str, Any]) -> dict[str, int]:
        return {
            r["partialFingerprints"]["monitorLink/v1"]: r["locations"][0]["physicalLocation"][
                "region"
            ]["startLine"]
            for r in log["runs"][0]["results"]
        }

    before, after = prints(first), prints(second)
    assert set(before) == set(after) and len(before) == 14
    assert all(after[k] == before[k] + 2 for k in before)


def tmp_sarif(repository: Path, name: str) -> dict[str, Any]:
    path = repository.parent / name
    run("--sarif", str(path))
    return dict(json.loads(path.read_text()))


# --- budgets -----------------------------------------------------------------------------------


def test_five_hundred_new_links_stay_within_every_budget(
    emulator: Emulator, world: World, repository: Path, gate_env: dict[str, str]
) -> None:
    """500 added links of every kind: GraphQL batches, not a request per repository."""
    links = []
    for i in range(300):
        world.add_repo(f"bulk{i % 30}/repo-{i}", last_commit="2026-10-01T00:00:00Z")
        links.append(f"- [Repo {i}](https://github.com/bulk{i % 30}/repo-{i})")
    for i in range(100):
        world.add_hf_repo(f"hub{i % 10}/model-{i}", last_modified="2026-10-01T00:00:00Z")
        links.append(f"- [Model {i}](https://huggingface.co/hub{i % 10}/model-{i})")
    for i in range(50):
        world.add_paper(f"2302.{i:05d}", f"Paper {i}", ["2023-02-01T00:00:00Z"])
        links.append(f"- [Paper {i}](https://arxiv.org/abs/2302.{i:05d})")
    for i in range(50):
        world.set_page(f"https://site{i % 5}.example/page-{i}", "ok")
        links.append(f"- [Page {i}](https://site{i % 5}.example/page-{i})")
    (repository / "README.md").write_text(BASE_README + "\n".join(links) + "\n")
    git(repository, "commit", "-q", "-am", "500 links")
    world.reset_log()
    result = run()
    assert result.exit_code == 0, result.output
    assert "no problem in 500 new links" in result.output
    by_service = {name: len(world.requests(name)) for name in ("github", "hf", "arxiv", "web")}
    print("requests for 500 added links:", by_service, result.output.splitlines()[-1])
    assert by_service["github"] <= 4, by_service  # 300 repositories: GraphQL batches of 100
    assert by_service["hf"] <= 10, by_service  # 100 models of 10 owners: one listing per owner
    assert by_service["arxiv"] == 1, by_service  # 50 papers in one id_list query
    assert by_service["web"] <= 50, by_service  # one request per page, none repeated


# --- the pure parts ----------------------------------------------------------------------------


def test_added_lines_reads_unified_zero_hunks() -> None:
    """`@@ -a,b +c,d @@` adds lines c..c+d-1; a count of 0 adds none; no count means 1."""
    diff = "@@ -3 +3 @@\n-a\n+b\n@@ -10,0 +11,2 @@\n+c\n+d\n@@ -20,4 +22,0 @@\n-e\n"
    assert added_lines(diff) == {3, 11, 12}


def added(url: str) -> Added:
    return Added(Link(url, "README.md", 5, ()), identify(url))


@pytest.mark.parametrize(
    ("url", "outcome", "facts", "error", "rule", "level"),
    [
        ("https://example.org/x", Outcome.NOT_FOUND, None, None, Rule.NOT_FOUND, Level.ERROR),
        ("https://github.com/a/b", Outcome.NOT_FOUND, None, None, Rule.DELETED, Level.ERROR),
        ("https://github.com/a/b", Outcome.BLOCKED, None, None, Rule.BLOCKED, Level.ERROR),
        ("https://example.org/x", Outcome.TRANSIENT, None, None, Rule.UNVERIFIED, Level.WARNING),
        ("https://example.org/x", Outcome.REFUSED, None, None, Rule.UNVERIFIED, Level.WARNING),
        ("https://example.org/x", Outcome.DEFERRED, None, None, Rule.UNVERIFIED, Level.WARNING),
        (
            "https://huggingface.co/a/b",
            Outcome.OK,
            Facts(name="a/b", license="NONE"),
            None,
            Rule.NO_LICENSE,
            Level.WARNING,
        ),
    ],
)
def test_judge_maps_each_answer_to_its_rule(
    url: str,
    outcome: Outcome,
    facts: Facts | None,
    error: str | None,
    rule: Rule,
    level: Level,
) -> None:
    """One answer, one rule, at its default level."""
    observation = Observation(identify(url).key, parse_now(), outcome, facts, error=error)
    (finding,) = judge(added(url), observation, Policy())
    assert (finding.rule, finding.level, finding.line) == (rule, level, 5)


def test_no_such_host_is_unverified_when_the_machine_is_offline() -> None:
    """An unknown host is an error, unless most hosts did not answer at all."""
    url = "https://typo.example/"
    observation = Observation(
        identify(url).key, parse_now(), Outcome.NOT_FOUND, error="unknown host typo.example"
    )
    (online,) = judge(added(url), observation, Policy())
    (offline,) = judge(added(url), observation, Policy(), offline=True)
    assert (online.rule, offline.rule) == (Rule.NOT_FOUND, Rule.UNVERIFIED)


def test_no_answer_before_the_deadline_is_unverified() -> None:
    """A service let go at its deadline leaves its links unverified, never broken."""
    (finding,) = judge(added("https://github.com/a/b"), None, Policy())
    assert finding.rule is Rule.UNVERIFIED and "deadline" in finding.message


def test_unverified_cannot_be_promoted() -> None:
    """Even named in `[gate] errors`, a link that could not be verified stays a warning."""
    url = "https://example.org/x"
    observation = Observation(identify(url).key, parse_now(), Outcome.TRANSIENT)
    (finding,) = judge(added(url), observation, Policy(), promoted=frozenset({"unverified"}))
    assert finding.level is Level.WARNING


def test_renderers_agree_on_an_empty_result() -> None:
    """No finding: no line, no annotation, an empty SARIF run, a ✅ summary."""
    change = Change(Base("a" * 40, "origin/main"), ("README.md",), ())
    result = GateResult(change)
    assert lines(result) == [] and workflow_commands(result) == []
    assert sarif(result, "1.0")["runs"][0]["results"] == []
    assert summary(result).startswith("## monitor gate\n\n✅ no problem in 0 new links")


def parse_now() -> Any:
    from monitor.settings_checks import parse_now as parse

    return parse(NOW)
