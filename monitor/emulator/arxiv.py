"""arXiv's export API (`/api/query?id_list=…`), answering Atom XML as export.arxiv.org does.

Behaviours reproduced (../shared/api-facts.md §8):
- each paper is an `<entry>` whose `<id>` ends in the latest version
  (`http://arxiv.org/abs/2106.09685v2`), `<published>` is v1's date and
  `<updated>` the latest version's; asking for `…v1` returns that version;
- the feed's own `<id>`, `<link>` and `<title>` come before the first entry;
- a well-formed id that does not exist yields no entry (`totalResults` counts
  only found papers); a malformed id yields HTTP 200 with one entry titled
  `Error`, which is not a paper;
- a withdrawn paper is still served, as a new version whose comment says so;
- with `world.arxiv_min_interval` set, requests faster than that answer 503
  `Rate exceeded.`, as arXiv's throttle does.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Final
from urllib.parse import quote
from xml.sax.saxutils import escape

from monitor.emulator.http import HttpRequest, HttpResponse
from monitor.emulator.world import Paper, World

_ID = re.compile(r"^(?P<id>\d{4}\.\d{4,5}|[a-z][a-z-]*(?:\.[A-Z]{2})?/\d{7})(?:v(?P<v>\d+))?$")
ATOM = "application/atom+xml; charset=utf-8"


def _stamp(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


class ArXiv:
    """export.arxiv.org."""

    name: Final = "arxiv"
    server_header = "Apache"

    def __init__(self, world: World) -> None:
        self.world = world
        self.base_url = "http://127.0.0.1"

    def handle(self, request: HttpRequest) -> HttpResponse:
        if request.path.rstrip("/") != "/api/query":
            return HttpResponse.text(404, "Not Found")
        with self.world.lock:
            now = self.world.clock()
            interval = self.world.arxiv_min_interval
            if interval and now - self.world._arxiv_last < interval:
                return HttpResponse.text(503, "Rate exceeded.", headers={"Retry-After": "3"})
            self.world._arxiv_last = now
            return HttpResponse.text(200, self._feed(request), ATOM)

    def _feed(self, request: HttpRequest) -> str:
        ids = [i.strip() for i in (request.arg("id_list") or "").split(",") if i.strip()]
        start = int(request.arg("start") or 0)
        max_results = int(request.arg("max_results") or 10)
        entries: list[str] = []
        for text in ids:
            match = _ID.match(text)
            if not match:
                entries.append(_error_entry(text))
                continue
            paper = self.world.papers.get(match["id"])
            if paper is None:
                continue
            version = int(match["v"]) if match["v"] else len(paper.versions)
            if version < 1 or version > len(paper.versions):
                continue
            entries.append(_entry(paper, version))
        total = len(entries)
        shown = entries[start : start + max_results]
        query = f"search_query=&id_list={','.join(ids)}&start={start}&max_results={max_results}"
        now = _stamp(self.world.now())
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<feed xmlns="http://www.w3.org/2005/Atom">\n'
            f'  <link href="http://arxiv.org/api/query?{quote(query, safe="")}" rel="self" '
            'type="application/atom+xml"/>\n'
            f'  <title type="html">ArXiv Query: {escape(query)}</title>\n'
            f"  <id>http://arxiv.org/api/{abs(hash(query)) % 10**12:012d}</id>\n"
            f"  <updated>{now}</updated>\n"
            '  <opensearch:totalResults xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">'
            f"{total}</opensearch:totalResults>\n"
            '  <opensearch:startIndex xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">'
            f"{start}</opensearch:startIndex>\n"
            '  <opensearch:itemsPerPage xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">'
            f"{max_results}</opensearch:itemsPerPage>\n" + "".join(shown) + "</feed>\n"
        )


def _wrap(text: str, width: int = 70) -> str:
    """arXiv hard-wraps titles and abstracts; clients must unwrap them."""
    words, lines, line = text.split(), [], ""
    for word in words:
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    lines.append(line)
    return "\n  ".join(lines)


def _entry(paper: Paper, version: int) -> str:
    abs_url = f"http://arxiv.org/abs/{paper.id}v{version}"
    authors = "".join(
        f"    <author>\n      <name>{escape(a)}</name>\n    </author>\n" for a in paper.authors
    )
    comment = ""
    if paper.comment and (version == len(paper.versions) or not paper.withdrawn):
        comment = (
            '    <arxiv:comment xmlns:arxiv="http://arxiv.org/schemas/atom">'
            f"{escape(paper.comment)}</arxiv:comment>\n"
        )
    summary = paper.summary
    if paper.withdrawn and version == len(paper.versions):
        summary = "This paper has been withdrawn."
    return (
        "  <entry>\n"
        f"    <id>{abs_url}</id>\n"
        f"    <updated>{_stamp(paper.versions[version - 1])}</updated>\n"
        f"    <published>{_stamp(paper.versions[0])}</published>\n"
        f"    <title>{escape(_wrap(paper.title))}</title>\n"
        f"    <summary>  {escape(_wrap(summary))}\n</summary>\n"
        f"{authors}{comment}"
        f'    <link href="{abs_url}" rel="alternate" type="text/html"/>\n'
        f'    <link title="pdf" href="http://arxiv.org/pdf/{paper.id}v{version}" rel="related" '
        'type="application/pdf"/>\n'
        '    <arxiv:primary_category xmlns:arxiv="http://arxiv.org/schemas/atom" '
        f'term="{paper.category}" scheme="http://arxiv.org/schemas/atom"/>\n'
        f'    <category term="{paper.category}" scheme="http://arxiv.org/schemas/atom"/>\n'
        "  </entry>\n"
    )


def _error_entry(text: str) -> str:
    anchor = f"http://arxiv.org/api/errors#incorrect_id_format_for_{quote(text, safe='')}"
    return (
        "  <entry>\n"
        f"    <id>{anchor}</id>\n"
        "    <title>Error</title>\n"
        f"    <summary>incorrect id format for {escape(text)}</summary>\n"
        "    <updated>2007-02-27T00:00:00-05:00</updated>\n"
        f'    <link href="{anchor}" rel="alternate" type="text/html"/>\n'
        "    <author>\n      <name>arXiv api core</name>\n    </author>\n"
        "  </entry>\n"
    )
