"""Links out of documents: every form a curated list uses, and reading files safely."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from monitor.catalog.extract import (
    HTML_SUFFIXES,
    MARKDOWN_SUFFIXES,
    Extraction,
    extract_links,
    read_document,
)
from monitor.errors import DocumentError
from tests.conftest import DATA

DOCS = DATA / "documents"


EXPECTATIONS = sorted(DOCS.glob("*.expected.toml"))


def extract_as_expected(expected: dict[str, Any]) -> Extraction:
    """Extract the expectation's `document` the way `monitor catalog import` reads its kind."""
    name = expected["document"]
    suffix = Path(name).suffix.lower()
    return extract_links(
        (DOCS / name).read_text(),
        name,
        markdown=suffix in MARKDOWN_SUFFIXES,
        html=suffix in HTML_SUFFIXES,
        include_code=expected.get("include_code", False),
    )


@pytest.mark.parametrize("path", EXPECTATIONS, ids=[p.name for p in EXPECTATIONS])
def test_extract_matches_expectation(path: Path) -> None:
    """Each sample's links come with line, text, source, row and headings; malformed listed."""
    expected: dict[str, Any] = tomllib.loads(path.read_text())
    found = extract_as_expected(expected)
    assert found.title == expected["title"]
    assert found.skipped_in_code == expected["skipped_in_code"]
    got = [
        {
            "line": link.line,
            "url": link.url,
            "text": link.text,
            "text_from": link.text_from.value,
            **({"row": link.row} if link.row else {}),
            "headings": list(link.headings),
            **({"warned": True} if link.warnings else {}),
        }
        for link in found.links
    ]
    assert got == expected.get("link", [])
    malformed = [{"line": m.line, "written": m.written} for m in found.malformed]
    assert malformed == expected.get("malformed", [])


def test_every_document_has_an_expectation() -> None:
    """No sample document is left without its expected links."""
    documents = {p.name for p in DOCS.iterdir() if ".expected." not in p.name}
    expected = {tomllib.loads(p.read_text())["document"] for p in EXPECTATIONS}
    assert documents == expected


def test_code_links_are_taken_when_asked() -> None:
    """--include-code takes links from code, turning git@host:owner/repo into an https URL."""
    found = extract_links((DOCS / "messy.md").read_text(), "messy.md", include_code=True)
    urls = [link.url for link in found.links]
    assert "https://github.com/THUDM/ChatGLM-6B" in urls
    assert "https://github.com/lm-sys/FastChat" in urls
    assert "https://example.org/in-code" in urls
    assert found.skipped_in_code == 0


def test_indented_text_is_code_in_markdown_but_prose_in_text() -> None:
    """An indented line is a code block in a .md document and prose in a plain-text one."""
    text = "Intro\n\n        see https://github.com/a/b\n"
    assert [link.url for link in extract_links(text, "x.txt", markdown=False).links] == [
        "https://github.com/a/b"
    ]
    assert extract_links(text, "x.md", markdown=True).links == []


def test_progress_is_reported_to_the_end() -> None:
    """The progress callback ends at done == total."""
    calls: list[tuple[int, int]] = []
    extract_links((DOCS / "messy.md").read_text(), "m", progress=lambda d, t: calls.append((d, t)))
    assert calls and calls[-1][0] == calls[-1][1] > 0


def test_ten_thousand_links() -> None:
    """A document with 10,000 links yields all 10,000, each on its own line."""
    text = "\n".join(f"- [repo {i}](https://github.com/owner{i}/repo{i})" for i in range(10_000))
    found = extract_links(text, "big.md")
    assert len(found.links) == 10_000
    assert found.links[-1].line == 10_000 and found.links[-1].text == "repo 9999"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty"),
        (b"  \n\n ", "is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
        (b"caf\xe9 au lait https://x.org", "not UTF-8"),
    ],
)
def test_unreadable_documents(tmp_path: Path, content: bytes, message: str) -> None:
    """Empty, binary and non-UTF-8 files raise DocumentError naming the file and the fix."""
    path = tmp_path / "doc.md"
    path.write_bytes(content)
    with pytest.raises(DocumentError) as caught:
        read_document(path)
    assert message in str(caught.value) and str(path) in str(caught.value)


def test_missing_and_oversized_documents(tmp_path: Path) -> None:
    """A missing file and one over the size limit are refused with a hint."""
    with pytest.raises(DocumentError, match="no such file"):
        read_document(tmp_path / "nope.md")
    big = tmp_path / "big.md"
    big.write_bytes(b"x" * 2048)
    with pytest.raises(DocumentError, match="--max-size"):
        read_document(big, max_bytes=1024)


def test_bom_and_utf16_are_read(tmp_path: Path) -> None:
    """A UTF-8 BOM is dropped and UTF-16 with a BOM is decoded."""
    (tmp_path / "a.md").write_bytes("\ufeffhttps://x.org".encode())
    (tmp_path / "b.md").write_bytes("https://y.org".encode("utf-16"))
    assert read_document(tmp_path / "a.md") == "https://x.org"
    assert read_document(tmp_path / "b.md") == "https://y.org"
