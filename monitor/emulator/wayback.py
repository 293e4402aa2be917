"""The Wayback Machine's availability API (`GET /wayback/available`), as archive.org answers it.

    GET /wayback/available?url=example.org/a&timestamp=20240501&closest=before

answers `{"url": <as asked>, "archived_snapshots": {"closest": {"status": "200",
"available": true, "url": "http://web.archive.org/web/<14 digits>/<url>", "timestamp":
"<14 digits>"}}}`, or `"archived_snapshots": {}` when nothing fits. Behaviours kept
(archive.org/help/wayback_api.php, and the v1 API's description of `closest` and
`status_code`):
- without `timestamp` the newest capture is offered;
- `closest` is `either` (the default: the nearest capture, which may well be *after*
  the timestamp asked for), `before` or `after`; another value counts as `either`;
- a timestamp is 1 to 14 digits (`2024`, `20240501`, `20240501123000`), or the v1 API's
  ISO 8601 (`2024-05-01T12:30:00Z`); one that is neither is ignored, as if absent;
- `callback=f` wraps the answer as JSONP (`application/javascript`);
- the snapshot URL is the original URL as captured, on http://web.archive.org.
The captures are the world's (world_wayback.py).
"""

from __future__ import annotations

import json
import re
from typing import Final

from monitor.emulator.http import HttpRequest, HttpResponse
from monitor.emulator.world import World
from monitor.emulator.world_wayback import Closest, parse_timestamp

_CALLBACK = re.compile(r"^[A-Za-z_$][\w$.]*$")


class Wayback:
    """archive.org's `/wayback/available`."""

    name: Final = "wayback"
    server_header = "nginx"

    def __init__(self, world: World) -> None:
        self.world = world
        self.base_url = "http://127.0.0.1"

    def handle(self, request: HttpRequest) -> HttpResponse:
        if request.path.rstrip("/") != "/wayback/available":
            return HttpResponse.text(404, "Not Found", "text/html; charset=utf-8")
        if request.method not in ("GET", "HEAD"):
            return HttpResponse.text(405, "Method Not Allowed", "text/html; charset=utf-8")
        url = request.arg("url") or ""
        closest: Closest = "either"
        wanted = (request.arg("closest") or "").lower()
        if wanted in ("before", "after"):
            closest = "before" if wanted == "before" else "after"
        status_code = request.arg("status_code") or None
        payload: dict[str, object] = {"url": url, "archived_snapshots": {}}
        if url:
            when = parse_timestamp(request.arg("timestamp"))
            capture = self.world.closest_capture(url, when, closest, status_code)
            if capture is not None:
                payload["archived_snapshots"] = {
                    "closest": {
                        "status": capture.status,
                        "available": True,
                        "url": f"http://web.archive.org/web/{capture.timestamp}/{capture.url}",
                        "timestamp": capture.timestamp,
                    }
                }
            if request.arg("timestamp") is not None:
                payload["timestamp"] = request.arg("timestamp")
        headers = {"Access-Control-Allow-Origin": "*", "Cache-Control": "no-cache"}
        callback = request.arg("callback")
        if callback and _CALLBACK.match(callback):
            text = f"{callback}({json.dumps(payload)})"
            return HttpResponse.text(200, text, "application/javascript", headers)
        return HttpResponse.json(200, payload, headers)
