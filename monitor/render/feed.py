"""The Atom 1.0 feed of what needs a maintainer: `reports/feed.atom`, as text.

    render_feed(items, now=now, title="monitor: sources.toml", feed_id=stable_id("feed", ...))

Pure: `FeedItem`s in (the glue picks the alerting and needs-action events of
the last 30 days from the store), Atom XML out, newest entry first. The XML is
built with `xml.etree.ElementTree`, which escapes text and attributes; before
that every string loses the characters XML 1.0 cannot carry (control
characters, lone surrogates), so a repository description holding
`<script>`, `]]>` or a NUL byte reaches a feed reader as inert text.

Entry ids are `urn:uuid:` names derived from the source URL, the event word and
the event's time, so a later run renders the same id for the same event and
readers never show it twice. The feed's `updated` is the newest entry's time
(`now` only when there is none): an unchanged set of events renders the same
bytes.
"""

from __future__ import annotations

import re
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from monitor.render.links import http_link

ATOM_NS = "http://www.w3.org/2005/Atom"
#: The namespace of every id this module derives (a fixed, arbitrary UUID: never change it,
#: or every reader sees every entry again).
ID_NAMESPACE = uuid.UUID("5d1c7a52-3f0e-4b8e-9a57-6f0c2f3d9b41")
#: Where the categories' terms come from (a tag: URI naming a vocabulary, not a page).
CATEGORY_SCHEME = "tag:monitor,2026:"

# Characters XML 1.0 forbids (everything outside Char), plus the C1 controls and DEL it
# discourages: a feed reader has no use for them and some choke on them.
_NOT_XML = re.compile(r"[^\t\n\r\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_SPACE = re.compile(r"\s+")
# An absolute IRI as Atom's ids need: a scheme, a colon, then no space (RFC 3987, loosely).
_IRI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"{}|\\^`]+")


@dataclass(frozen=True)
class FeedItem:
    """One event for the feed, as the glue reads it from the store.

    `event` is the contract's event word (`renamed`, `deleted`, `dead`, …); `at` is
    when it was raised (UTC; a naive datetime is taken as UTC); `old`, `new`,
    `new_url` and `detail` are the event's own fields; `alert` says whether the
    event alerted (otherwise it is listed because it needs action)."""

    event: str
    url: str
    at: datetime
    name: str | None = None
    section: str | None = None
    kind: str | None = None
    old: str | None = None
    new: str | None = None
    new_url: str | None = None
    detail: str | None = None
    alert: bool = False


def render_feed(
    items: Sequence[FeedItem],
    *,
    now: datetime,
    title: str,
    feed_id: str,
    link: str | None = None,
    self_url: str | None = None,
) -> str:
    """The Atom 1.0 document for `items`, newest first, ending with a newline.

    `feed_id` is the feed's identity, the same from run to run: an absolute IRI
    (`urn:…`, `tag:…`, `https://…`) is used as it is, any other text (a title,
    a repository name) is hashed into one with `stable_id`. `link` is the page
    the feed is about (rel="alternate"), `self_url` where the feed itself is
    published (rel="self"), each written only when it is an http(s) URL."""
    ordered = sorted(items, key=_order_key, reverse=True)
    feed = ET.Element("feed", {"xmlns": ATOM_NS})
    _text(feed, "id", feed_iri(feed_id))
    _text(feed, "title", _line(title) or "monitor", type="text")
    _text(feed, "updated", _rfc3339(_utc(ordered[0].at) if ordered else _utc(now)))
    author = ET.SubElement(feed, "author")
    _text(author, "name", "monitor")
    _text(feed, "generator", "monitor")
    _link(feed, link, "alternate", "text/html")
    _link(feed, self_url, "self", "application/atom+xml")
    for item in ordered:
        _entry(feed, item)
    ET.indent(feed, space="  ")
    body = ET.tostring(feed, encoding="unicode")
    return f'<?xml version="1.0" encoding="utf-8"?>\n{body}\n'


def stable_id(*parts: str) -> str:
    """A `urn:uuid:` IRI that depends only on `parts`: the same on every run."""
    return f"urn:uuid:{uuid.uuid5(ID_NAMESPACE, chr(31).join(parts))}"


def feed_iri(feed_id: str) -> str:
    """`feed_id` if it is an absolute IRI, else the `urn:uuid:` that `stable_id` derives from it."""
    text = clean(feed_id).strip()
    return text if _IRI.fullmatch(text) else stable_id("feed", feed_id)


def entry_id(item: FeedItem) -> str:
    """The entry's id: the source URL, the event word and the event's time, hashed."""
    return stable_id("entry", item.url, item.event, _utc(item.at).isoformat())


def entry_title(item: FeedItem) -> str:
    """`renamed: Stanford Alpaca`: the event word and the source's name (or URL), one line."""
    return _line(f"{item.event}: {item.name or item.url}")


def entry_summary(item: FeedItem) -> str:
    """One line saying what changed: old → new, the new URL, the detail."""
    parts = []
    if item.old is not None or item.new is not None:
        parts.append(f"{item.old or '?'} → {item.new or '?'}")
    if item.new_url:
        parts.append(f"new URL {item.new_url}")
    if item.detail:
        parts.append(item.detail)
    if not parts:
        parts.append(f"{item.event} on {_utc(item.at):%Y-%m-%d}")
    return _line("; ".join(parts))


def entry_content(item: FeedItem) -> str:
    """The entry's text, a fact a line: what, where, old → new, new URL, detail."""
    lines = [
        f"{item.event}: {item.name}" if item.name else item.event,
        f"URL: {item.url}",
    ]
    if item.old is not None or item.new is not None:
        lines.append(f"Change: {item.old or '?'} → {item.new or '?'}")
    if item.new_url:
        lines.append(f"New URL: {item.new_url}")
    if item.detail:
        lines.append(f"Detail: {item.detail}")
    if item.kind:
        lines.append(f"Kind: {item.kind}")
    if item.section:
        lines.append(f"Section: {item.section}")
    lines.append(f"Raised: {_rfc3339(_utc(item.at))}" + (" (alerted)" if item.alert else ""))
    return "\n".join(_line(line) for line in lines)


def clean(text: str) -> str:
    """`text` without the characters XML 1.0 cannot carry (control characters and the like)."""
    return _NOT_XML.sub("", text)


def _line(text: str) -> str:
    return _SPACE.sub(" ", clean(text)).strip()


def _entry(feed: ET.Element, item: FeedItem) -> None:
    entry = ET.SubElement(feed, "entry")
    _text(entry, "id", entry_id(item))
    _text(entry, "title", entry_title(item), type="text")
    at = _rfc3339(_utc(item.at))
    _text(entry, "updated", at)
    _text(entry, "published", at)
    _link(entry, item.url, "alternate", None)
    _link(entry, item.new_url, "related", None)
    for term, scheme in _categories(item):
        ET.SubElement(entry, "category", {"term": term, "scheme": CATEGORY_SCHEME + scheme})
    _text(entry, "summary", entry_summary(item), type="text")
    _text(entry, "content", entry_content(item), type="text")


def _categories(item: FeedItem) -> Iterable[tuple[str, str]]:
    yield _line(item.event), "event"
    if item.kind:
        yield _line(item.kind), "kind"
    if item.section:
        yield _line(item.section), "section"
    yield ("alert" if item.alert else "needs-action"), "action"


def _text(parent: ET.Element, tag: str, text: str, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attrs)
    element.text = clean(text)
    return element


def _link(parent: ET.Element, href: str | None, rel: str, media: str | None) -> None:
    """A link only to an http(s) URL: a `javascript:` or `data:` URL never becomes clickable."""
    href = clean(href or "").strip()
    if http_link(href) is None:
        return
    attrs = {"rel": rel, "href": href}
    if media:
        attrs["type"] = media
    ET.SubElement(parent, "link", attrs)


def _utc(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def _rfc3339(at: datetime) -> str:
    return at.isoformat(timespec="seconds").replace("+00:00", "Z")


def _order_key(item: FeedItem) -> tuple[datetime, str, str]:
    return _utc(item.at), item.url, item.event
