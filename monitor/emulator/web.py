"""Web hosts: pages whose behaviour is set per URL, including every way a page can fail.

A page lives at a path on the emulator's own web address (`/blog/post`), or at
a URL on any host name whose requests the monitor sends here (the request's
`Host` header picks the virtual host). Behaviours, cycled per request when a
page has several: `ok`; any status code (404, 410, 500, 503, 999, …; 429 and
503 carry `Retry-After`); `soft-404` (200 saying "Page not found"); `captcha`
(200 asking whether you are a robot); `cf-challenge` (403 with
`cf-mitigated: challenge`); `slow` (answers after `slow_seconds`); `reset`
(the connection is dropped with a TCP RST); `redirect` (`redirect_status` to
`location`); `head-405` (HEAD refused, GET fine). Unknown paths are 404.
"""

from __future__ import annotations

from html import escape
from typing import Final

from monitor.emulator.http import HttpRequest, HttpResponse
from monitor.emulator.world import Page, World, page_key

HTML = "text/html; charset=utf-8"


def _html(title: str, body: str) -> str:
    return (
        f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>{escape(title)}'
        f"</title></head>\n<body>{body}</body></html>\n"
    )


class Web:
    """Every web host the tests or the demo need."""

    name: Final = "web"
    server_header = "nginx"

    def __init__(self, world: World) -> None:
        self.world = world
        self.base_url = "http://127.0.0.1"
        self.own_hosts: set[str] = set()

    def handle(self, request: HttpRequest) -> HttpResponse:
        host = "" if request.host in self.own_hosts else request.host
        with self.world.lock:
            page = self.world.pages.get((host, page_key(request.path, request.raw_query)))
            if page is None:
                page = self.world.pages.get((host, page_key(request.path, "")))
            if page is None:
                return HttpResponse.text(
                    404, _html("404 Not Found", "<h1>404 Not Found</h1>"), HTML
                )
            behaviour = page.next_behaviour()
        return self._answer(request, page, behaviour)

    def _answer(self, request: HttpRequest, page: Page, behaviour: str | int) -> HttpResponse:
        if isinstance(behaviour, int):
            return self._status(page, behaviour)
        if behaviour == "ok":
            return HttpResponse.text(200, _html(page.title, page.body), HTML)
        if behaviour == "soft-404":
            return HttpResponse.text(
                200,
                _html(
                    "Page not found",
                    "<h1>Page not found</h1><p>"
                    "Sorry, the page you are looking for does not "
                    "exist.</p>",
                ),
                HTML,
            )
        if behaviour == "captcha":
            return HttpResponse.text(
                200,
                _html("Are you a robot?", "<p>Please complete the CAPTCHA below to continue.</p>"),
                HTML,
            )
        if behaviour == "cf-challenge":
            return HttpResponse.text(
                403,
                _html("Just a moment...", "<p>Checking your browser.</p>"),
                HTML,
                {"cf-mitigated": "challenge"},
            )
        if behaviour == "slow":
            response = HttpResponse.text(200, _html(page.title, page.body), HTML)
            response.delay = page.slow_seconds
            return response
        if behaviour == "reset":
            return HttpResponse(0, reset=True)
        if behaviour == "redirect":
            assert page.location, "a redirect page needs a location"
            return HttpResponse.text(
                page.redirect_status,
                _html("Moved", "<p>Moved.</p>"),
                HTML,
                {"Location": page.location},
            )
        if behaviour == "head-405":
            if request.method == "HEAD":
                return HttpResponse.text(405, "", HTML, {"Allow": "GET"})
            return HttpResponse.text(200, _html(page.title, page.body), HTML)
        raise ValueError(f"unknown page behaviour {behaviour!r}")

    def _status(self, page: Page, status: int) -> HttpResponse:
        headers = {}
        if status in (429, 503):
            headers["Retry-After"] = str(page.retry_after)
        if status == 999:
            return HttpResponse.text(999, "", HTML)
        return HttpResponse.text(status, _html(f"{status}", f"<h1>{status}</h1>"), HTML, headers)
