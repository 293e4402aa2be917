"""What each new catalog entry is called, and which link texts name nothing.

A new entry's name is, best first:

1. the text of a link to it, when that text names something;
2. the label of the table row a link to it sits in (the row's first cell that
   names something);
3. for repositories, models, papers and paths, their id (`owner/repo`,
   `arXiv:2106.09685`);
4. for web pages, the nearest heading, when that heading belongs to this link
   alone (a heading over several unnamed links names none of them);
5. else the page's host and path.

A text names nothing when it is empty, a URL, a bare date, one of a short list
of words that say *where* a link goes ("github", "paper", "代码"), or — learnt
from the document itself — a text the document uses for `GENERIC_AFTER` or more
different resources: "Checkpoint", "🤗HF", "[🤖ModelScope]", "配套代码" linked on
every row of a table are a column's label, not a name.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Mapping

from monitor.catalog.kinds import Resource
from monitor.catalog.links import Link, TextFrom
from monitor.model import Kind

#: A link text used for this many different resources in one document names none of them.
GENERIC_AFTER = 3

#: Link texts that say where a link goes, not what it is (compared by `text_key`).
GENERIC_TEXTS = frozenset(
    """github gitee gitlab code paper pdf blog demo link links here this website
    homepage home site url page source repo repository project huggingface hf
    modelscope arxiv model models dataset datasets docs doc documentation
    checkpoint checkpoints weights download mirror article post video slides data
    wiki discussions issues releases examples
    地址 链接 这里 官网 论文 代码 博客 项目 项目地址 开源地址 模型 数据集 数据 在线体验 体验地址
    主页 原文 文章 配套代码 下载 文档 在线文档""".split()
) | frozenset(
    {
        "source code",
        "project page",
        "hugging face",
        "model card",
        "read more",
        "official repo",
        "paper link",
        "code link",
        "模型下载",
        "论文地址",
        "代码地址",
    }
)
_DATE = r"\d{4}(?:\s*[-/.年]\s*\d{1,2}(?:\s*[-/.月]\s*\d{1,2}\s*日?)?)?"
_FULL_DATE = r"\d{4}\s*[-/.年]\s*\d{1,2}(?:\s*[-/.月]\s*\d{1,2}\s*日?)?"
_UPDATED = r"(?:updated?\s*(?:on\s*)?|更新于?\s*)"
# A date that annotates a name: in brackets, after "updated"/"更新于", before "更新", or a
# full date. A bare year is part of the name ("Open weights in 2024", "WMT 2023").
_ANNOTATION = re.compile(
    rf"\s*(?:[（(]\s*{_UPDATED}?{_DATE}\s*(?:更新)?\s*[)）]|{_UPDATED}{_DATE}\s*(?:更新)?"
    rf"|{_DATE}\s*更新|{_FULL_DATE})\s*$",
    re.IGNORECASE,
)
# Text that is nothing but a date, bracketed or not: "2023", "(2023-04-02)", "更新于2023年7月3日".
_ONLY_DATE = re.compile(rf"^\s*[（(]?\s*{_UPDATED}?{_DATE}\s*(?:更新)?\s*[)）]?\s*$", re.IGNORECASE)
# "5.34、", "2.3.1 ", "四、": outline numbers, at most two digits a level so years survive.
_OUTLINE = re.compile(
    r"^\s*(?:\d{1,2}(?:\.\d{1,3})*(?:[.、)]\s*|\s+)|[一二三四五六七八九十百]+[、.]\s*)"
)
# A scheme, `www.`, or a dotted host followed by a path: `alpaca_data.json` or
# `llama2.c` are names, `blog.lucien.ink/archives/538` is an address.
_URL_LIKE = re.compile(r"^(?:[a-z]+://\S+|www\.\S+|[\w-]+(?:\.[\w-]+)+/\S*)$", re.IGNORECASE)
_EDGES = "[]()（）【】「」<>《》:：-–—|*_·•,，.。 \t"
_LETTER = re.compile(r"[^\W\d_]")

Crowded = set[tuple[str, tuple[str, ...]]]


def text_key(text: str) -> str:
    """`text` as compared with others: no emoji or symbols, no edge brackets, case folded.

    "🤗HF", "[HF]" and "hf" are one text; "llama.cpp" keeps its dot.
    """
    kept = "".join(ch for ch in text if not unicodedata.category(ch).startswith(("S", "C", "M")))
    return " ".join(kept.strip(_EDGES).casefold().split())


def is_generic(text: str, generic: Collection[str] = ()) -> bool:
    """True if `text` names no resource: empty, a URL, "github", "here", a bare date, no
    letter at all ("#73"), or one of `generic` (the `text_key`s a document uses as labels,
    see `learn_generic`)."""
    words = text.strip().strip(_EDGES).strip()
    if not words or _URL_LIKE.match(words):
        return True
    key = text_key(words)
    if not key or key in GENERIC_TEXTS or key in generic or not _LETTER.search(key):
        return True  # no letter at all: "#73", "[2]", "★ 12k" name nothing
    return bool(_ONLY_DATE.match(words))


def names_something(text: str) -> bool:
    """A table cell that can label its row: it names something, in at most 80 characters."""
    return not is_generic(text) and len(text) <= 80


def learn_generic(found: Iterable[tuple[Link, str]]) -> dict[str, frozenset[str]]:
    """Per document, the link texts it uses for `GENERIC_AFTER` or more different resources.

    `found` pairs each link with its resource's key.
    """
    targets: dict[tuple[str, str], set[str]] = defaultdict(set)
    for link, key in found:
        if link.text_from is TextFrom.LINK and link.text:
            targets[(link.document, text_key(link.text))].add(key)
    generic: dict[str, set[str]] = defaultdict(set)
    for (document, text), keys in targets.items():
        if text and len(keys) >= GENERIC_AFTER:
            generic[document].add(text)
    return {document: frozenset(texts) for document, texts in generic.items()}


def clean_name(text: str) -> str:
    """A name without outline numbering ("5.34、") or a trailing date ("（更新于2023年7月3日）")."""
    name = " ".join(text.split())
    stripped = _ANNOTATION.sub("", name).strip()
    name = stripped or name
    return _OUTLINE.sub("", name).strip() or name


def own_name(link: Link, generic: Collection[str]) -> tuple[int, str] | None:
    """The name `link` itself gives its target, ranked (3 its text, 2 its row), if any."""
    if link.text and not is_generic(link.text, generic):
        return (3 if link.text_from is TextFrom.LINK else 2), clean_name(link.text)
    if link.row and not is_generic(link.row, generic):
        return 2, clean_name(link.row)
    return None


def best_name(
    found: list[tuple[Link, Resource]],
    crowded: Crowded,
    generic: Mapping[str, frozenset[str]],
) -> str:
    """The name of the entry made from every link in `found` (the same resource)."""
    ranked: list[tuple[int, str]] = []
    for link, resource in found:
        own = own_name(link, generic.get(link.document, frozenset()))
        if own is not None:
            ranked.append(own)
        elif resource.kind is not Kind.WEB:
            ranked.append((1, resource.label))
        elif link.headings and (link.document, link.headings) not in crowded:
            ranked.append((1, clean_name(link.headings[-1])))
        else:
            ranked.append((0, resource.label))
    best = max(rank for rank, _ in ranked)
    return next(name for rank, name in ranked if rank == best)


def crowded_headings(links: Iterable[Link], generic: Mapping[str, frozenset[str]]) -> Crowded:
    """Headings with several unnamed links under them: they name none of them."""
    counts: Counter[tuple[str, tuple[str, ...]]] = Counter()
    for link in links:
        if own_name(link, generic.get(link.document, frozenset())) is None:
            counts[(link.document, link.headings)] += 1
    return {place for place, count in counts.items() if count >= 2}
