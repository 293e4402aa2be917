"""What an answer of arXiv's export API says: a feed that speaks for arXiv, or nothing.

Owns `read_feed`: only a well-formed Atom `<feed>` carrying
`opensearch:totalResults` is a feed (in it, an id with no entry does not
exist); anything else raises `Unreadable` saying what came instead (a captive
portal's HTML, JSON, plain text, a feed cut short). The probe, `arxiv.py`,
decides what to do about it. ../shared/api-facts.md §8 has the wire format.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import unquote, urlsplit

from monitor.model import Facts

ATOM = "{http://www.w3.org/2005/Atom}"
ARXIV = "{http://arxiv.org/schemas/atom}"
OPENSEARCH = "{http://a9.com/-/spec/opensearch/1.1/}"
XHTML = "{http://www.w3.org/1999/xhtml}"
_PAPER = re.compile(r"/abs/(?P<id>.+?)(?P<version>v\d+)?$")
_INCORRECT_ID = re.compile(r"incorrect id format for (?P<id>\S+)", re.IGNORECASE)
_RATE_EXCEEDED = b"rate exceeded."


class Unreadable(ValueError):
    """An answer that is not the export API's Atom feed (the message says what it was)."""


@dataclass(frozen=True)
class Feed:
    """What one export API feed says."""

    total: int
    #: facts per paper id (without version)
    papers: dict[str, Facts]
    #: ids arXiv refused, with its words ("incorrect id format for X")
    rejected: dict[str, str] = field(default_factory=dict)
    #: arXiv's complaints about the query as a whole, and entries that could not be read:
    #: while there are any, a missing id proves nothing
    doubts: list[str] = field(default_factory=list)


def read_feed(body: bytes | str, content_type: str | None = None) -> Feed:
    """The feed in an answer's body, or `Unreadable` saying what came instead.

    Only an Atom `<feed>` with `opensearch:totalResults` passes. It is the one answer
    in which a missing id means "no such paper".
    """
    raw = body.encode() if isinstance(body, str) else body
    declared = (content_type or "").split(";")[0].strip().lower()
    if declared in ("text/html", "application/xhtml+xml") or _looks_html(raw):
        raise Unreadable(_html_where())
    if _has_doctype(raw):
        raise Unreadable("an XML document with a DTD where an Atom feed was expected")
    try:
        root = ET.fromstring(raw)
    except ET.ParseError as exc:
        raise Unreadable(_not_xml(raw, declared, exc)) from None
    if root.tag.startswith(XHTML) or root.tag.lower() == "html":
        raise Unreadable(_html_where())
    if root.tag != f"{ATOM}feed":
        local = root.tag.rpartition("}")[2]
        raise Unreadable(f"XML with a <{local}> root where an Atom feed was expected")
    total_text = (root.findtext(f"{OPENSEARCH}totalResults") or "").strip()
    if not total_text.isdigit():
        raise Unreadable(
            "an Atom feed without opensearch:totalResults (not arXiv's export API: a proxy?)"
        )
    papers: dict[str, Facts] = {}
    rejected: dict[str, str] = {}
    doubts: list[str] = []
    for entry in root.findall(f"{ATOM}entry"):
        title = " ".join((entry.findtext(f"{ATOM}title") or "").split())
        entry_id = (entry.findtext(f"{ATOM}id") or "").strip()
        match = _PAPER.search(urlsplit(entry_id).path)
        if "/api/errors" in entry_id or (title == "Error" and not match):
            summary = " ".join((entry.findtext(f"{ATOM}summary") or "").split())
            named = _INCORRECT_ID.search(summary) or _INCORRECT_ID.search(
                unquote(entry_id.partition("#")[2]).replace("_", " ")
            )
            if named:
                rejected[named["id"]] = summary or f"incorrect id format for {named['id']}"
            else:
                doubts.append(f"arXiv answered an error: {summary or entry_id or 'no detail'}")
            continue
        if not match:
            doubts.append(f"arXiv's feed has an entry monitor cannot read (id {entry_id[:80]!r})")
            continue
        papers[match["id"]] = _facts(entry, match["id"], match["version"], title)
    return Feed(int(total_text), papers, rejected, doubts)


def _facts(entry: ET.Element, paper: str, version: str | None, title: str) -> Facts:
    comment = entry.findtext(f"{ARXIV}comment") or ""
    updated = (entry.findtext(f"{ATOM}updated") or "").strip()
    try:
        last = datetime.fromisoformat(updated.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        last = None
    return Facts(
        name=paper,
        url=f"https://arxiv.org/abs/{paper}",
        version=version,
        title=title or None,
        last_commit=last,
        withdrawn="withdrawn" in comment.lower(),
    )


def _html_where() -> str:
    return "HTML where an Atom feed was expected (a captive portal or proxy?)"


def _start(raw: bytes) -> bytes:
    """The first bytes of a body, past a byte-order mark and blanks, lower-cased."""
    return raw[:1024].removeprefix(b"\xef\xbb\xbf").lstrip().lower()


def _looks_html(raw: bytes) -> bool:
    start = _start(raw)
    return start.startswith((b"<!doctype html", b"<html")) or (
        start.startswith((b"<?xml", b"<!--")) and b"<html" in start and b"<feed" not in start
    )


def _has_doctype(raw: bytes) -> bool:
    """Whether the prolog (before the root element) declares a DTD."""
    prolog = _start(raw)
    prolog = re.sub(rb"^(?:<\?.*?\?>\s*|<!--.*?-->\s*)*", b"", prolog, flags=re.DOTALL)
    return prolog.startswith(b"<!doctype")


def _not_xml(raw: bytes, declared: str, error: ET.ParseError) -> str:
    start = _start(raw)
    if not start:
        return "an empty body where an Atom feed was expected"
    if b"<feed" in start:
        return f"a broken Atom feed ({error}: cut short?)"
    if declared == "application/json" or start[:1] in (b"{", b"["):
        return "JSON where an Atom feed was expected"
    if start.startswith(b"<"):
        return f"malformed XML where an Atom feed was expected ({error})"
    text = " ".join(raw[:80].decode("utf-8", "replace").split())
    return f"plain text ({text!r}) where an Atom feed was expected"


def says_rate_exceeded(raw: bytes) -> bool:
    """arXiv's throttle answers the plain text "Rate exceeded." (whatever the status)."""
    return _start(raw).startswith(_RATE_EXCEEDED)


def throttled(status: int, raw: bytes) -> bool:
    return status in (429, 503) or says_rate_exceeded(raw)


def retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds a `Retry-After` header asks for (delta-seconds or an HTTP date), if any."""
    value = (headers.get("retry-after") or "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
