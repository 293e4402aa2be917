"""The emulator's control surface over HTTP, for an emulator running in another process.

`GET /stats` reports requests and rate-limit points per service (what the
benchmarks count); `POST /reset` clears them; `POST /call/<method>` with a JSON
body `{"args": [...], "kwargs": {...}}` runs one of the world's public
mutations (`rename`, `delete`, `star`, `set_page`, …), so a scenario can change
between polls even when the emulator is `monitor emulator serve`.
"""

from __future__ import annotations

import inspect
import re
from typing import Final

from monitor.emulator.http import HttpRequest, HttpResponse
from monitor.emulator.world import World

#: World methods that only read or belong to the server's own bookkeeping.
_NOT_MUTATIONS = frozenset(
    {
        "started",
        "finished",
        "requests",
        "stats",
        "next_id",
        "budget",
        "now",
        "in_days",
        "latency_for",
        "page",
        "repo",
        "hf_repo",
        "find_repo",
        "find_owner",
        "find_hf_repo",
        "reset_log",
        # world_github.py, world_wayback.py: reads
        "permission",
        "token_user",
        "user",
        "creation_wait",
        "record_creation",
        "issues_of",
        "pulls_of",
        "files_of",
        "branch_head",
        "closest_capture",
    }
)


def mutations() -> frozenset[str]:
    """The names `POST /call/<name>` accepts."""
    return frozenset(
        name
        for name, member in inspect.getmembers(World, inspect.isfunction)
        if not name.startswith("_") and name not in _NOT_MUTATIONS
    )


class Control:
    name: Final = "control"
    server_header = "monitor-emulator"

    def __init__(self, world: World) -> None:
        self.world = world
        self.base_url = "http://127.0.0.1"
        self.allowed = mutations()

    def handle(self, request: HttpRequest) -> HttpResponse:
        if request.path == "/stats":
            return HttpResponse.json(200, self.world.stats())
        if request.path == "/reset" and request.method == "POST":
            self.world.reset_log()
            return HttpResponse.json(200, {"ok": True})
        match = re.fullmatch(r"/call/(\w+)", request.path)
        if match and request.method == "POST":
            name = match[1]
            if name not in self.allowed:
                return HttpResponse.json(
                    404, {"error": f"no such mutation {name!r}", "mutations": sorted(self.allowed)}
                )
            body = request.json() or {}
            try:
                getattr(self.world, name)(*body.get("args", []), **body.get("kwargs", {}))
            except (KeyError, TypeError, ValueError) as exc:
                return HttpResponse.json(400, {"error": f"{type(exc).__name__}: {exc}"})
            return HttpResponse.json(200, {"ok": True})
        return HttpResponse.json(404, {"error": "unknown control path"})
