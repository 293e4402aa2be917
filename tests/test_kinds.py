"""URL -> kind, canonical URL and identity, table-driven from data/kinds.toml."""

from __future__ import annotations

import tomllib
from typing import Any

import pytest

from monitor.catalog.kinds import NotAWebURL, identify
from tests.conftest import DATA

CASES: list[dict[str, Any]] = tomllib.loads((DATA / "kinds.toml").read_text())["case"]


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_identify(case: dict[str, Any]) -> None:
    """Each URL gets its kind, canonical form, identity and the problems it really has."""
    found = identify(case["url"])
    assert found.kind == case["kind"]
    if "canonical" in case:
        assert found.url == case["canonical"]
    if "key" in case:
        assert found.key == case["key"]
    if "label" in case:
        assert found.label == case["label"]
    assert len(found.problems) == case.get("problems", 0), found.problems
    for other in case.get("same", []):
        assert identify(other).key == found.key, other


def test_cases_have_distinct_names() -> None:
    """Every case in the table is named, once."""
    names = [c["name"] for c in CASES]
    assert len(names) == len(set(names))


def test_different_resources_have_different_keys() -> None:
    """No two cases in the table collapse into one identity by accident."""
    keys = [identify(c["url"]).key for c in CASES]
    spaced = {identify("https://github.com/OpenLM%20Lab/MOSS").key}
    assert len([k for k in keys if k not in spaced]) == len({k for k in keys if k not in spaced})


@pytest.mark.parametrize(
    "text",
    [
        "mailto:a@b.org",
        "ftp://x.org/f",
        "#models",
        "/relative",
        "https://",
        "http://no-dot",
        "https://x.org:99999/",
    ],
)
def test_not_a_web_url(text: str) -> None:
    """Anything that is not an absolute http(s) URL with a host is refused with NotAWebURL."""
    with pytest.raises(NotAWebURL):
        identify(text)
