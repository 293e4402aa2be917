"""What needs action (monitor.needs), table-driven from data/needs.toml, and its grouping."""

from __future__ import annotations

import tomllib
from datetime import date, datetime
from typing import Any

import pytest

from monitor.catalog.kinds import identify
from monitor.model import Entry, Event, EventType, Judgement, Kind, Seen, SourceState
from monitor.needs import ORDER, Need, grouped, needs_action, resolution
from monitor.render.report import ACTION
from monitor.store import StoredEvent, StoredSource
from tests.conftest import DATA

TABLE = tomllib.loads((DATA / "needs.toml").read_text())
NOW: datetime = TABLE["now"]
CASES: list[dict[str, Any]] = TABLE["case"]


def source(
    url: str,
    state: dict[str, Any],
    *,
    judgement: dict[str, Any] | None = None,
    kind: str | None = None,
    id: int = 1,
    name: str = "",
) -> StoredSource:
    """A stored source at `url` in `state` (SourceState as JSON)."""
    resource = identify(url)
    return StoredSource(
        id,
        resource.key,
        url,
        Kind(kind) if kind else resource.kind,
        name or url,
        "",
        SourceState.from_json(state),
        judgement=Judgement.from_json(judgement),
    )


def event(stored: StoredSource, data: dict[str, Any], id: int = 1) -> StoredEvent:
    """A stored event of `stored` from its JSON."""
    return StoredEvent(
        Event(
            EventType(data["event"]),
            stored.key,
            stored.url,
            stored.kind,
            datetime.fromisoformat(data["at"]),
            old=data.get("old"),
            new=data.get("new"),
            new_url=data.get("new_url"),
            detail=data.get("detail"),
            held=bool(data.get("held")),
        ),
        id,
        1,
        stored.name,
        "",
    )


def entry(stored: StoredSource, **judgement: Any) -> Entry:
    """The catalog entry of `stored`, linked from two places of README.md."""
    until = judgement.get("snooze_until")
    return Entry(
        stored.url,
        stored.kind,
        stored.key,
        seen=(Seen("README.md", 12), Seen("README.md", 40)),
        judgement=Judgement(
            ignore=bool(judgement.get("ignore")),
            snooze_until=date.fromisoformat(until) if isinstance(until, str) else until,
        ),
        imported=True,
    )


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_needs_action(case: dict[str, Any]) -> None:
    """Each case of data/needs.toml needs exactly the action it expects."""
    stored = source(
        case["url"], case["state"], judgement=case.get("judgement"), kind=case.get("kind")
    )
    events = [event(stored, e, i) for i, e in enumerate(case.get("events", []), 1)]
    catalog = case.get("catalog", "none")
    entries: list[Entry] | None
    if catalog == "none":
        entries = None
    elif catalog == "missing":
        entries = []
    elif catalog == "same":
        entries = [entry(stored)]
    else:
        entries = [entry(stored, **catalog)]
    listed = [(word, stored.url) for word in case.get("listed", [])]
    needs = needs_action([stored], events, NOW, entries=entries, listed=listed)
    assert [n.event.value for n in needs] == case["expect"]
    if not needs:
        return
    first = needs[0]
    for name in ("new_url", "old", "new"):
        if name in case:
            assert getattr(first, name) == case[name]
    if "since" in case:
        assert first.since == datetime.fromisoformat(case["since"])
    assert first.carried is bool(case.get("carried"))
    assert len(first.seen) == case.get("seen", 0)
    assert first.last_checked == stored.state.last_checked_at


def test_cases_have_distinct_names() -> None:
    """Every case of data/needs.toml has a name of its own."""
    names = [c["name"] for c in CASES]
    assert len(names) == len(set(names))


def test_the_order_is_the_reports_with_redirects_beside_renames() -> None:
    """Items are grouped in the day report's "Needs action" order, redirected after renamed."""
    report = [t for t, _, _ in ACTION if t is not EventType.RECOVERED]
    assert [t for t in ORDER if t is not EventType.REDIRECTED] == report
    assert ORDER.index(EventType.REDIRECTED) == ORDER.index(EventType.RENAMED) + 1


def test_items_are_grouped_in_order_and_sorted_by_name() -> None:
    """Several sources: grouped by event in ORDER, by name within a group, one item each."""
    dead = {"health": "dead", "last_checked_at": "2026-11-10T05:00:00+00:00"}
    sources = [
        source("https://example.org/b", dead, id=1, name="beta"),
        source("https://github.com/a/gone", {"health": "deleted"}, id=2, name="gone"),
        source("https://example.org/a", dead, id=3, name="Alpha"),
        source("https://example.org/s", {"health": "suspect"}, id=4, name="suspect"),
    ]
    needs = needs_action(sources, [], NOW, listed=[("dead", "https://example.org/a")])
    assert [(t.value, [n.name for n in items]) for t, items in grouped(needs)] == [
        ("deleted", ["gone"]),
        ("dead", ["Alpha", "beta"]),
    ]
    assert not any(n.carried for n in needs)  # confirmed: not carried over


def test_a_never_worked_detail_marks_the_item() -> None:
    """A dead link that never worked keeps the event's detail, so it can be told apart."""
    stored = source("https://example.org/typo", {"health": "dead"})
    detail = "never worked since it was added: check the list for a typo"
    needs = needs_action(
        [stored],
        [event(stored, {"event": "dead", "at": "2026-11-09T06:00:00+00:00", "detail": detail})],
        NOW,
    )
    assert needs[0].never_worked


def test_the_digest_json_leaves_out_what_moves_every_run() -> None:
    """Without `volatile`, an item's JSON has no last check and no last answer."""
    item = Need(
        EventType.DEAD,
        "k",
        "https://example.org/x",
        "x",
        "web",
        last_checked=NOW,
        answer="HTTP 404",
    )
    assert "last_checked" not in item.to_json(volatile=False)
    assert item.to_json()["answer"] == "HTTP 404"


@pytest.mark.parametrize(
    ("word", "state", "why"),
    [
        ("dead", {"health": "ok"}, "works again"),
        ("dead", {"health": "suspect"}, "now suspect"),
        ("renamed", {"health": "ok"}, "no longer points elsewhere"),
        ("archived", {"health": "ok", "facts": {"archived": False}}, "unarchived"),
        ("license_changed", {"health": "ok"}, "reported more than 7 days ago"),
    ],
)
def test_resolution_says_why(word: str, state: dict[str, Any], why: str) -> None:
    """An item resolved since the last list says why in a few words."""
    stored = source("https://example.org/x", state)
    assert resolution((word, stored.url), {stored.url: stored}, NOW) == why


def test_resolution_of_a_url_the_catalog_dropped() -> None:
    """A URL no longer in the store or the catalog was fixed or removed; a judgement says so."""
    stored = source("https://example.org/x", {"health": "dead"}, judgement={"ignore": True})
    assert "no longer lists" in resolution(("dead", "https://example.org/y"), {}, NOW)
    assert "no longer lists" in resolution(
        ("dead", stored.url), {stored.url: stored}, NOW, entries={}
    )
    assert resolution(("dead", stored.url), {stored.url: stored}, NOW) == "ignored in the catalog"
