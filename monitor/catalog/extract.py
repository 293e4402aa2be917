"""Links out of markdown and plain-text documents, each with the context a human would name it by.

The first stage of the pipeline. `read_document` turns a file into text or a
clear `DocumentError`; `extract_links` finds every link a reader would follow:
markdown links, reference definitions, autolinks, bare URLs in prose and tables,
raw `<a href>` tags, and the broken forms hand-written lists really contain
(two URLs glued together, a URL with a space inside `<…>`). Each `Link`
carries the line it is on, the trail of headings above it, and its link text
or table-row label. Deciding what the link *is* belongs to `kinds`; naming and
merging belong to `importer`.

Code is skipped (lychee's default): a `git clone` line in a fenced block is an
instruction, not a catalog entry. In plain-text documents (anything not named
`.md`/`.markdown`) indentation means nothing, so indented lines are prose, and
where there are no markdown headings, short numbered lines stand in for them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from markdown_it import MarkdownIt
from markdown_it.token import Token

from monitor.catalog.clean import URL_STOP, clean
from monitor.errors import DocumentError, Problem

MARKDOWN_SUFFIXES = frozenset({".md", ".markdown", ".mdown", ".mkd", ".mdx"})
DEFAULT_MAX_BYTES = 32 * 1024 * 1024

Progress = Callable[[int, int], None]
"""(done, total) in arbitrary units; called as extraction advances."""


class TextFrom(StrEnum):
    """Where a link's text came from, best first; the importer names entries by it."""

    LINK = "link"  # the text of a markdown link
    TABLE = "table"  # the first cell of the table row the URL sits in
    REFERENCE = "reference"  # the label of an unused reference definition `[label]: url`
    NONE = "none"  # a bare URL with nothing around it to name it


@dataclass(frozen=True, slots=True)
class Link:
    """One link as a document wrote it, cleaned of the prose glued to it."""

    url: str
    document: str
    line: int
    headings: tuple[str, ...]
    text: str = ""
    text_from: TextFrom = TextFrom.NONE
    warnings: tuple[str, ...] = ()


@dataclass(slots=True)
class Extraction:
    """Everything found in one document."""

    document: str
    title: str
    links: list[Link] = field(default_factory=list)
    skipped_in_code: int = 0


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

_BARE = re.compile(
    rf"(?<![A-Za-z0-9./@])(?:https?://|www\.)[^\s<>\"`{URL_STOP}]+",
    re.IGNORECASE,
)
# A destination with whitespace inside is no link to a markdown parser, but it
# is what the author meant to link; keep it (and warn) rather than lose it.
_SPACED = re.compile(
    r"<(https?://[^<>\n]*?\S\s+\S[^<>\n]*)>|\]\((https?://[^()\n]*?\S\s+\S[^()\n]*)\)"
)
_HREF = re.compile(r"""\bhref\s*=\s*["']([^"']+)["']""", re.IGNORECASE)
_REFERENCE = re.compile(r"^ {0,3}\[((?:[^\]\\]|\\.)+)\]:[ \t]*<?([^\s>]+)>?")
_GIT_SSH = re.compile(r"git@([A-Za-z0-9.-]+):([A-Za-z0-9._/-]+?)(?:\.git)?(?=\s|$)")
_FRONT_MATTER_TITLE = re.compile(r"""^title:\s*["']?(.*?)["']?\s*$""")
_NUMBERED_LINE = re.compile(r"^(\d+(?:\.\d+)*)\.?\s*(\S.*)$")


def extract_links(
    text: str,
    document: str,
    *,
    markdown: bool = True,
    include_code: bool = False,
    progress: Progress | None = None,
) -> Extraction:
    """Find every link in `text`, a document named `document` (used in `Link.document`)."""
    lines = text.splitlines()
    title, lines = _strip_front_matter(lines)
    if not markdown:
        # In plain text, indentation is layout, not a code block.
        lines = [line.lstrip() for line in lines]
    source = "\n".join(lines)
    md = MarkdownIt("commonmark", {"html": True}).enable("table")
    # Keep destinations exactly as written; we clean and encode them ourselves.
    md.normalizeLink = lambda url: url  # type: ignore[method-assign]
    md.validateLink = lambda url: True  # type: ignore[method-assign]
    tokens = md.parse(source)

    headings = _markdown_headings(tokens)
    if not headings and not markdown:
        headings = _plain_headings(lines)
    if not title:
        tops = [h for h in headings if h.level == 1]
        if len(tops) == 1 and headings[0] is tops[0]:
            title = tops[0].text
            headings = headings[1:]
    trail = _Trail(headings)

    result = Extraction(document, title)
    code_lines: set[int] = set()
    used_hrefs: set[str] = set()
    total = len(tokens)
    row_label = ""
    for index, token in enumerate(tokens):
        if progress is not None and index % 500 == 0:
            progress(index, total)
        if token.type == "tr_open":
            row_label = ""
        elif token.type in ("fence", "code_block"):
            start, end = token.map or (0, 0)
            code_lines.update(range(start, end))
            result.skipped_in_code += _code_links(
                token.content, token.map, trail, result, document, include_code
            )
        elif token.type == "html_block":
            line = (token.map or (0, 0))[0] + 1
            for match in _HREF.finditer(token.content):
                _add(result, match[1], document, line, trail, "", TextFrom.NONE)
        elif token.type == "inline":
            label = row_label
            if tokens[index - 1].type in ("th_open", "td_open") and not row_label:
                row_label = _plain_text(token.children or [])
                label = ""
            _inline(token, trail, result, document, label, used_hrefs, include_code)
    _unused_references(lines, code_lines, used_hrefs, trail, result, document)
    if progress is not None:
        progress(total, total)
    return result


@dataclass(frozen=True, slots=True)
class _Heading:
    line: int  # 0-based
    level: int
    text: str


class _Trail:
    """The headings above any line: `_Trail(headings).at(line)` gives them outermost first."""

    def __init__(self, headings: list[_Heading]) -> None:
        self._headings = headings

    def at(self, line: int) -> tuple[str, ...]:
        stack: list[_Heading] = []
        for heading in self._headings:
            if heading.line > line:
                break
            while stack and stack[-1].level >= heading.level:
                stack.pop()
            stack.append(heading)
        return tuple(h.text for h in stack)


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


def _markdown_headings(tokens: list[Token]) -> list[_Heading]:
    found = []
    for index, token in enumerate(tokens):
        if token.type == "heading_open":
            inline = tokens[index + 1]
            text = _plain_text(inline.children or [])
            found.append(_Heading((token.map or (0, 0))[0], int(token.tag[1]), text))
    return found


def _plain_headings(lines: list[str]) -> list[_Heading]:
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
        found.append(_Heading(number, level, text))
    return found


def _plain_text(children: list[Token]) -> str:
    parts = []
    for child in children:
        if child.type in ("text", "code_inline", "text_special"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif child.type == "image":
            parts.append(_plain_text(child.children or []))
    return " ".join("".join(parts).split())


def _add(
    result: Extraction,
    raw: str,
    document: str,
    line: int,
    trail: _Trail,
    text: str,
    text_from: TextFrom,
    warnings: tuple[str, ...] = (),
    *,
    as_written: bool = False,
) -> None:
    raw = raw.strip()
    if raw.lower().startswith("www."):
        raw = "http://" + raw
    if not re.match(r"https?://", raw, re.IGNORECASE):
        return  # anchors, relative links, mailto: — nothing a monitor can check
    headings = trail.at(line - 1)
    for piece in clean(raw, as_written=as_written):
        result.links.append(
            Link(
                url=piece.url,
                document=document,
                line=line,
                headings=headings,
                text=text,
                text_from=text_from if text else TextFrom.NONE,
                warnings=warnings + piece.warnings,
            )
        )
        # The text names the first URL of a glued run; the ones after it lost their own.
        text = ""


def _inline(
    token: Token,
    trail: _Trail,
    result: Extraction,
    document: str,
    row_label: str,
    used_hrefs: set[str],
    include_code: bool,
) -> None:
    line = (token.map or (0, 0))[0] + 1
    children = token.children or []
    index = 0
    while index < len(children):
        child = children[index]
        if child.type in ("softbreak", "hardbreak"):
            line += 1
        elif child.type == "link_open":
            href = str(child.attrs.get("href", ""))
            depth, end = 1, index + 1
            while end < len(children) and depth:
                depth += {"link_open": 1, "link_close": -1}.get(children[end].type, 0)
                end += 1
            text = _plain_text(children[index + 1 : end - 1])
            used_hrefs.add(href.strip())
            if child.markup == "autolink" or text.strip() == href.strip():
                text, source = row_label, TextFrom.TABLE if row_label else TextFrom.NONE
            else:
                source = TextFrom.LINK
            _add(result, href, document, line, trail, text, source)
            line += sum(1 for c in children[index:end] if c.type in ("softbreak", "hardbreak"))
            index = end
            continue
        elif child.type == "text":
            _bare(child.content, line, trail, result, document, row_label)
        elif child.type == "html_inline":
            for match in _HREF.finditer(child.content):
                _add(result, match[1], document, line, trail, "", TextFrom.NONE)
        elif child.type == "code_inline":
            result.skipped_in_code += _code_links(
                child.content, (line - 1, line), trail, result, document, include_code
            )
        index += 1


def _bare(
    content: str, line: int, trail: _Trail, result: Extraction, document: str, row_label: str
) -> None:
    source = TextFrom.TABLE if row_label else TextFrom.NONE
    for match in _SPACED.finditer(content):
        written = match[1] or match[2]
        warning = (
            f"the document links to {written!r}, which has a space inside; "
            "kept as written, fix it in the document"
        )
        _add(result, written, document, line, trail, row_label, source, (warning,), as_written=True)
    masked = _SPACED.sub(lambda m: " " * len(m[0]), content)
    for match in _BARE.finditer(masked):
        _add(result, match[0], document, line, trail, row_label, source)


def _code_links(
    content: str,
    span: tuple[int, int] | list[int] | None,
    trail: _Trail,
    result: Extraction,
    document: str,
    include: bool,
) -> int:
    """Links inside code: counted, and extracted only when asked (`--include-code`)."""
    first = (span or (0, 0))[0] + 1
    found = 0
    for offset, text in enumerate(content.splitlines()):
        urls = [m[0] for m in _BARE.finditer(text)]
        urls += [f"https://{m[1]}/{m[2]}" for m in _GIT_SSH.finditer(text)]
        found += len(urls)
        if include:
            for url in urls:
                _add(result, url, document, first + offset, trail, "", TextFrom.NONE)
    return 0 if include else found


def _unused_references(
    lines: list[str],
    code_lines: set[int],
    used_hrefs: set[str],
    trail: _Trail,
    result: Extraction,
    document: str,
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
        _add(result, href, document, number + 1, trail, label, TextFrom.REFERENCE)
