"""The three pure renderers of the files every run leaves: feed.atom, badge.json, monitor.prom.

Each is read back the way its consumers read it: the feed by `feedparser` and by
Atom 1.0's structural rules, the badge by a JSON schema of shields.io's endpoint
format, the metrics by `prometheus_client`'s own parser. Hostile names (markup,
`]]>`, quotes, newlines, control characters) must come out escaped or dropped.
"""

from __future__ import annotations

import json
import math
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import feedparser
import jsonschema
import pytest
from prometheus_client.parser import text_string_to_metric_families

from monitor.render.badge import CACHE_SECONDS, badge, badge_color, badge_json, json_text
from monitor.render.feed import (
    ATOM_NS,
    FeedItem,
    entry_id,
    feed_iri,
    render_feed,
    stable_id,
)
from monitor.render.metrics import MetricsSnapshot, render_metrics, write_metrics

NOW = datetime(2026, 12, 20, 6, 0, tzinfo=UTC)
HOSTILE = "<script>alert(1)</script> ]]> &amp; \x00\x07\x1b[31m\ufffe\ud800 end"
A = f"{{{ATOM_NS}}}"
RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)")


def items() -> list[FeedItem]:
    """Three events given oldest first (the renderer orders them)."""
    return [
        FeedItem(
            event="renamed",
            url="https://github.com/old/alpaca",
            name="Stanford Alpaca",
            section="Instruction tuning",
            kind="github_repo",
            at=NOW - timedelta(days=20),
            old="old/alpaca",
            new="new/alpaca",
            new_url="https://github.com/new/alpaca",
            alert=True,
        ),
        FeedItem(
            event="redirected",
            url="https://example.org/paper",
            name=None,
            section=None,
            kind="web",
            at=NOW - timedelta(days=3),
            new_url="https://example.org/papers/1",
        ),
        FeedItem(
            event="dead",
            url="https://example.com/gone",
            name="Gone page",
            section="Links",
            kind="web",
            # naive: taken as UTC, as a store without time zones would hand it over
            at=(NOW - timedelta(hours=2)).replace(tzinfo=None),
            detail="404 on 3 checks over 48 hours",
            alert=True,
        ),
    ]


def render(feed_items: list[FeedItem]) -> str:
    return render_feed(
        feed_items,
        now=NOW,
        title="monitor: what needs action",
        feed_id="urn:uuid:00000000-0000-4000-8000-000000000001",
        link="https://github.com/owner/list",
    )


# --- feed.atom ------------------------------------------------------------------------------


def test_feed_parses_cleanly_with_entries_newest_first() -> None:
    """feedparser reads the feed as Atom 1.0 without complaint, newest entry first."""
    parsed = feedparser.parse(render(items()))
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    assert parsed.feed.title == "monitor: what needs action"
    assert parsed.feed.id == "urn:uuid:00000000-0000-4000-8000-000000000001"
    assert parsed.feed.author == "monitor"
    assert parsed.feed.link == "https://github.com/owner/list"
    assert [e.title for e in parsed.entries] == [
        "dead: Gone page",
        "redirected: https://example.org/paper",
        "renamed: Stanford Alpaca",
    ]
    stamps = [e.updated_parsed for e in parsed.entries]
    assert stamps == sorted(stamps, reverse=True)


def test_feed_entries_link_to_the_resource_and_say_what_changed() -> None:
    """Each entry links to its source, the new URL as related, and says old → new and detail."""
    entries = {e.title: e for e in feedparser.parse(render(items())).entries}
    renamed = entries["renamed: Stanford Alpaca"]
    assert renamed.link == "https://github.com/old/alpaca"
    assert {(link.rel, link.href) for link in renamed.links} == {
        ("alternate", "https://github.com/old/alpaca"),
        ("related", "https://github.com/new/alpaca"),
    }
    assert renamed.summary == "old/alpaca → new/alpaca; new URL https://github.com/new/alpaca"
    content = renamed.content[0]
    assert content.type == "text/plain"
    assert "Change: old/alpaca → new/alpaca" in content.value
    assert "Section: Instruction tuning" in content.value
    assert {t.term for t in renamed.tags} == {
        "renamed",
        "github_repo",
        "Instruction tuning",
        "alert",
    }
    dead = entries["dead: Gone page"]
    assert "404 on 3 checks over 48 hours" in dead.summary
    assert dead.updated == "2026-12-20T04:00:00Z"
    assert "needs-action" in {t.term for t in entries["redirected: https://example.org/paper"].tags}


def test_feed_ids_are_stable_across_runs_and_distinct() -> None:
    """Two renders (even in another order, at another time) give every event the same id."""
    first = feedparser.parse(render(items()))
    later = render_feed(
        list(reversed(items())), now=NOW + timedelta(days=1), title="t", feed_id="x:y"
    )
    second = feedparser.parse(later)
    assert [e.id for e in first.entries] == [e.id for e in second.entries]
    ids = [e.id for e in first.entries]
    assert len(set(ids)) == 3
    assert all(i.startswith("urn:uuid:") for i in ids)
    assert ids[2] == entry_id(items()[0])
    assert render(items()) == render(list(reversed(items())))


def test_feed_updated_is_the_newest_entry_or_now_when_empty() -> None:
    """The feed's updated is its newest entry's time, so an unchanged feed renders the same."""
    assert feedparser.parse(render(items())).feed.updated == "2026-12-20T04:00:00Z"
    empty = feedparser.parse(render([]))
    assert empty.bozo == 0
    assert empty.entries == []
    assert empty.feed.updated == "2026-12-20T06:00:00Z"


def test_feed_escapes_hostile_names_and_drops_control_characters() -> None:
    """Markup and ]]> in a name reach the reader as text; characters XML forbids are gone."""
    hostile = FeedItem(
        event="deleted",
        url="https://github.com/evil/repo",
        name=HOSTILE,
        section=HOSTILE,
        kind="github_repo",
        at=NOW - timedelta(days=1),
        old=HOSTILE,
        new="\"quoted\" 'single'",
        detail=HOSTILE,
        alert=True,
    )
    xml = render([hostile])
    assert "<script>" not in xml
    assert "]]>" not in xml
    assert not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\ud800-\udfff]", xml)
    root = ET.fromstring(xml.encode("utf-8"))  # well-formed XML 1.0
    title = root.find(f"{A}entry/{A}title")
    assert title is not None
    assert title.text == "deleted: <script>alert(1)</script> ]]> &amp; [31m end"
    parsed = feedparser.parse(xml)
    assert parsed.bozo == 0
    entry = parsed.entries[0]
    assert entry.title == "deleted: <script>alert(1)</script> ]]> &amp; [31m end"
    assert "\"quoted\" 'single'" in entry.content[0].value
    category = root.find(f"{A}entry/{A}category[@scheme='tag:monitor,2026:section']")
    assert category is not None and category.get("term") == title.text.removeprefix("deleted: ")


def test_feed_links_only_to_http_urls() -> None:
    """A javascript: or malformed URL is never a link; the entry still carries it as text."""
    odd = FeedItem(
        event="redirected",
        url="javascript:alert(1)",
        at=NOW - timedelta(days=1),
        new_url="http://[::1",
    )
    xml = render([odd])
    root = ET.fromstring(xml)
    assert root.findall(f"{A}entry/{A}link") == []
    parsed = feedparser.parse(xml)
    assert parsed.bozo == 0
    assert "URL: javascript:alert(1)" in parsed.entries[0].content[0].value


def test_feed_meets_atom_1_0_structural_rules() -> None:
    """RFC 4287: feed and every entry have one id (absolute IRI), title and updated; an author."""
    root = ET.fromstring(render(items()))
    assert root.tag == f"{A}feed"

    def one(element: ET.Element, tag: str) -> str:
        found = element.findall(f"{A}{tag}")
        assert len(found) == 1, tag
        return found[0].text or ""

    assert re.fullmatch(r"[a-z][a-z0-9+.-]*:\S+", one(root, "id"))
    assert one(root, "title")
    assert RFC3339.fullmatch(one(root, "updated"))
    author = root.find(f"{A}author/{A}name")
    assert author is not None and author.text == "monitor"
    entries = root.findall(f"{A}entry")
    assert len(entries) == 3
    for entry in entries:
        assert re.fullmatch(r"urn:uuid:[0-9a-f-]{36}", one(entry, "id"))
        assert one(entry, "title")
        assert RFC3339.fullmatch(one(entry, "updated"))
        alternates = [
            link
            for link in entry.findall(f"{A}link")
            if link.get("rel", "alternate") == "alternate"
        ]
        # an entry without an alternate link must carry content (RFC 4287 4.1.1.1)
        assert alternates or entry.find(f"{A}content") is not None
        assert len(alternates) <= 1
        for element in entry.iter():
            if element.get("type") is not None and element.tag != f"{A}link":
                assert element.get("type") in {"text", "html", "xhtml"}


def test_feed_id_that_is_not_an_iri_is_hashed_into_one() -> None:
    """A plain title as feed id becomes a stable urn:uuid; an IRI is kept as it is."""
    assert feed_iri("tag:example.org,2026:feed") == "tag:example.org,2026:feed"
    plain = feed_iri("monitor")
    assert plain == stable_id("feed", "monitor") == feed_iri("monitor")
    assert plain.startswith("urn:uuid:")
    assert feed_iri("my list: links") != plain
    parsed = feedparser.parse(render_feed([], now=NOW, title="t", feed_id="monitor"))
    assert parsed.feed.id == plain


# --- badge.json -----------------------------------------------------------------------------

#: shields.io's endpoint format, from https://shields.io/badges/endpoint-badge.
SHIELDS_ENDPOINT_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["schemaVersion", "label", "message"],
    "additionalProperties": False,
    "properties": {
        "schemaVersion": {"const": 1},
        "label": {"type": "string"},
        "message": {"type": "string", "minLength": 1},
        "color": {"type": "string", "minLength": 1},
        "labelColor": {"type": "string", "minLength": 1},
        "isError": {"type": "boolean"},
        "namedLogo": {"type": "string"},
        "logoSvg": {"type": "string"},
        "logoColor": {"type": "string"},
        "logoWidth": {"type": "number"},
        "style": {"enum": ["flat", "flat-square", "plastic", "for-the-badge", "social"]},
        "cacheSeconds": {"type": "integer", "minimum": 300},
    },
}
VALIDATOR = jsonschema.Draft202012Validator(SHIELDS_ENDPOINT_SCHEMA)


@pytest.mark.parametrize(
    ("ok", "total", "message", "color"),
    [
        (223, 223, "223/223 ok", "brightgreen"),
        (219, 223, "219/223 ok", "yellow"),
        (9, 10, "9/10 ok", "yellow"),
        (8, 10, "8/10 ok", "orange"),
        (3, 4, "3/4 ok", "orange"),
        (74, 100, "74/100 ok", "red"),
        (0, 5, "0/5 ok", "red"),
        (0, 0, "no sources", "lightgrey"),
    ],
)
def test_badge_follows_the_shields_endpoint_schema(
    ok: int, total: int, message: str, color: str
) -> None:
    """The badge validates against the endpoint schema, with the message and colour expected."""
    text = badge_json(ok, total)
    document = json.loads(text)
    errors = sorted(VALIDATOR.iter_errors(document), key=str)
    assert not errors, errors[0].message
    assert document == {
        "schemaVersion": 1,
        "label": "links",
        "message": message,
        "color": color,
        "cacheSeconds": CACHE_SECONDS,
    }
    assert document == badge(ok, total)


def test_badge_colour_thresholds_are_exact() -> None:
    """90 % and 75 % are reached without rounding up: 899/1000 is orange, 749/1000 red."""
    assert badge_color(900, 1000) == "yellow"
    assert badge_color(899, 1000) == "orange"
    assert badge_color(750, 1000) == "orange"
    assert badge_color(749, 1000) == "red"


def test_badge_json_has_sorted_keys_and_one_trailing_newline() -> None:
    """The file's text lists keys sorted, so two runs with the same counts write the same bytes."""
    text = badge_json(219, 223)
    assert text.endswith("}\n") and not text.endswith("\n\n")
    keys = list(json.loads(text))
    assert keys == sorted(keys)
    assert text == badge_json(219, 223)


def test_badge_rejects_impossible_counts() -> None:
    """More ok than total, or a negative count, is a caller's bug, not a badge."""
    for ok, total in [(5, 4), (-1, 4), (0, -1)]:
        with pytest.raises(ValueError, match="0 <= ok <= total"):
            badge(ok, total)


def test_a_hostile_label_cannot_break_the_json() -> None:
    """A label with quotes, markup and control characters stays one JSON string, safe in HTML."""
    label = '"}, "isError": true, "x": "</script><script>alert(1)</script>\n\x00\u2028'
    text = badge_json(1, 2, label=label)
    document = json.loads(text)
    assert document["label"] == label
    assert "isError" not in document
    assert not VALIDATOR.is_valid(document | {"isError": "yes"})
    assert VALIDATOR.is_valid(document)
    for raw in ("<", ">", "&", "\x00", "\u2028"):
        assert raw not in text
    assert json.loads(json_text({"b": "&", "a": 1})) == {"a": 1, "b": "&"}


# --- monitor.prom ---------------------------------------------------------------------------


def snapshot(**changes: Any) -> MetricsSnapshot:
    values: dict[str, Any] = {
        "states": {"ok": 219, "suspect": 2, "dead": 1, "deleted": 0, "unverifiable": 1},
        "sources_total": 223,
        "events": {"added": 3, "renamed": 1, "dead": 0},
        "requests": {"github": 40, "huggingface": 12, "web": 80},
        "rate_limit_remaining": {"github": 4960, "huggingface": None, "web": None},
        "last_run_timestamp": NOW.timestamp(),
        "last_run_duration_seconds": 12.75,
        "last_run_status": "completed",
    }
    values.update(changes)
    return MetricsSnapshot(**values)


def read_back(path: Path) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    """The file parsed by prometheus_client: family → {sorted labels → value}."""
    families: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(path.read_text(encoding="utf-8")):
        assert family.type == "gauge", family.name
        assert family.documentation, family.name
        samples = families.setdefault(family.name, {})
        for sample in family.samples:
            assert sample.name == family.name
            samples[tuple(sorted(sample.labels.items()))] = sample.value
    return families


def test_metrics_file_holds_every_family_with_its_values(tmp_path: Path) -> None:
    """Each metric parses back with its labels and values; unknown rate limits are left out."""
    path = tmp_path / "reports" / "monitor.prom"
    write_metrics(path, snapshot())
    families = read_back(path)
    assert families == {
        "monitor_sources": {
            (("state", "ok"),): 219,
            (("state", "suspect"),): 2,
            (("state", "dead"),): 1,
            (("state", "deleted"),): 0,
            (("state", "unverifiable"),): 1,
        },
        "monitor_catalog_sources": {(): 223},
        "monitor_events": {
            (("event", "added"),): 3,
            (("event", "renamed"),): 1,
            (("event", "dead"),): 0,
        },
        "monitor_requests": {
            (("service", "github"),): 40,
            (("service", "huggingface"),): 12,
            (("service", "web"),): 80,
        },
        "monitor_rate_limit_remaining": {(("service", "github"),): 4960},
        "monitor_last_run_timestamp_seconds": {(): NOW.timestamp()},
        "monitor_last_run_duration_seconds": {(): 12.75},
        "monitor_last_run_info": {(("status", "completed"),): 1},
    }
    assert [p.name for p in path.parent.iterdir()] == ["monitor.prom"]  # no temporary file left


def test_metrics_names_follow_prometheus_conventions(tmp_path: Path) -> None:
    """Names are monitor_-prefixed snake_case, units spelled out, no counter suffix on gauges."""
    text = render_metrics(snapshot())
    names = {f.name for f in text_string_to_metric_families(text)}
    for name in names:
        assert re.fullmatch(r"monitor_[a-z]+(_[a-z]+)*", name), name
        assert not name.endswith("_total"), name
    assert "monitor_last_run_timestamp_seconds" in names
    assert "# HELP monitor_events Events the last run raised, by event word." in text
    write_metrics(tmp_path / "monitor.prom", snapshot())
    assert (tmp_path / "monitor.prom").read_text(encoding="utf-8") == text


def test_metrics_with_nothing_yet_still_parse(tmp_path: Path) -> None:
    """A store with no run: empty label sets leave the families bare, zeros parse as zeros."""
    write_metrics(
        tmp_path / "monitor.prom",
        snapshot(
            states={"ok": 0},
            sources_total=0,
            events={},
            requests={},
            rate_limit_remaining={},
            last_run_timestamp=0.0,
            last_run_duration_seconds=0.0,
            last_run_status="none",
        ),
    )
    families = read_back(tmp_path / "monitor.prom")
    assert families["monitor_sources"] == {(("state", "ok"),): 0}
    assert families["monitor_last_run_info"] == {(("status", "none"),): 1}
    assert families.get("monitor_events", {}) == {}
    assert families.get("monitor_rate_limit_remaining", {}) == {}


def test_metrics_escape_hostile_label_values(tmp_path: Path) -> None:
    """Quotes, backslashes and newlines in a label survive escaped; other controls are dropped."""
    evil = 'git"hub\\\n} 1e9\nmonitor_sources{state="ok"} 0'
    path = tmp_path / "monitor.prom"
    write_metrics(
        path,
        snapshot(
            events={evil: 2, "nul\x00cr\rtab\tdel\x7f": 1, "lone\udc80": 4},
            requests={evil: 7},
            rate_limit_remaining={evil: 5},
            last_run_status='failed"\n',
        ),
    )
    text = path.read_text(encoding="utf-8")
    # a HELP and a TYPE line for each of the 8 families, then one line per sample (14): no label
    # value has smuggled in a line of its own
    assert len(text.rstrip("\n").split("\n")) == 8 * 2 + 14
    families = read_back(path)
    assert families["monitor_events"][(("event", evil),)] == 2
    assert families["monitor_events"][(("event", "nulcrtabdel"),)] == 1
    assert families["monitor_events"][(("event", "lone\ufffd"),)] == 4
    assert families["monitor_requests"] == {(("service", evil),): 7}
    assert families["monitor_rate_limit_remaining"] == {(("service", evil),): 5}
    assert families["monitor_last_run_info"] == {(("status", 'failed"\n'),): 1}
    assert families["monitor_sources"][(("state", "ok"),)] == 219  # not overwritten by the label


def test_metrics_keep_fractional_and_large_values() -> None:
    """Timestamps and durations keep their precision through the text format."""
    at = 1_797_000_000.125
    text = render_metrics(snapshot(last_run_timestamp=at, last_run_duration_seconds=0.001))
    values = {
        f.name: f.samples[0].value
        for f in text_string_to_metric_families(text)
        if f.name.startswith("monitor_last_run_") and f.samples
    }
    assert math.isclose(values["monitor_last_run_timestamp_seconds"], at, rel_tol=0, abs_tol=1e-3)
    assert values["monitor_last_run_duration_seconds"] == 0.001
