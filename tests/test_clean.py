"""Where URLs written in prose begin and end, table-driven from data/clean.toml."""

from __future__ import annotations

import tomllib
from typing import Any

import pytest

from monitor.catalog.clean import clean
from tests.conftest import DATA

CASES: list[dict[str, Any]] = tomllib.loads((DATA / "clean.toml").read_text())["case"]


@pytest.mark.parametrize("case", CASES, ids=[c["raw"][:60] for c in CASES])
def test_clean(case: dict[str, Any]) -> None:
    """A run of text yields exactly the URLs it holds, warned about when a human should look."""
    found = clean(case["raw"])
    assert [c.url for c in found] == case["urls"]
    assert any(c.warnings for c in found) == case.get("warned", False)


def test_glued_warning_names_every_piece_once() -> None:
    """A glued run warns once, on its first URL, naming each URL it was split into."""
    found = clean("https://a.org/xhttps://b.org/yhttps://c.org/z")
    assert [c.url for c in found] == ["https://a.org/x", "https://b.org/y", "https://c.org/z"]
    assert len(found[0].warnings) == 1 and not found[1].warnings and not found[2].warnings
    assert all(url in found[0].warnings[0] for url in ("https://b.org/y", "https://c.org/z"))


def test_as_written_keeps_a_malformed_destination() -> None:
    """as_written keeps the author's URL, spaces and all, losing only trailing punctuation."""
    assert [c.url for c in clean("https://github.com/OpenLM Lab/MOSS.", as_written=True)] == [
        "https://github.com/OpenLM Lab/MOSS"
    ]
