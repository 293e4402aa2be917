"""Where URLs written in prose begin and end, table-driven from data/clean.toml."""

from __future__ import annotations

import tomllib
from typing import Any

import pytest

from monitor.catalog.clean import clean, recover
from tests.conftest import DATA

CASES: list[dict[str, Any]] = tomllib.loads((DATA / "clean.toml").read_text())["case"]


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_clean(case: dict[str, Any]) -> None:
    """A run of text yields exactly the URLs it holds, warned about when a human should look."""
    mode = case.get("mode", "bare")
    if mode == "recover":
        found = recover(case["raw"])
    else:
        found = clean(case["raw"], delimited=mode == "delimited")
    assert [c.url for c in found] == case["urls"]
    assert any(c.warnings for c in found) == case.get("warned", False)


def test_cases_have_distinct_names() -> None:
    """Every case in the table is named, once."""
    names = [c["name"] for c in CASES]
    assert len(names) == len(set(names))


def test_every_recovered_url_is_warned_about() -> None:
    """A recovered destination always says what was written, so the document gets fixed."""
    for case in CASES:
        if case.get("mode") == "recover":
            for found in recover(case["raw"]):
                assert case["raw"].strip() in found.warnings[0]


def test_glued_warning_names_every_piece_once() -> None:
    """A glued run warns once, on its first URL, naming each URL it was split into."""
    found = clean("https://a.org/xhttps://b.org/yhttps://c.org/z")
    assert [c.url for c in found] == ["https://a.org/x", "https://b.org/y", "https://c.org/z"]
    assert len(found[0].warnings) == 1 and not found[1].warnings and not found[2].warnings
    assert all(url in found[0].warnings[0] for url in ("https://b.org/y", "https://c.org/z"))


def test_delimited_keeps_a_malformed_destination() -> None:
    """A delimited destination is the author's URL, spaces and final punctuation and all."""
    # Before, `as_written` trimmed the final ".": trimming belongs to bare URLs only.
    assert [c.url for c in clean("https://github.com/OpenLM Lab/MOSS.", delimited=True)] == [
        "https://github.com/OpenLM Lab/MOSS."
    ]
