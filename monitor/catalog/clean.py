"""Where a URL written in prose really begins and ends.

Curated lists are written by hand, and their URLs arrive glued to the text
around them: `…/openai-translator。` (a CJK full stop), `…/alpacahttps://github.com/…`
(two URLs with the line break lost), `(see https://x.org/a)` (a closing
parenthesis that belongs to the sentence). `clean(raw)` turns one such run of
characters into the URLs it really holds, each with the warnings a human
should read. It knows the URL grammar of GitHub, the Hugging Face Hub and arXiv,
which lets it cut prose off a repository name; for other hosts it only trims
what can never end a URL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

#: Characters that end a URL wherever they appear: CJK punctuation, full-width
#: forms, typographic quotes and ellipses never occur unescaped in a real link.
URL_STOP = "\u3000-\u303f\uff00-\uff65\u2018-\u201f\u2026\u00b7"
_STOP = re.compile(f"[{URL_STOP}]")
_SCHEME = re.compile(r"https?://", re.IGNORECASE)
_TRAILING = ".,:;!?*_~'\"`"
_PAIRS = {")": "(", "]": "[", "}": "{"}

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


@dataclass(frozen=True, slots=True)
class Cleaned:
    """One URL recovered from a run of text, and what a human should know about it."""

    url: str
    warnings: tuple[str, ...] = ()


def clean(raw: str, *, as_written: bool = False) -> list[Cleaned]:
    """Split `raw` into the URLs it holds, trimmed of the prose glued to them.

    With `as_written`, the author's exact destination is kept (only trailing
    punctuation goes): used for destinations that are plainly malformed, which
    must reach the catalog as they are so a human can see and fix them.
    """
    if as_written:
        url = _trim(raw.strip())
        return [Cleaned(url)] if _has_host(url) else []
    run = _STOP.split(raw, maxsplit=1)[0]
    starts = [m.start() for m in _SCHEME.finditer(run)]
    if not starts or starts[0] != 0:
        starts = [0, *starts]
    pieces = [run[a:b] for a, b in zip(starts, [*starts[1:], len(run)], strict=True)]
    urls: list[str] = []
    dropped: list[str] = []
    for index, piece in enumerate(pieces):
        following = pieces[index + 1] if index + 1 < len(pieces) else None
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


def _trim(url: str) -> str:
    """Drop sentence punctuation and unbalanced closing brackets from the end."""
    while url:
        last = url[-1]
        if last in _TRAILING or (last in _PAIRS and url.count(last) > url.count(_PAIRS[last])):
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
