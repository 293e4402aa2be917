"""Merging links into the catalog: one entry per resource, user edits kept, idempotent."""

from __future__ import annotations

import tomllib
from collections import Counter
from pathlib import Path

import pytest

from monitor.catalog.extract import extract_links
from monitor.catalog.importer import import_documents, plan_import
from monitor.catalog.naming import clean_name, is_generic
from monitor.errors import CatalogError
from tests.conftest import DATA

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
    """Glued URLs and spaces are flagged; one URL linked under two texts is not."""
    # Before, line 7 was flagged as "linked as 'BayLing', but …": on real lists such
    # warnings were all false, since long lists link one URL under several texts.
    doc = """# X

## One
[openchat](https://github.com/imoneoi/openchat)

## Two
[BayLing](https://github.com/imoneoi/openchat)
Glued https://github.com/a/bhttps://github.com/c/d and <https://github.com/Open Lab/MOSS>
"""
    _, report = run(None, ("x.md", doc))
    reasons = {(s.line, s.reasons[0].split(" ")[0]) for s in report.suspicious}  # type: ignore[attr-defined]
    assert reasons == {(8, "2"), (8, "the")}


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
        ("🤗HF", True),
        ("🤗", True),
        ("[🤖ModelScope]", True),
        ("配套代码", True),
        ("Checkpoint", True),
        ("[Paper]", True),
        ("2024", True),
        ("Custom", False),
        ("llama.cpp", False),
        ("#73", True),
        ("[2]", True),
        ("v1.0", False),
        ("GPT-4", False),
    ],
)
def test_generic_texts(text: str, generic: bool) -> None:
    """Words that only say where a link goes, URLs and bare dates do not name a resource."""
    assert is_generic(text) is generic


@pytest.mark.parametrize(
    ("text", "learned", "generic"),
    [
        ("Custom", {"custom"}, True),
        ("[Custom]", {"custom"}, True),
        ("🔗 custom", {"custom"}, True),
        ("Customer", {"custom"}, False),
        ("Custom", set(), False),
    ],
)
def test_learned_generic_texts(text: str, learned: set[str], generic: bool) -> None:
    """A text the document uses as a label (learn_generic) names nothing, however written."""
    assert is_generic(text, learned) is generic


@pytest.mark.parametrize(
    ("raw", "name"),
    [
        ("5.34、OpenChat（更新于2023年7月3日）", "OpenChat"),
        ("四、ChatGPT开源平替", "ChatGPT开源平替"),
        ("2.3.1 LLaMA", "LLaMA"),
        ("MOSS （更新于2023年4月21日）", "MOSS"),
        ("T5", "T5"),
        ("2023-04-02 更新", "2023-04-02 更新"),
        ("Open weights in 2024", "Open weights in 2024"),
        ("WMT 2023", "WMT 2023"),
        ("Koala (2023)", "Koala"),
        ("Koala updated 2023-05-01", "Koala"),
        ("Koala 2023-05", "Koala"),
    ],
)
def test_clean_name(raw: str, name: str) -> None:
    """Outline numbers and update dates are dropped from names; a name that is only a date stays."""
    assert clean_name(raw) == name


# --- whole documents in, catalog entries out: table-driven from data/imports -------------------

IMPORTS = DATA / "imports"
IMPORT_CASES = sorted(IMPORTS.glob("*.expected.toml"))


@pytest.mark.parametrize("path", IMPORT_CASES, ids=[p.name for p in IMPORT_CASES])
def test_import_case(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each sample gives the expected entries, kinds, link count, suspicions and catalog."""
    expected = tomllib.loads(path.read_text())
    monkeypatch.chdir(IMPORTS)
    # A dry run "into" a catalog beside the documents, which names them as they are written.
    report = import_documents(
        [Path(name) for name in expected["documents"]],
        IMPORTS / "sources.toml",
        dry_run=True,
        record=False,
    )
    assert not (IMPORTS / "sources.toml").exists()
    assert report.links == expected["links"]
    found = [{"url": e["url"], "kind": e["kind"], "name": e["name"]} for e in entries(report.text)]
    if "entry" in expected:
        assert found == expected["entry"]
    if "kinds" in expected:
        assert dict(Counter(e["kind"] for e in found)) == expected["kinds"]
    assert report.skipped_in_code == expected.get("skipped_in_code", 0)
    suspicious = [(s.document, s.line, s.url) for s in report.suspicious]
    wanted = expected.get("suspicious", [])
    assert suspicious == [(s["document"], s["line"], s["url"]) for s in wanted]
    for item, want in zip(report.suspicious, wanted, strict=True):
        assert want["reason"] in " ".join(item.reasons), item.reasons
    if "catalog" in expected:
        assert report.text == (IMPORTS / expected["catalog"]).read_text()


def test_html_documents_are_read_as_html(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A .html document is read as HTML (no links from text); --include-code reaches <pre>."""
    monkeypatch.chdir(DATA / "documents")
    target = tmp_path / "sources.toml"
    plain = import_documents([Path("page.html")], target, dry_run=True)
    code = import_documents([Path("page.html")], target, include_code=True, dry_run=True)
    assert (plain.skipped_in_code, code.skipped_in_code) == (1, 0)
    assert "https://wheels.example.org/koala.whl" not in plain.text
    assert "https://wheels.example.org/koala.whl" in code.text
    assert "text-only.example.org" not in code.text and "cdn.example.org" not in code.text
