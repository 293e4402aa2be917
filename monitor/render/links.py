"""Which URLs a rendered file may make clickable: http and https ones, and only whole ones.

Shared by the status page and the feed, whose links come from remote answers (a
renamed repository's new URL) as well as from the catalog.
"""

from __future__ import annotations

from urllib.parse import urlsplit


def http_link(url: str | None) -> str | None:
    """`url` when it is an http(s) URL a reader could follow; None for anything else
    (`javascript:`, `data:`, no scheme, or not a URL at all, like "http://[::1")."""
    if not url:
        return None
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:
        return None
    return url if scheme in ("http", "https") else None
