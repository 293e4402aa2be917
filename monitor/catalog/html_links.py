"""Links in HTML: whole `.html` documents, and the HTML blocks and tags inside markdown.

HTML is read as a browser reads it, with the standard library's tolerant
parser: quoted or unquoted attributes (`<a href=https://…>`), entities decoded,
comments ignored. What counts as a link, in a document or a block alike:

- `href` of `<a>` and `<area>`, named by the element's text (images inside count
  by their `alt`, except badges such as shields.io), or its `title`;
- `src` of embedded players a reader follows (`<iframe>`, `<embed>`, `<video>`,
  `<audio>`, `<source>`).

Not links: text (a URL written as text in HTML is not clickable), `<img src>`
(images and badges decorate), `<link>`, `<script>` and `<style>`. URLs written
inside `<pre>`, `<code>`, `<kbd>`, `<samp>` and `<tt>` are code: counted, and
taken only with `--include-code`. A link in a table row (`<tr>`) carries the
row's label, as in markdown tables; `<h1>`…`<h6>` are headings and `<title>`
the document's title.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser

from monitor.catalog.links import Heading, is_badge, plain

LINK_ATTRIBUTES = {"a": "href", "area": "href"}
EMBED_ATTRIBUTES = {
    "iframe": "src",
    "embed": "src",
    "video": "src",
    "audio": "src",
    "source": "src",
}
CODE_TAGS = frozenset({"pre", "code", "kbd", "samp", "tt"})
HIDDEN_TAGS = frozenset({"script", "style", "template", "textarea"})
HEADING_TAGS = {f"h{level}": level for level in range(1, 7)}

RowLabel = Callable[[list[str]], str]
"""Picks a table row's label from its cells' texts, in order."""


@dataclass(slots=True)
class Row:
    """A table row being read: its cells' text so far."""

    cells: list[list[str]] = field(default_factory=list)


@dataclass(slots=True)
class Found:
    """A link found in HTML: its destination as written, its line, text and row."""

    href: str
    line: int
    parts: list[str] = field(default_factory=list)
    fallback: str = ""  # the element's title or alt: its text when it shows none
    row: Row | None = None


@dataclass(slots=True)
class CodeText:
    """Text inside a code element, starting on `line`."""

    text: str
    line: int


@dataclass(frozen=True, slots=True)
class Tag:
    """One HTML tag as written inline in markdown."""

    name: str
    attrs: dict[str, str]
    closing: bool


class HtmlReader(HTMLParser):
    """Reads HTML fed to it (`feed_at`), collecting `found` links, code text and headings."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[Found] = []
        self.code: list[CodeText] = []
        self.headings: list[Heading] = []
        self.title = ""
        self._fed_lines = 0  # lines fed so far, so `feed_at` can keep document line numbers
        self._code_depth = 0
        self._hidden_depth = 0
        self._anchor: Found | None = None
        self._rows: list[Row] = []
        self._heading: tuple[int, int, list[str]] | None = None
        self._title: list[str] | None = None

    # --- feeding ----------------------------------------------------------------------------

    def feed_at(self, text: str, line: int) -> None:
        """Feed `text`, which starts on 1-based document line `line` (never before the last)."""
        if line > self._fed_lines + 1:
            self.feed("\n" * (line - 1 - self._fed_lines))
            self._fed_lines = line - 1
        if not text.endswith("\n"):
            text += "\n"
        self.feed(text)
        self._fed_lines += text.count("\n")

    def take(self) -> list[Found]:
        """The links found since the last `take`, in document order."""
        found, self.found = self.found, []
        return found

    def take_code(self) -> list[CodeText]:
        """The code text found since the last `take_code`."""
        code, self.code = self.code, []
        return code

    # --- parser events ----------------------------------------------------------------------

    def _line(self) -> int:
        return self.getpos()[0]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag in HIDDEN_TAGS:
            self._hidden_depth += 1
        elif tag in CODE_TAGS:
            self._code_depth += 1
        elif tag == "tr":
            self._rows.append(Row())
        elif tag in ("td", "th") and self._rows:
            self._rows[-1].cells.append([])
        elif tag in HEADING_TAGS:
            self._heading = (self._line() - 1, HEADING_TAGS[tag], [])
        elif tag == "title":
            self._title = []
        if tag in LINK_ATTRIBUTES and values.get("href"):
            self._anchor = None
            fallback = values.get("title") or values.get("alt") or ""
            found = Found(values["href"], self._line(), fallback=fallback, row=self._row())
            self.found.append(found)
            if tag == "a":
                self._anchor = found
        elif tag in EMBED_ATTRIBUTES and values.get("src"):
            fallback = values.get("title") or ""
            self.found.append(
                Found(values["src"], self._line(), fallback=fallback, row=self._row())
            )
        elif tag == "img":
            alt = values.get("alt") or ""
            if alt and not is_badge(values.get("src") or ""):
                self._text(alt)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        # Browsers ignore the slash of `<a href=x />`: the element stays open.
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag in HIDDEN_TAGS:
            self._hidden_depth = max(0, self._hidden_depth - 1)
        elif tag in CODE_TAGS:
            self._code_depth = max(0, self._code_depth - 1)
        elif tag == "a":
            self._anchor = None
        elif tag == "tr" and self._rows:
            self._rows.pop()
        elif tag == "table":
            self._rows.clear()
        elif tag in HEADING_TAGS and self._heading is not None:
            line, level, parts = self._heading
            self.headings.append(Heading(line, level, plain("".join(parts))))
            self._heading = None
        elif tag == "title" and self._title is not None:
            self.title = plain("".join(self._title))
            self._title = None

    def handle_data(self, data: str) -> None:
        if self._hidden_depth:
            return
        if self._code_depth and self._anchor is None:  # an anchor's text is its own
            self.code.append(CodeText(data, self._line()))
        self._text(data)

    # --- helpers ----------------------------------------------------------------------------

    def _text(self, data: str) -> None:
        if self._anchor is not None:
            self._anchor.parts.append(data)
        if self._rows and self._rows[-1].cells:
            self._rows[-1].cells[-1].append(data)
        if self._heading is not None:
            self._heading[2].append(data)
        if self._title is not None:
            self._title.append(data)

    def _row(self) -> Row | None:
        return self._rows[-1] if self._rows else None


def text_of(found: Found) -> str:
    """A found link's text: what the element shows, else its `title`/`alt`."""
    return plain("".join(found.parts)) or plain(found.fallback)


def row_of(found: Found, label: RowLabel) -> str:
    """The label of the row `found` sits in ("" outside tables)."""
    if found.row is None:
        return ""
    return label([plain("".join(cell)) for cell in found.row.cells])


class _OneTag(HTMLParser):
    """Collects the tags of a short piece of HTML."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[Tag] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(Tag(tag, {k: v or "" for k, v in attrs}, closing=False))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        self.tags.append(Tag(tag, {}, closing=True))


def read_tag(content: str) -> Tag | None:
    """The one tag an inline HTML token holds (`<a href=x>`, `</code>`), or None (a comment)."""
    parser = _OneTag()
    parser.feed(content)
    parser.close()
    return parser.tags[0] if parser.tags else None
