"""The shields.io endpoint badge: `reports/badge.json`, as data and as JSON text.

    badge(219, 223)        # {"schemaVersion": 1, "label": "links", "message": "219/223 ok", ...}
    badge_json(219, 223)   # the file's text: the same, as JSON with sorted keys

Pure. The format is shields.io's endpoint schema
(https://shields.io/badges/endpoint-badge): `schemaVersion` (always 1), `label` and
`message` are required; `color`, `labelColor`, `isError`, `namedLogo`, `logoSvg`,
`logoColor`, `logoWidth`, `style` and `cacheSeconds` are optional. A badge points
shields at the file's public URL:
`https://img.shields.io/endpoint?url=<URL of badge.json>`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

#: How long shields.io may serve its cached picture before it reads the file again.
#: The file changes once per `monitor check`, every six hours by default
#: (`[schedule] check`); an hour keeps the badge at most an hour behind the latest
#: run while sparing the host that serves the file a request per page view.
#: shields.io does not go below 300 seconds whatever the file says.
CACHE_SECONDS = 3600


def badge(ok: int, total: int, *, label: str = "links") -> dict[str, object]:
    """The endpoint document for `ok` working sources out of `total`.

    Green when every source is ok, yellow from 90 %, orange from 75 %, red
    below; `total == 0` reads "no sources" in light grey."""
    if total < 0 or ok < 0 or ok > total:
        raise ValueError(f"a badge needs 0 <= ok <= total, got {ok}/{total}")
    if total == 0:
        message, color = "no sources", "lightgrey"
    else:
        message, color = f"{ok}/{total} ok", badge_color(ok, total)
    return {
        "schemaVersion": 1,
        "label": label,
        "message": message,
        "color": color,
        "cacheSeconds": CACHE_SECONDS,
    }


def badge_color(ok: int, total: int) -> str:
    """The shields.io named colour for `ok` out of `total` (integer arithmetic, no rounding)."""
    if ok >= total:
        return "brightgreen"
    if ok * 100 >= total * 90:
        return "yellow"
    if ok * 100 >= total * 75:
        return "orange"
    return "red"


def badge_json(ok: int, total: int, *, label: str = "links") -> str:
    """The text of `badge.json`: `badge(ok, total, label=label)` as `json_text` writes it."""
    return json_text(badge(ok, total, label=label))


def json_text(document: Mapping[str, object]) -> str:
    """`document` as JSON text with sorted keys, safe to inline in HTML, ending with a newline.

    Everything outside ASCII is written as a `\\uXXXX` escape, and so are `<`, `>`
    and `&` (which JSON only ever holds inside strings), so a hostile label
    cannot close a `<script>` element if someone pastes the file into a page."""
    text = json.dumps(document, sort_keys=True, ensure_ascii=True, indent=2)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return text + "\n"
