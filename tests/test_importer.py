"""Merging links into the catalog: one entry per resource, user edits kept, idempotent."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from monitor.catalog.extract import extract_links
from monitor.catalog.importer import clean_name, is_generic, plan_import
from monitor.errors import CatalogError

A = """# List A

## Models

- [Alpaca](https://github.com/tatsu-lab/stanford_alpaca)
- [Alpaca again](http://www.github.com/Tatsu-Lab/stanford_alpaca/#readme)
- [LoRA paper](https://arxiv.org/pdf/2106.09685.pdf) and [abs](https://arxiv.org/abs/2106.09685)
"""
B = """# List B

## Papers

- [LoRA: Low-Rank Adaptation](https://arxiv.org/abs/2106.09685)
- [GPTrillion](https://huggingface.co/banana-dev/GPTrillion)
"""


def run(existing: str | None, *docs: tuple[str, str]) -> tuple[str, object]:
    extractions = [extract_links(text, name) for name, text in docs]
    report = plan_import(extractions, existing, Path("sources.toml"))
    return report.text, report


def entries(text: str) -> list[dict[str, object]]:
    return list(tomllib.loads(text)["source"])


def test_one_entry_per_resource_with_every_place() -> None:
    """Spellings of one repo and /abs/ + /pdf/ of one paper merge, keeping every occurrence."""
    text, _ = run(None, ("a.md", A))
    found = entries(text)
    assert [e["url"] for e in found] == [
        "https://github.com/tatsu-lab/stanford_alpaca",
        "https://arxiv.org/abs/2106.09685",
    ]
    assert found[0]["name"] == "Alpaca" and found[0]["kind"] == "github_repo"
    assert found[0]["section"] == "Models"
    assert [s["text"] for s in found[0]["seen"]] == ["Alpaca", "Alpaca again"]  # type: ignore[attr-defined]
    assert len(found[1]["seen"]) == 2  # type: ignore[arg-type]


def test_reimport_changes_nothing() -> None:
    """Importing the same documents again gives byte-identical output and reports no change."""
    first, _ = run(None, ("a.md", A), ("b.md", B))
    second, report = run(first, ("a.md", A), ("b.md", B))
    assert second == first
    assert not report.changed and report.unchanged == 3  # type: ignore[attr-defined]


def test_importing_more_adds_and_equals_importing_together() -> None:
    """Importing A then B gives the same catalog as importing A and B at once."""
    together, _ = run(None, ("a.md", A), ("b.md", B))
    step, _ = run(None, ("a.md", A))
    step, report = run(step, ("b.md", B))
    assert step == together
    assert len(report.added) == 1 and report.updated == 1  # type: ignore[attr-defined]


def test_user_edits_survive() -> None:
    """Names, tags, kinds, sections and comments a user edited are kept on re-import."""
    text, _ = run(None, ("a.md", A))
    edited = text.replace('name = "Alpaca"', 'name = "My Alpaca"\ntags = ["mine"]  # keep me')
    edited = edited.replace('kind = "arxiv"', 'kind = "web"')
    edited = "# my header comment\n" + edited
    again, _ = run(edited, ("a.md", A), ("b.md", B))
    assert again.startswith("# my header comment\n")
    assert '"My Alpaca"' in again and 'tags = ["mine"]  # keep me' in again
    paper = entries(again)[1]
    assert paper["kind"] == "web" and len(paper["seen"]) == 3  # type: ignore[arg-type]


def test_reimport_replaces_only_that_documents_records() -> None:
    """Re-importing a changed document rewrites its `seen` records and leaves the others."""
    text, _ = run(None, ("a.md", A), ("b.md", B))
    changed_a = A.replace("- [Alpaca again]", "\n- [Alpaca again]")
    again, report = run(text, ("a.md", changed_a))
    paper_lines = [s["line"] for s in entries(again)[0]["seen"]]  # type: ignore[attr-defined]
    assert paper_lines == [5, 7]
    assert report.updated == 2 and entries(again)[1]["seen"][-1]["document"] == "b.md"  # type: ignore[index]


def test_refuses_to_merge_into_an_invalid_catalog() -> None:
    """An import never rewrites a catalog it cannot fully validate."""
    with pytest.raises(CatalogError):
        run('[[source]]\nurl = "nope"\n', ("a.md", A))


def test_suspicious_links_are_reported() -> None:
    """Glued URLs, spaces and a URL named unlike itself in one document are flagged."""
    doc = """# X

## One
[openchat](https://github.com/imoneoi/openchat)

## Two
[BayLing](https://github.com/imoneoi/openchat)
Glued https://github.com/a/bhttps://github.com/c/d and <https://github.com/Open Lab/MOSS>
"""
    _, report = run(None, ("x.md", doc))
    reasons = {(s.line, s.reasons[0].split(" ")[0]) for s in report.suspicious}  # type: ignore[attr-defined]
    assert reasons == {(7, "linked"), (8, "2"), (8, "the")}


@pytest.mark.parametrize(
    ("text", "generic"),
    [
        ("github", True),
        ("GitHub", True),
        ("地址", True),
        ("https://x.org/a", True),
        ("blog.lucien.ink/archives/538", True),
        ("更新于2023年7月3日", True),
        ("2023-04-02", True),
        ("alpaca_data.json", False),
        ("llama2.c", False),
        ("Stanford Alpaca", False),
        ("白泽", False),
    ],
)
def test_generic_texts(text: str, generic: bool) -> None:
    """Words that only say where a link goes, URLs and bare dates do not name a resource."""
    assert is_generic(text) is generic


@pytest.mark.parametrize(
    ("raw", "name"),
    [
        ("5.34、OpenChat（更新于2023年7月3日）", "OpenChat"),
        ("四、ChatGPT开源平替", "ChatGPT开源平替"),
        ("2.3.1 LLaMA", "LLaMA"),
        ("MOSS （更新于2023年4月21日）", "MOSS"),
        ("T5", "T5"),
        ("2023-04-02 更新", "2023-04-02 更新"),
    ],
)
def test_clean_name(raw: str, name: str) -> None:
    """Outline numbers and update dates are dropped from names; a name that is only a date stays."""
    assert clean_name(raw) == name
