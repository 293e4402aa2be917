"""Links out of markdown, plain-text and HTML documents, with the context a human names them by.

The first stage of the pipeline. `read_document` turns a file into text or a
clear `DocumentError`; `extract_links` finds every link a reader would follow:
markdown links, reference definitions, autolinks, bare URLs in prose and tables,
HTML links (`html_links`), and the broken forms hand-written lists really
contain (two URLs glued together, a URL with a space inside `<…>`, a
destination such as `[https://…`). Each `Link` carries the line it is on, the
trail of headings above it, its link text, and its table row's label (the
row's first cell that names something; it names links in that row only).
Deciding what the link *is* belongs to `kinds`; naming and merging belong to
`importer` and `naming`.

Code is skipped (lychee's default): a `git clone` line in a fenced block, inline
code, or HTML `<pre>`/`<code>`, is an instruction, not a catalog entry;
`include_code` takes it too. In plain-text documents (anything not named
`.md`/`.markdown` or `.html`/`.htm`) indentation means nothing, so indented
lines are prose, and where there are no markdown headings, short numbered lines
stand in for them. HTML documents are read as HTML: links come from elements,
not from text (see `html_links`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path

from markdown_it import MarkdownIt
from markdown_it.token import Token

from monitor.catalog.clean import URL_STOP
from monitor.catalog.html_links import (
    CODE_TAGS,
    EMBED_ATTRIBUTES,
    CodeText,
    Found,
    HtmlReader,
    read_tag,
    row_of,
    text_of,
)
from monitor.catalog.links import (
    Collector,
    Extraction,
    Heading,
    Link,
    Malformed,
    TextFrom,
    Trail,
    is_badge,
    plain,
)
from monitor.catalog.naming import is_generic, names_something
from monitor.errors import DocumentError, Problem

__all__ = [
    "DEFAULT_MAX_BYTES",
    "HTML_SUFFIXES",
    "MARKDOWN_SUFFIXES",
    "Extraction",
    "Link",
    "Malformed",
    "Progress",
    "TextFrom",
    "extract_links",
    "read_document",
]

MARKDOWN_SUFFIXES = frozenset({".md", ".markdown", ".mdown", ".mkd", ".mdx"})
HTML_SUFFIXES = frozenset({".html", ".htm", ".xhtml"})
DEFAULT_MAX_BYTES = 32 * 1024 * 1024
#: A table row is labelled by the first of its first cells that names something.
ROW_LABEL_CELLS = 3

Progress = Callable[[int, int], None]
"""(done, total) in arbitrary units; called as extraction advances."""


# --- reading -----------------------------------------------------------------------------------


def human_size(count: int) -> str:
    """A size in bytes as people read it: 812 bytes, 3.4 KB, 12.0 MB."""
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if count >= scale:
            return f"{count / scale:.1f}".removesuffix(".0") + f" {unit}"
    return f"{count} bytes"


def _size_option(count: int) -> str:
    """The smallest whole --max-size that lets `count` bytes through."""
    for unit, scale in (("MB", 1 << 20), ("KB", 1 << 10)):
        if count >= scale:
            return f"{count // scale + 1}{unit}"
    return f"{count}B"


def read_document(path: Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> str:
    """Read `path` as UTF-8 text, or raise `DocumentError` saying what is wrong and what to do."""
    where = str(path)

    def fail(message: str, hint: str | None = None) -> DocumentError:
        return DocumentError([Problem(where, message, hint=hint)])

    try:
        size = path.stat().st_size
        if path.is_dir():
            raise fail("is a directory, not a document", "name the markdown or text files in it")
    except FileNotFoundError:
        raise fail(
            "no such file", "check the path; globs like docs/*.md are expanded by the shell"
        ) from None
    except PermissionError:
        raise fail("permission denied", "make the file readable by this user") from None
    if size > max_bytes:
        raise fail(
            f"is {human_size(size)}, more than the {human_size(max_bytes)} limit",
            f"pass --max-size {_size_option(size)} if it really is one document",
        )
    data = path.read_bytes()
    if not data.strip():
        raise fail("is empty", "there are no links to import")
    if b"\x00" in data[:8192] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise fail("is a binary file, not text", "give a markdown or plain-text document")
    for encoding in ("utf-8-sig", "utf-16"):
        if encoding == "utf-16" and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
            continue
        try:
            return data.decode(encoding)
        except UnicodeDecodeError as exc:
            bad = exc.start
    raise fail(
        f"is not UTF-8 text (byte 0x{data[bad]:02x} at offset {bad})",
        "convert it first, e.g. iconv -f GB18030 -t UTF-8 FILE > FILE.utf8",
    )


# --- extraction --------------------------------------------------------------------------------

# A bare URL ends at whitespace, quotes, brackets and CJK punctuation; an IPv6 host keeps its own.
_BARE = re.compile(
    rf"(?<![A-Za-z0-9./@])(?:https?://(?:\[[0-9A-Fa-f:.]+\])?|www\.)[^\s<>\"`\[\]{URL_STOP}]+",
    re.IGNORECASE,
)
# A destination with whitespace inside is no link to a markdown parser, but it
# is what the author meant to link; keep it (and warn) rather than lose it.
_SPACED = re.compile(
    r"<(https?://[^<>\n]*?\S\s+\S[^<>\n]*)>|\]\((https?://[^()\n]*?\S\s+\S[^()\n]*)\)"
)
_REFERENCE = re.compile(r"^ {0,3}\[((?:[^\]\\]|\\.)+)\]:[ \t]*<?([^\s>]+)>?")
_GIT_SSH = re.compile(r"git@([A-Za-z0-9.-]+):([A-Za-z0-9._/-]+?)(?:\.git)?(?=\s|$)")
_FRONT_MATTER_TITLE = re.compile(r"""^title:\s*["']?(.*?)["']?\s*$""")
_NUMBERED_LINE = re.compile(r"^(\d+(?:\.\d+)*)\.?\s*(\S.*)$")


def extract_links(
    text: str,
    document: str,
    *,
    markdown: bool = True,
    html: bool = False,
    include_code: bool = False,
    progress: Progress | None = None,
) -> Extraction:
    """Find every link in `text`, a document named `document` (used in `Link.document`).

    `html` reads it as an HTML document; else `markdown` says whether it is
    markdown (indentation is code) or plain text (indentation is layout).
    """
    if html:
        return _extract_html(text, document, include_code, progress)
    lines = text.splitlines()
    title, lines = _strip_front_matter(lines)
    if not markdown:
        # In plain text, indentation is layout, not a code block.
        lines = [line.lstrip() for line in lines]
    md = MarkdownIt("commonmark", {"html": True}).enable("table")
    # Keep destinations exactly as written; we clean and encode them ourselves.
    md.normalizeLink = lambda url: url  # type: ignore[method-assign]
    md.validateLink = lambda url: True  # type: ignore[method-assign]
    tokens = md.parse("\n".join(lines))

    headings = _markdown_headings(tokens)
    if not headings and not markdown:
        headings = _plain_headings(lines)
    title, headings = _title(title, headings)
    result = Extraction(document, title)
    reader = _MarkdownReader(Collector(result, Trail(headings)), include_code)
    reader.read(tokens, progress)
    _unused_references(lines, reader.code_lines, reader.used_hrefs, reader.collector)
    return result


def row_label(cells: Sequence[str]) -> str:
    """A table row's label: the first of its first cells that names something, else ""."""
    for cell in cells[:ROW_LABEL_CELLS]:
        if names_something(cell):
            return cell
    return ""


def code_urls(text: str) -> list[str]:
    """The URLs in code: bare ones, and `git@host:owner/repo.git` as `https://host/owner/repo`."""
    urls = [m[0] for m in _BARE.finditer(text)]
    return urls + [f"https://{m[1]}/{m[2]}" for m in _GIT_SSH.finditer(text)]


def _title(title: str, headings: list[Heading]) -> tuple[str, list[Heading]]:
    """The document's title: its own, else a lone top heading that opens it (taken out, as
    it is when it only repeats the title, like an HTML page's `<h1>` its `<title>`)."""
    tops = [h for h in headings if h.level == 1]
    if len(tops) == 1 and headings[0] is tops[0] and (not title or title == tops[0].text):
        return tops[0].text, headings[1:]
    return title, headings


class _MarkdownReader:
    """Walks markdown-it's tokens, handing every destination to a `Collector`."""

    def __init__(self, collector: Collector, include_code: bool) -> None:
        self.collector = collector
        self.include_code = include_code
        self.code_lines: set[int] = set()
        self.used_hrefs: set[str] = set()
        self.html = HtmlReader()  # one for all HTML blocks: `<pre>` may span several

    def read(self, tokens: list[Token], progress: Progress | None) -> None:
        rows = _row_labels(tokens)
        total = len(tokens)
        for index, token in enumerate(tokens):
            if progress is not None and index % 500 == 0:
                progress(index, total)
            if token.type in ("fence", "code_block"):
                start, end = token.map or (0, 0)
                self.code_lines.update(range(start, end))
                self.code(token.content, start + 1)
            elif token.type == "html_block":
                self.html.feed_at(token.content, (token.map or (0, 0))[0] + 1)
                drain_html(self.html, self.collector, self.include_code)
            elif token.type == "inline":
                self.inline(token, rows.get(index, ""))
        if progress is not None:
            progress(total, total)

    def code(self, content: str, first: int) -> None:
        """Links inside code: counted, and extracted only when asked (`--include-code`)."""
        for offset, text in enumerate(content.splitlines()):
            take_code(text, first + offset, self.collector, self.include_code)

    def inline(self, token: Token, row: str) -> None:
        line = (token.map or (0, 0))[0] + 1
        children = token.children or []
        anchor: Found | None = None  # an open inline `<a href>`: text up to `</a>` is its text
        code_depth = 0  # inside inline `<code>`…`</code>`
        index = 0
        while index < len(children):
            child = children[index]
            if child.type in ("softbreak", "hardbreak"):
                line += 1
            elif child.type == "link_open":
                end = _link_end(children, index)
                self.link(child, children[index + 1 : end - 1], line, row)
                line += sum(1 for c in children[index:end] if c.type in ("softbreak", "hardbreak"))
                index = end
                continue
            elif child.type in ("text", "text_special"):
                if code_depth:
                    self.code(child.content, line)
                elif anchor is not None:
                    anchor.parts.append(child.content)
                else:
                    self.bare(child.content, line, row)
            elif child.type == "image" and anchor is not None:
                if not is_badge(str(child.attrs.get("src", ""))):
                    anchor.parts.append(_plain_text(child.children or []))
            elif child.type == "code_inline":
                self.code(child.content, line)
            elif child.type == "html_inline":
                tag = read_tag(child.content)
                if tag is None:
                    pass
                elif tag.name in CODE_TAGS:
                    code_depth = max(0, code_depth + (-1 if tag.closing else 1))
                elif tag.name == "a":
                    self.anchor(anchor, row)
                    href = tag.attrs.get("href", "")
                    title = tag.attrs.get("title", "")
                    anchor = Found(href, line, fallback=title) if href and not tag.closing else None
                elif tag.name == "img" and anchor is not None and not tag.closing:
                    if not is_badge(tag.attrs.get("src", "")):
                        anchor.parts.append(tag.attrs.get("alt", ""))
                elif tag.name in EMBED_ATTRIBUTES and tag.attrs.get("src"):
                    title = tag.attrs.get("title", "")
                    self.anchor(Found(tag.attrs["src"], line, fallback=title), row)
                elif tag.name == "area" and tag.attrs.get("href"):
                    alt = tag.attrs.get("alt", "") or tag.attrs.get("title", "")
                    self.anchor(Found(tag.attrs["href"], line, fallback=alt), row)
            index += 1
        self.anchor(anchor, row)

    def link(self, link_open: Token, inside: list[Token], line: int, row: str) -> None:
        """A markdown link (inline, reference or autolink): its destination is delimited."""
        href = str(link_open.attrs.get("href", ""))
        text = _plain_text(inside)
        self.used_hrefs.add(href.strip())
        if link_open.markup == "autolink" or text.strip() == href.strip():
            self.collector.destination(href, line, text=row, text_from=TextFrom.TABLE, row=row)
        else:
            self.collector.destination(href, line, text=text, row=row)

    def anchor(self, anchor: Found | None, row: str) -> None:
        """An inline HTML link, once its text is known."""
        if anchor is not None:
            self.collector.destination(anchor.href, anchor.line, text=text_of(anchor), row=row)

    def bare(self, content: str, line: int, row: str) -> None:
        """URLs written in prose: spaced destinations kept (and warned), bare ones trimmed."""
        for match in _SPACED.finditer(content):
            written = match[1] or match[2]
            warning = (
                f"the document links to {written!r}, which has a space inside; "
                "kept as written, fix it in the document"
            )
            self.collector.destination(
                written,
                line,
                text=row,
                text_from=TextFrom.TABLE,
                row=row,
                warnings=(warning,),
            )
        masked = _SPACED.sub(lambda m: " " * len(m[0]), content)
        for match in _BARE.finditer(masked):
            self.collector.bare(match[0], line, row=row)


def take_code(text: str, line: int, collector: Collector, include: bool) -> None:
    """The URLs in one line of code: taken with `include`, else counted as skipped."""
    urls = code_urls(text)
    if include:
        for url in urls:
            collector.bare(url, line)
    else:
        collector.result.skipped_in_code += len(urls)


def drain_html(reader: HtmlReader, collector: Collector, include_code: bool) -> None:
    """Hand what `reader` has found so far to `collector`, in document order."""
    items: list[tuple[int, Found | CodeText]] = [(f.line, f) for f in reader.take()]
    items += [(c.line, c) for c in reader.take_code()]
    # Stable: on one line, links come before code text.
    items.sort(key=lambda entry: (entry[0], isinstance(entry[1], CodeText)))
    for _, item in items:
        if isinstance(item, Found):
            collector.destination(
                item.href, item.line, text=text_of(item), row=row_of(item, row_label)
            )
        else:
            for offset, text in enumerate(item.text.split("\n")):
                take_code(text, item.line + offset, collector, include_code)


def _extract_html(
    text: str, document: str, include_code: bool, progress: Progress | None
) -> Extraction:
    reader = HtmlReader()
    reader.feed_at(text, 1)
    reader.close()
    title, headings = _title(reader.title, sorted(reader.headings, key=lambda h: h.line))
    result = Extraction(document, title)
    drain_html(reader, Collector(result, Trail(headings)), include_code)
    if progress is not None:
        progress(1, 1)
    return result


def _link_end(children: list[Token], index: int) -> int:
    """The index just past the `link_close` matching the `link_open` at `index`."""
    depth, end = 1, index + 1
    while end < len(children) and depth:
        depth += {"link_open": 1, "link_close": -1}.get(children[end].type, 0)
        end += 1
    return end


def _row_labels(tokens: list[Token]) -> dict[int, str]:
    """For each inline token inside a table row, the row's label (see `row_label`)."""
    labels: dict[int, str] = {}
    index = 0
    while index < len(tokens):
        if tokens[index].type == "tr_open":
            cells: list[int] = []
            index += 1
            while index < len(tokens) and tokens[index].type != "tr_close":
                if tokens[index].type == "inline":
                    cells.append(index)
                index += 1
            label = row_label([_cell_text(tokens[i].children or []) for i in cells])
            labels.update(dict.fromkeys(cells, label))
        index += 1
    return labels


def _cell_text(children: list[Token]) -> str:
    """A cell's text as a row label: links that name nothing ("Paper", "🤗") left out."""
    parts: list[str] = []
    index = 0
    while index < len(children):
        if children[index].type == "link_open":
            end = _link_end(children, index)
            text = _plain_text(children[index + 1 : end - 1])
            if not is_generic(text):
                parts.append(text)
            index = end
            continue
        parts.append(_plain_text(children[index : index + 1]))
        index += 1
    return plain(" ".join(parts))


def _strip_front_matter(lines: list[str]) -> tuple[str, list[str]]:
    """Blank a YAML front matter block (keeping line numbers) and return its title."""
    if not lines or lines[0].strip() != "---":
        return "", lines
    for end in range(1, min(len(lines), 200)):
        if lines[end].strip() in ("---", "..."):
            title = ""
            for line in lines[1:end]:
                match = _FRONT_MATTER_TITLE.match(line)
                if match:
                    title = match[1]
            return title, [""] * (end + 1) + lines[end + 1 :]
    return "", lines


def _markdown_headings(tokens: list[Token]) -> list[Heading]:
    """Markdown headings, and HTML `<h1>`…`<h6>` written in HTML blocks, in line order."""
    found = []
    for index, token in enumerate(tokens):
        if token.type == "heading_open":
            inline = tokens[index + 1]
            text = _plain_text(inline.children or [])
            found.append(Heading((token.map or (0, 0))[0], int(token.tag[1]), text))
        elif token.type == "html_block" and "<h" in token.content.lower():
            reader = HtmlReader()
            start = (token.map or (0, 0))[0]
            reader.feed_at(token.content, 1)
            reader.close()
            found.extend(Heading(start + h.line, h.level, h.text) for h in reader.headings)
    return sorted(found, key=lambda h: h.line)


def _plain_headings(lines: list[str]) -> list[Heading]:
    """Short lines standing alone between blank lines, like `2.3.1 LLaMA` or `References`."""
    found = []
    for number, line in enumerate(lines):
        text = line.strip()
        alone = (number == 0 or not lines[number - 1].strip()) and (
            number + 1 == len(lines) or not lines[number + 1].strip()
        )
        if not alone or not text or len(text) > 40 or "://" in text:
            continue
        if text[-1] in ".,;:!?。，；：！？、)）]" or "\t" in text or "|" in text:
            continue
        numbered = _NUMBERED_LINE.match(text)
        level = numbered[1].count(".") + 1 if numbered else 1
        found.append(Heading(number, level, text))
    return found


def _plain_text(children: list[Token]) -> str:
    """The text a reader sees: images by their alt text, except badges (shields.io…)."""
    parts = []
    for child in children:
        if child.type in ("text", "code_inline", "text_special"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif child.type == "image" and not is_badge(str(child.attrs.get("src", ""))):
            parts.append(_plain_text(child.children or []))
    return plain("".join(parts))


def _unused_references(
    lines: list[str], code_lines: set[int], used_hrefs: set[str], collector: Collector
) -> None:
    """Reference definitions no link used: they are links of the document all the same."""
    seen: set[str] = set()
    for number, text in enumerate(lines):
        if number in code_lines:
            continue
        match = _REFERENCE.match(text)
        if not match:
            continue
        label, href = match[1].strip(), match[2].strip()
        if href in used_hrefs or href in seen:
            continue
        seen.add(href)
        collector.destination(href, number + 1, text=label, text_from=TextFrom.REFERENCE)
