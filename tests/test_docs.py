"""The reference in docs/: MkDocs builds it in strict mode, the README stays a short way in."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import DOCS, ROOT, SHARED, docs_text

CONTRACT = SHARED / "CONTRACT.md"


def nav_pages() -> dict[str, str]:
    """mkdocs.yml's nav: each page's file in docs/ and its title."""
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
    return {page: title for entry in config["nav"] for title, page in entry.items()}


def written(site: Path, page: str) -> Path:
    """Where MkDocs writes a page (directory URLs: commands.md is commands/index.html)."""
    stem = page.removesuffix(".md")
    return site / ("index.html" if stem == "index" else f"{stem}/index.html")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site as `mkdocs build --strict` writes it, into a temporary folder."""
    folder = tmp_path_factory.mktemp("site")
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(folder)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return folder


def test_mkdocs_yml_builds_strictly_with_a_builtin_theme() -> None:
    """mkdocs.yml asks for strict mode, docs/ and a theme that ships with MkDocs."""
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
    assert config["strict"] is True and config["docs_dir"] == "docs"
    assert config["site_name"] == "monitor"
    assert config["theme"]["name"] in {"mkdocs", "readthedocs"}


def test_the_nav_lists_every_page() -> None:
    """Every page of docs/ is in the nav, and every page in the nav is in docs/."""
    assert set(nav_pages()) == {path.name for path in DOCS.glob("*.md")}


def test_the_site_builds_in_strict_mode(site: Path) -> None:
    """`mkdocs build --strict` succeeds and writes every page of the nav, titled as the nav says."""
    for page, title in nav_pages().items():
        html = written(site, page)
        assert html.is_file(), page
        heading = "monitor" if page == "index.md" else f"{title} - monitor"  # home: the site's name
        assert f"<title>{heading}</title>" in html.read_text(), page


def test_links_to_the_repositorys_files_work_in_the_site(site: Path) -> None:
    """A page's link to a file outside docs/ (../Dockerfile) finds that file in the site."""
    deployment = written(site, "deployment.md").read_text()
    for target in ("Dockerfile", "deploy/monitor.cron", "action.yml"):
        assert f'href="../{target}"' in deployment, target
        assert (site / target).read_bytes() == (ROOT / target).read_bytes(), target


def test_readme_is_short() -> None:
    """README.md keeps to the pitch, the two commands, the demo and a tour: 250 lines at most."""
    lines = (ROOT / "README.md").read_text().splitlines()
    assert len(lines) <= 250, len(lines)


def test_the_readme_tour_links_every_page() -> None:
    """The README links each page of the reference, and every docs/ link of it exists."""
    readme = (ROOT / "README.md").read_text()
    links = set(re.findall(r"\]\((docs/[^)#\s]+)", readme))
    assert {f"docs/{page}" for page in nav_pages()} <= links
    assert [link for link in links if not (ROOT / link).is_file()] == []


def test_files_every_run_leaves_are_documented() -> None:
    """docs/files.md tells what the four files beside the reports hold and how to use them."""
    page = (DOCS / "files.md").read_text()
    for text in (
        "`feed.atom`",
        "Atom 1.0",
        "last 30 days",
        "`badge.json`",
        "`schemaVersion`",
        "`219/223 ok`",
        "https://img.shields.io/endpoint?url=",
        "`monitor.prom`",
        "node_exporter",
        "`index.html`",
        "opened from disk",
    ):
        assert text in page, text


def contract_words(contract: str) -> set[str]:
    """What the contract names in code: commands, variables, events, kinds, settings, files."""
    spans = re.findall(r"`([^`\n]+)`", contract)
    words: set[str] = set()
    for span in spans:
        if span.startswith("monitor "):  # the command, without its arguments
            words.add(" ".join(re.findall(r"(?<!\S)[a-z]+(?!\S)", span.split(" -")[0])[:3]))
        words.update(re.findall(r"\b(?:MONITOR|GITHUB|HF)_[A-Z_]+\b", span))
        words.update(re.findall(r"\b[a-z]+(?:_[a-z]+)+\b", span))
        words.update(re.findall(r"^([a-z_]+) = ", span))  # a source's field: `ignore = true`
        words.update(re.findall(r"^\[[a-z]+\] [a-z_]+", span))  # a table's key: `[gate] errors`
    for row in re.findall(r"^\| `.*", contract, re.MULTILINE):  # the events' table
        words.update(re.findall(r"`([a-z]+)`", row.split(" | ")[0]))
    words.update(re.findall(r"\*\*`([a-z_]+)`\*\*", contract))  # events added in bold
    words.update(re.findall(r"`([a-z]+\.(?:atom|json|prom|html))`", contract))  # files
    return words


def test_the_contract_is_documented() -> None:
    """Every command, variable, event, setting, file and exit status of the contract is in docs."""
    if not CONTRACT.is_file():
        pytest.skip(f"{CONTRACT} is absent")
    words = contract_words(CONTRACT.read_text())
    assert {"monitor gate", "MONITOR_GITHUB_REPO", "unverifiable", "unarchived"} <= words
    assert {"service_deadline_seconds", "badge.json", "monitor catalog import"} <= words
    assert {"ignore", "accept", "[catalog] exclude", "[probes] service_deadline_seconds"} <= words
    text = " ".join(docs_text().split())  # a name may be wrapped across two lines
    missing = [w for w in words if not re.search(rf"(?<![\w-]){re.escape(w)}(?![\w-])", text)]
    assert sorted(missing) == []
    exits = (DOCS / "commands.md").read_text()
    assert all(f"\n| {status} | " in exits for status in range(5))
