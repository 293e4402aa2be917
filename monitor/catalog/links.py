"""One link as a document wrote it, and how a written destination becomes links.

The records every reader fills (`Link`, `Extraction`, `Malformed`), the trail of
headings above a line (`Trail`), and `Collector`, the one place where what a
document wrote becomes links:

- a bare URL in prose is cleaned of the prose glued to it (`clean`);
- a destination its author delimited (markdown `(…)`, `<…>`, a reference
  definition, an HTML `href`) is kept exactly as written;
- a delimited destination that is not a URL as written (`[https://…`, a link
  nested in a link, `ttps://…`, `www.…`) is recovered when it can be, with a
  warning, and reported as `Malformed` when it cannot.

The markdown and plain-text reader (`extract`) and the HTML reader (`html`) both
feed a `Collector`; deciding what a URL *is* belongs to `kinds`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

from monitor.catalog.clean import Cleaned, clean, recover

_SCHEME = re.compile(r"https?://", re.IGNORECASE)
# Images that decorate a link rather than name it: shields.io and its kin, CI badges.
_BADGE = re.compile(
    r"^https?://(?:img\.shields\.io|shields\.io|badgen\.net|badge\.fury\.io)/|badge"
    r"|/workflows/[^?#]*\.svg",
    re.IGNORECASE,
)


class TextFrom(StrEnum):
    """Where a link's text came from, best first; the importer names entries by it."""

    LINK = "link"  # the text of a markdown or HTML link
    TABLE = "table"  # a bare URL's table row label (the row's first cell that names something)
    REFERENCE = "reference"  # the label of an unused reference definition `[label]: url`
    NONE = "none"  # a bare URL with nothing around it to name it


@dataclass(frozen=True, slots=True)
class Link:
    """One link as a document wrote it, cleaned of the prose glued to it.

    `text` is the link's own text (or, for a bare URL in a table, its row's label);
    `row` is the label of the table row the link sits in, whatever its text.
    """

    url: str
    document: str
    line: int
    headings: tuple[str, ...]
    text: str = ""
    text_from: TextFrom = TextFrom.NONE
    warnings: tuple[str, ...] = ()
    row: str = ""


@dataclass(frozen=True, slots=True)
class Malformed:
    """A destination that meant to be a web link but holds none: reported, never imported."""

    line: int
    written: str
    reason: str


@dataclass(slots=True)
class Extraction:
    """Everything found in one document."""

    document: str
    title: str
    links: list[Link] = field(default_factory=list)
    skipped_in_code: int = 0
    malformed: list[Malformed] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Heading:
    """A heading of a document: its 0-based line, level (1 for `#`, `<h1>`) and text."""

    line: int
    level: int
    text: str


class Trail:
    """The headings above any line: `Trail(headings).at(line)` gives them outermost first."""

    def __init__(self, headings: list[Heading]) -> None:
        self._headings = headings

    def at(self, line: int) -> tuple[str, ...]:
        stack: list[Heading] = []
        for heading in self._headings:
            if heading.line > line:
                break
            while stack and stack[-1].level >= heading.level:
                stack.pop()
            stack.append(heading)
        return tuple(h.text for h in stack)


def is_badge(src: str) -> bool:
    """True for an image that decorates a link (a shields.io badge) rather than names it."""
    return bool(_BADGE.search(src))


def plain(text: str) -> str:
    """`text` on one line, with runs of whitespace made one space."""
    return " ".join(text.split())


class Collector:
    """Turns what one document wrote into `Link`s of `result`, with `trail` giving headings."""

    def __init__(self, result: Extraction, trail: Trail) -> None:
        self.result = result
        self.trail = trail

    def bare(
        self,
        raw: str,
        line: int,
        *,
        row: str = "",
    ) -> None:
        """A URL written in prose or a table cell: trimmed of the punctuation around it.

        Its text is its table row's label, if it sits in one.
        """
        raw = raw.strip()
        if raw.lower().startswith("www."):
            raw = "http://" + raw
        if not _SCHEME.match(raw):
            return
        source = TextFrom.TABLE if row else TextFrom.NONE
        self._emit(clean(raw), line, row, source, row, ())

    def destination(
        self,
        raw: str,
        line: int,
        *,
        text: str = "",
        text_from: TextFrom = TextFrom.LINK,
        row: str = "",
        warnings: tuple[str, ...] = (),
    ) -> None:
        """A destination its author delimited: kept as written, recovered if malformed."""
        written = raw.strip()
        if _SCHEME.match(written):
            pieces = clean(written, delimited=True)
            if not pieces:
                self.result.malformed.append(
                    Malformed(line, written, "the link destination has no host name")
                )
        else:
            pieces = recover(written)
        self._emit(pieces, line, text, text_from if text else TextFrom.NONE, row, warnings)

    def _emit(
        self,
        pieces: list[Cleaned],
        line: int,
        text: str,
        text_from: TextFrom,
        row: str,
        warnings: tuple[str, ...],
    ) -> None:
        headings = self.trail.at(line - 1)
        for piece in pieces:
            self.result.links.append(
                Link(
                    url=piece.url,
                    document=self.result.document,
                    line=line,
                    headings=headings,
                    text=text,
                    text_from=text_from,
                    warnings=warnings + piece.warnings,
                    row=row,
                )
            )
            # The text and row name the first URL of a glued run; the ones after it lost theirs.
            text, text_from, row = "", TextFrom.NONE, ""
