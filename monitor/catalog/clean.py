"""Where a URL written in a document really begins and ends.

Curated lists are written by hand, and their URLs arrive glued to the text
around them: `…/openai-translator。` (a CJK full stop), `…/alpacahttps://github.com/…`
(two URLs with the line break lost), `(see https://x.org/a)` (a closing
parenthesis that belongs to the sentence). `clean(raw)` turns one such run of
characters into the URLs it really holds, each with the warnings a human
should read. It knows the URL grammar of GitHub, the Hugging Face Hub and arXiv,
which lets it cut prose off a repository name; for other hosts it only trims
what can never end a URL.

Trimming is for bare URLs in prose only. A destination its author delimited —
markdown `(…)`, `<…>`, a reference definition, an HTML `href` — ends where the
author said: `clean(raw, delimited=True)` keeps `…/wiki/变换器_（机器学习）` and
`…/smth.` whole, and only splits URLs that were plainly glued together.
`recover(raw)` reads the destinations that are not URLs as written
(`[https://…`, `[a](b)` nested inside `(…)`, `ttps://…`, `www.…`) and gives
back what the author meant, always with a warning, since the document needs
fixing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

#: Characters that end a URL wherever they appear: CJK punctuation, full-width
#: forms, typographic quotes and ellipses never occur unescaped in a bare link.
URL_STOP = "\u3000-\u303f\uff00-\uff65\u2018-\u201f\u2026\u00b7"
_STOP = re.compile(f"[{URL_STOP}]")
_SCHEME = re.compile(r"https?://", re.IGNORECASE)
_TRAILING = ".,:;!?*_~'\"`"
_OPENING = "([{<"
_PAIRS = {")": "(", "]": "[", "}": "{"}

#: Hosts whose URLs legitimately hold another URL in their path
#: (`https://web.archive.org/web/2023/https://github.com/o/r`).
WRAPPER_HOSTS = frozenset(
    """web.archive.org archive.org archive.ph archive.today archive.is archive.li
    webcache.googleusercontent.com r.jina.ai""".split()
)

# The part of a URL that names the resource on hosts whose names we know. What
# follows it must start a path, query or fragment; anything else is prose.
_KNOWN_HEADS = (
    re.compile(r"https?://(?:www\.)?github\.com(?:/[A-Za-z0-9-]+(?:/[A-Za-z0-9._-]+)?)?", re.I),
    re.compile(
        r"https?://(?:www\.)?(?:huggingface|hf)\.co(?:/(?:datasets|spaces))?"
        r"(?:/[A-Za-z0-9._-]+(?:/[A-Za-z0-9._-]+)?)?",
        re.I,
    ),
    re.compile(
        r"https?://(?:www\.|export\.)?arxiv\.org/(?:abs|pdf)/"
        r"(?:\d{4}\.\d{4,5}|[a-z-]+(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?(?:\.pdf)?",
        re.I,
    ),
)

# Inside a malformed destination: every URL, up to a bracket, quote or space.
_INNER_URL = re.compile(r"https?://[^\s\[\]<>\"'`]+", re.IGNORECASE)
# A scheme mistyped (`ttps://`, `http//`, `https:/`) or missing (`//host`).
_BAD_SCHEME = re.compile(r"^(h?t?t?p?(s?))(?::/{1,3}|:?//)(?=[^/\s])", re.IGNORECASE)
_SCHEMELESS = re.compile(
    r"^(?:www\.|(?:github\.com|huggingface\.co|hf\.co|arxiv\.org)/)[^\s]*$", re.IGNORECASE
)


@dataclass(frozen=True, slots=True)
class Cleaned:
    """One URL recovered from a run of text, and what a human should know about it."""

    url: str
    warnings: tuple[str, ...] = ()


def clean(raw: str, *, delimited: bool = False) -> list[Cleaned]:
    """Split `raw` into the URLs it holds, trimmed of the prose glued to them.

    With `delimited`, `raw` is a destination its author delimited: it is kept
    exactly as written (spaces, a final `.` or `_`, CJK brackets and all), and
    only split where two URLs were glued together.
    """
    run = raw.strip() if delimited else _STOP.split(raw, maxsplit=1)[0]
    starts = [0, *(m.start() for m in _SCHEME.finditer(run) if _glued_at(run, m.start()))]
    pieces = [run[a:b] for a, b in zip(starts, [*starts[1:], len(run)], strict=True)]
    urls: list[str] = []
    dropped: list[str] = []
    for index, piece in enumerate(pieces):
        following = pieces[index + 1] if index + 1 < len(pieces) else None
        if delimited and following is None:
            url = piece  # where the author's delimiter ends, the URL ends
        else:
            url, cut = _cut_known_host(_trim(piece))
            if cut and following is not None:
                url, label = _strip_label(url, following)
                dropped.append(label + cut)
            url = _trim(url)
        if _has_host(url):
            urls.append(url)
    if len(pieces) == 1:
        return [Cleaned(url) for url in urls]
    # One warning for the whole run, on its first URL: the document needs one fix.
    warning = (
        f"{len(pieces)} URLs glued together in the document: {raw!r}; split into " + ", ".join(urls)
    )
    if dropped:
        warning += "; dropped the text " + ", ".join(repr(d) for d in dropped) + " between them"
    return [Cleaned(url, (warning,) if i == 0 else ()) for i, url in enumerate(urls)]


def recover(raw: str) -> list[Cleaned]:
    """The URLs a malformed destination (one that is not `http(s)://…` as written) meant.

    Empty for what is no web link at all (`#anchor`, `docs/x.md`, `mailto:`);
    every URL it does give carries a warning quoting the destination as written.
    """
    written = raw.strip()
    found: list[str] = []
    if _INNER_URL.search(written):
        # `[https://…`, `[a](https://…)` nested inside `(…)`, `"https://…"`.
        for match in _INNER_URL.finditer(written):
            found.extend(c.url for c in clean(_trim(match[0]), delimited=True))
    elif bad := _BAD_SCHEME.match(written):
        scheme = "https://" if bad[2] or not bad[1] else "http://"
        found.append(scheme + written[bad.end() :])
    elif _SCHEMELESS.match(written):
        found.append("https://" + written)
    urls = [url for url in dict.fromkeys(found) if _has_host(url)]
    if not urls:
        return []
    warning = (
        f"malformed link destination {written!r}: read as "
        + ", ".join(urls)
        + "; fix it in the document"
    )
    return [Cleaned(url, (warning,)) for url in urls]


def _glued_at(run: str, start: int) -> bool:
    """True if the scheme at `start` begins a second URL glued on, not one inside the first."""
    if start == 0:
        return False
    if run[start - 1] in "=?&#":
        return False  # a URL as a query value: `?url=https://…`
    try:
        host = (urlsplit(run[:start]).hostname or "").removeprefix("www.")
    except ValueError:
        return True
    return host not in WRAPPER_HOSTS


def _trim(url: str) -> str:
    """Drop sentence punctuation, opening brackets and unbalanced closing brackets from the end."""
    while url:
        last = url[-1]
        if (
            last in _TRAILING
            or last in _OPENING
            or (last in _PAIRS and url.count(last) > url.count(_PAIRS[last]))
        ):
            url = url[:-1]
        else:
            break
    return url


def _cut_known_host(url: str) -> tuple[str, str]:
    """On GitHub, the Hub and arXiv, cut off text that cannot belong to the resource name."""
    for head in _KNOWN_HEADS:
        match = head.match(url)
        if match:
            end = match.end()
            if end < len(url) and url[end] not in "/?#":
                return url[:end], url[end:]
            return url, ""
    return url, ""


def _strip_label(url: str, following: str) -> tuple[str, str]:
    """Drop a label naming the next URL's site that was glued onto this one.

    `…/text-to-text-transfer-transformerhuggingface平台https://huggingface.co/google`
    is a table cell that lost its line break: "huggingface平台" ("the huggingface
    platform") labels the second link. Only the site's own name is recognised,
    so a real repository name is never shortened by guesswork.
    """
    host = (urlsplit(following).hostname or "").removeprefix("www.")
    site = host.split(".")[0]
    if len(site) >= 3 and url.lower().endswith(site.lower()):
        kept = url[: -len(site)]
        if _has_host(kept) and not kept.endswith("/"):
            return kept, url[-len(site) :]
    return url, ""


def _has_host(url: str) -> bool:
    try:
        return bool(urlsplit(url).hostname)
    except ValueError:
        return False
