"""Worlds from scenario files and from the catalog; the control port; `monitor emulator serve`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from github import Auth, Github
from huggingface_hub import HfApi

from monitor.catalog.file import load_catalog
from monitor.catalog.kinds import identify
from monitor.cli import main
from monitor.emulator import Emulator, World
from monitor.emulator.scenario import ScenarioError, load_scenario, seed_world
from monitor.model import Entry, Kind
from monitor.probes.huggingface_paths import parse
from tests.conftest import ROOT

SCENARIO = """
latency_ms = 0
github_tokens = ["ghp_scenario"]

[[github.repo]]
name = "Significant-Gravitas/AutoGPT"
renamed_from = ["Significant-Gravitas/Auto-GPT"]
stars = 160000
license = "MIT"
last_commit = "2024-05-01T00:00:00Z"
issues = [{number = 1, state = "closed"}]

[[github.repo]]
name = "banana/empty"
last_commit = false
license = false

[[github.repo]]
name = "x/blocked"
status = "dmca"

[[github.owner]]
login = "karpathy"
type = "User"

[[hf.repo]]
id = "banana-dev/GPTrillion"
status = "deleted"

[[hf.repo]]
id = "google-bert/bert-base-uncased"
renamed_from = ["bert-base-uncased"]
likes = 2065

[[arxiv.paper]]
id = "2106.09685"
title = "LoRA"
versions = ["2021-06-17T17:37:18Z", "2021-10-16T16:27:40Z"]

[[web.page]]
url = "/flaky"
behaviour = ["ok", 503]
"""


def test_scenario_builds_the_world(tmp_path: Path) -> None:
    """Each section of a scenario file becomes the repos, models, papers and pages it describes."""
    path = tmp_path / "scenario.toml"
    path.write_text(SCENARIO)
    world = load_scenario(path)
    autogpt, moved = world.find_repo("Significant-Gravitas/Auto-GPT")
    assert moved and autogpt is not None and autogpt.full_name == "Significant-Gravitas/AutoGPT"
    assert autogpt.stars == 160000 and autogpt.issues[1].state == "closed"
    empty = world.repo("banana/empty")
    assert empty.commits == [] and empty.license is None
    assert world.repo("x/blocked").status == "dmca"
    assert world.find_owner("karpathy") is not None
    assert world.hf_repo("banana-dev/GPTrillion").status == "deleted"
    assert world.find_hf_repo("bert-base-uncased", "model")[1] == "google-bert/bert-base-uncased"
    assert len(world.papers["2106.09685"].versions) == 2
    assert world.page("/flaky").behaviour == ["ok", 503]
    assert world.github_tokens == {"ghp_scenario"}


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (None, "no such scenario"),
        ("[[github.repo]\n", "not a valid TOML"),
        ("[[github.repo]]\nstars = 3\n", "invalid scenario"),
    ],
)
def test_bad_scenarios(tmp_path: Path, content: str | None, words: str) -> None:
    """A missing, unparseable or incomplete scenario is a ScenarioError naming the file."""
    path = tmp_path / "s.toml"
    if content is not None:
        path.write_text(content)
    with pytest.raises(ScenarioError, match=words):
        load_scenario(path)


def test_seeded_world_serves_the_whole_catalog() -> None:
    """Seeded from sources.toml, every entry answers through the real clients, healthy."""
    catalog = load_catalog(ROOT / "sources.toml")
    seeded = seed_world(catalog.entries, datetime(2026, 11, 21, tzinfo=UTC))
    assert seeded.skipped == [
        (
            "https://github.com/OpenLM%20Lab/MOSS",
            "'OpenLM Lab' cannot be a GitHub user or organisation name",
        )
    ]
    with Emulator(seeded.world) as emulator:
        gh = Github(
            base_url=emulator.github_url,
            auth=Auth.Token("ghp_t"),
            retry=None,
            seconds_between_requests=None,
        )
        api = HfApi(endpoint=emulator.hf_url)
        papers: list[str] = []
        for entry in catalog.entries:
            if (entry.url, entry.kind) == (
                "https://github.com/OpenLM%20Lab/MOSS",
                Kind.GITHUB_REPO,
            ):
                continue
            parts = entry.url.split("/")
            if entry.kind in (Kind.GITHUB_REPO, Kind.GITHUB_PATH, Kind.GITHUB_ISSUE):
                repo = gh.get_repo(f"{parts[3]}/{parts[4]}")
                assert repo.get_commits().get_page(0)
                if entry.kind is Kind.GITHUB_PATH:
                    ref, path = parts[6], "/".join(parts[7:])
                    assert repo.get_contents(path, ref=ref) if path else True
                if entry.kind is Kind.GITHUB_ISSUE:
                    assert repo.get_issue(int(parts[6])).state == "open"
            elif entry.kind is Kind.GITHUB_OWNER:
                assert gh.get_user(parts[3]).login == parts[3]
            elif entry.kind is Kind.HF_MODEL:
                assert api.model_info("/".join(parts[3:5])).likes is not None
            elif entry.kind is Kind.HF_DATASET:
                assert api.dataset_info("/".join(parts[4:6])).id
            elif entry.kind is Kind.HF_SPACE:
                assert api.space_info("/".join(parts[4:6])).id
            elif entry.kind is Kind.HF_OWNER:
                owner = seeded.world.hf_owners[parts[3].lower()]
                overview = (
                    api.get_organization_overview if owner.type == "org" else api.get_user_overview
                )
                assert overview(parts[3])
            elif entry.kind is Kind.HF_PATH:
                assert _path_exists(api, entry.url), entry.url
            elif entry.kind is Kind.ARXIV:
                papers.append(entry.url.rsplit("/", 1)[-1])
            else:
                url = httpx.URL(entry.url)
                page = httpx.get(
                    emulator.page_url(url.raw_path.decode()), headers={"Host": url.netloc.decode()}
                )
                assert page.status_code == 200, entry.url
        answer = httpx.get(
            emulator.arxiv_url, params={"id_list": ",".join(papers), "max_results": 1000}
        )
        root = ET.fromstring(answer.content)
        assert len(root.findall("{http://www.w3.org/2005/Atom}entry")) == len(papers)


def _path_exists(api: HfApi, url: str) -> bool:
    """Whether the file or folder an `hf_path` link names is there, as paths-info says."""
    where = parse(url)
    assert where is not None
    if not where.path:
        return bool(api.repo_info(where.repo_id, revision=where.revision, repo_type=where.type))
    found = api.get_paths_info(
        where.repo_id, [where.path], revision=where.revision, repo_type=where.type
    )
    return [f.path for f in found] == [where.path]


def test_seeded_world_has_the_files_and_folders_of_hf_paths() -> None:
    """Seeding hf_path entries creates their repository, revision, and file or folder."""
    urls = [
        "https://huggingface.co/org/model/blob/main/config.json",
        "https://huggingface.co/org/model/tree/v1.0/weights",
        "https://huggingface.co/datasets/org/set/resolve/main/data/train.parquet",
        "https://huggingface.co/spaces/org/demo/blob/main/app.py",
        "https://huggingface.co/gpt2/raw/main/LICENSE",
        "https://huggingface.co/org/model/tree/main",
    ]
    entries = []
    for url in urls:
        resource = identify(url)
        entries.append(Entry(resource.url, Kind.HF_PATH, resource.key))
    seeded = seed_world(entries, datetime(2026, 11, 21, tzinfo=UTC))
    assert seeded.skipped == [] and seeded.counts == {"hf_path": len(urls)}
    assert seeded.world.hf_repo("org/model").revisions == {"main", "v1.0"}
    with Emulator(seeded.world) as emulator:
        api = HfApi(endpoint=emulator.hf_url)
        for url in urls:
            assert _path_exists(api, url), url


def test_control_port(world: World, emulator: Emulator) -> None:
    """POST /call/<mutation> changes the world; GET /stats counts requests; bad calls say why."""
    world.add_repo("a/b")
    done = httpx.post(f"{emulator.control_url}/call/rename", json={"args": ["a/b", "c"]})
    assert done.status_code == 200
    assert (
        httpx.get(f"{emulator.github_url}/repos/a/b", headers={"User-Agent": "t"}).status_code
        == 301
    )
    stats = httpx.get(f"{emulator.control_url}/stats").json()
    assert stats["requests"]["github"] == 1 and stats["repos"] == 1
    assert httpx.post(f"{emulator.control_url}/call/stats").status_code == 404
    bad = httpx.post(f"{emulator.control_url}/call/star", json={"args": ["no/such", 1]})
    assert bad.status_code == 400 and "KeyError" in bad.json()["error"]


def test_serve_help_says_how_to_point_the_monitor() -> None:
    """`monitor emulator serve --help` names the MONITOR_* variables to set."""
    result = CliRunner().invoke(main, ["emulator", "serve", "--help"])
    for name in ("MONITOR_GITHUB_API_URL", "MONITOR_HF_ENDPOINT", "MONITOR_ARXIV_API_URL"):
        assert name in result.output


def test_serve_runs_until_sigterm(tmp_path: Path) -> None:
    """`monitor emulator serve --scenario F` prints its URLs, serves, and stops on SIGTERM."""
    path = tmp_path / "scenario.toml"
    path.write_text(SCENARIO)
    process = subprocess.Popen(
        [sys.executable, "-m", "monitor", "emulator", "serve", "--scenario", str(path)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stdout is not None
        lines = []
        for line in process.stdout:
            lines.append(line)
            if line.startswith("Serving"):
                break
        exports = dict(
            line.strip().removeprefix("export ").split("=", 1)
            for line in lines
            if line.strip().startswith("export ")
        )
        base = exports["MONITOR_GITHUB_API_URL"]
        answer = httpx.get(
            f"{base}/repos/Significant-Gravitas/AutoGPT",
            headers={"User-Agent": "t", "Authorization": "token ghp_scenario"},
        )
        assert answer.status_code == 200 and answer.json()["stargazers_count"] == 160000
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=10)
    finally:
        process.kill()
    assert process.returncode == 0, err
    assert "Stopped. Requests served: github 1." in out
