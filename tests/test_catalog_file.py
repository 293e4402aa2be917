"""Reading and validating sources.toml: every problem at once, each on its line."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from monitor.catalog.file import index_lines, load_catalog, parse_catalog, write_atomically
from monitor.errors import CatalogError
from monitor.model import Kind
from tests.conftest import DATA


def problems_of(text: str, tmp_path: Path) -> list[tuple[int | None, str]]:
    path = tmp_path / "sources.toml"
    path.write_text(text)
    with pytest.raises(CatalogError) as caught:
        load_catalog(path)
    return [(p.line, p.message) for p in caught.value.problems]


def test_five_mistakes_reported_at_once_with_lines() -> None:
    """A catalog with six different mistakes gets all six reported, each with its line."""
    with pytest.raises(CatalogError) as caught:
        load_catalog(DATA / "five-mistakes.toml")
    assert [p.line for p in caught.value.problems] == [5, 7, 11, 15, 17, 22]
    messages = [p.message for p in caught.value.problems]
    assert "unknown key 'nmae'" in messages[0]
    assert caught.value.problems[0].hint == "did you mean 'name'?"
    assert "has no url" in messages[1]
    assert "unparseable url" in messages[2]
    assert "unknown kind 'hf_modle'" in messages[3]
    assert caught.value.problems[3].hint == "did you mean 'hf_model'?"
    assert "duplicate entry" in messages[4] and "line 3" in messages[4]
    assert "TOML syntax error" in messages[5]


def test_syntax_errors_are_all_found(tmp_path: Path) -> None:
    """Two syntax errors in different entries are both reported, not just the first."""
    text = '[[source]]\nurl = https://a.org\n\n[[source]]\nurl = "https://b.org"\nname = "x\n'
    lines = [line for line, message in problems_of(text, tmp_path) if "syntax" in message]
    assert lines == [2, 6]


def test_valid_catalog_loads(tmp_path: Path) -> None:
    """A valid catalog gives entries with inferred kinds, keys and lines."""
    path = tmp_path / "sources.toml"
    path.write_text(
        '# comment\n[settings]\nreports_dir = "out"\n\n[[source]]\n'
        'url = "https://github.com/a/b"\ntags = ["x"]\n\n[[source]]\nurl = "https://x.org/p"\n'
        'kind = "web"\nseen = [\n  {document = "d.md", line = 3, section = "S", text = "T"},\n]\n'
    )
    catalog = load_catalog(path)
    assert [(e.kind, e.line) for e in catalog.entries] == [(Kind.GITHUB_REPO, 5), (Kind.WEB, 9)]
    assert catalog.entries[0].tags == ("x",)
    assert catalog.entries[1].seen[0].text == "T"
    assert catalog.tables["settings"] == {"reports_dir": "out"}
    assert catalog.line_of("settings", "reports_dir") == 3


def test_single_name_hub_url_may_be_a_model(tmp_path: Path) -> None:
    """huggingface.co/<name> may be declared an hf_model (the Hub's old un-namespaced models)."""
    path = tmp_path / "s.toml"
    path.write_text('[[source]]\nurl = "https://huggingface.co/gpt2"\nkind = "hf_model"\n')
    assert load_catalog(path).entries[0].kind is Kind.HF_MODEL


def test_kind_must_fit_the_url(tmp_path: Path) -> None:
    """A kind that contradicts the URL is refused, except 'web', which fits anything."""
    base = '[[source]]\nurl = "https://github.com/a/b"\nkind = "{}"\n'
    assert "does not fit" in problems_of(base.format("hf_model"), tmp_path)[0][1]
    path = tmp_path / "ok.toml"
    path.write_text(base.format("web"))
    assert load_catalog(path).entries[0].kind is Kind.WEB


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("[setting]\nx = 1\n", 1, "unknown key 'setting' at the top level"),
        ('[settings]\nreports_dri = "x"\n', 2, "unknown key 'reports_dri' in [settings]"),
        ('[settings]\ngithub_token = "ghp_x"\n', 2, "github_token is not allowed here"),
        ("[policy]\ndead_after_checks = 0\n", 2, "dead_after_checks = 0 must be"),
        ('[schedule]\ncheck = "every day"\n', 2, "neither a five-field cron"),
        ('[schedule]\ndigest = "someday 8"\n', 2, "weekday and a time"),
        ('[schedule]\ntimezone = "Mars/Olympus"\n', 2, "IANA time zone"),
        ("[alerts]\nurls = 5\n", 2, "list of Apprise URL strings"),
        ('[settings]\ngithub_api_url = "ftp://x"\n', 2, "not an http(s) URL"),
        ("source = 3\n", 1, "must be an array of tables"),
        ('[[source]]\nurl = "https://a.org"\ntags = "x"\n', 3, "tags must be a list of strings"),
        ('[[source]]\nurl = "https://a.org"\nseen = [1]\n', 3, "seen must be a list"),
    ],
)
def test_table_problems_have_lines(tmp_path: Path, text: str, line: int, words: str) -> None:
    """Mistakes in [settings], [policy], [schedule], [alerts] and entries point at their line."""
    found = problems_of(text, tmp_path)
    assert any(ln == line and words in m for ln, m in found), found


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (None, "no such catalog file"),
        (b"\x00\x01garbage", "binary"),
        (b"\xff\xfe\xfa", "not UTF-8"),
    ],
)
def test_unreadable_catalog(tmp_path: Path, content: bytes | None, words: str) -> None:
    """A missing, binary or non-UTF-8 catalog is a CatalogError with a fix, never a traceback."""
    path = tmp_path / "sources.toml"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(CatalogError, match=words):
        load_catalog(path)


def test_index_lines_skips_multiline_arrays() -> None:
    """Keys inside a multi-line `seen` array are not mistaken for entry keys."""
    text = (
        '[[source]]\nurl = "u"\nseen = [\n  {document = "a", line = 1},\n  {name = "[x]"},\n]\n'
        'name = "n"\n[[source]]\nurl = "v"\n'
    )
    index = index_lines(text)
    assert index.entry_lines == (1, 8)
    assert index.entry_keys(0) == {"url": 2, "seen": 3, "name": 7}
    assert index.entry_keys(1) == {"url": 9}
    assert index.entry(0, "name") == 7 and index.entry(1, "name") == 8


def test_empty_catalog_is_valid(tmp_path: Path) -> None:
    """An empty file is a catalog with no entries."""
    assert parse_catalog("", tmp_path / "s.toml").entries == ()


def test_write_atomically_keeps_old_file_on_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If the final rename fails, the old file is untouched and no temp file is left behind."""
    path = tmp_path / "sources.toml"
    path.write_text("old")
    write_atomically(path, "new")
    assert path.read_text() == "new"

    def broken_replace(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        write_atomically(path, "newer")
    assert path.read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["sources.toml"]
