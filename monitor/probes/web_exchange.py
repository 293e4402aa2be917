"""One request of the web probe: its status, its headers and the start of its body.

`Exchange(client, transport)(method, url)` does what `client.head(url)` and
`client.stream("GET", url)` did, with the same headers, cookies and timeouts
(the client's), but hands the request to the transport itself. The client's
own path took about a sixth of the event loop's time in a profile of 2,000
pages: an auth flow and a redirect loop (neither used: the probe follows
redirects itself, hop by hop), a body wrapper and timer per response, and
every response's cookies read through `http.cookiejar`, which builds an
`email.message.Message` of its headers even when there is no `Set-Cookie`.
Here the jar is read only for a response that sets a cookie, and consulted
only once it holds one.

Only the start of a page is read (`SNIFF_BYTES`): enough for its title, not its
video. A body read to its end leaves the connection open for the host's next
page; one left unread closes it, as with httpx.
"""

from __future__ import annotations

import httpx

SNIFF_BYTES = 32_768


class Exchange:
    """Requests with `client`'s headers, cookies and timeouts, sent by `transport`."""

    def __init__(self, client: httpx.AsyncClient, transport: httpx.AsyncBaseTransport) -> None:
        self.headers = client.headers
        self.cookies = client.cookies
        self.extensions = {"timeout": client.timeout.as_dict()}
        self.transport = transport

    async def __call__(self, method: str, url: str) -> tuple[int, dict[str, str], str]:
        """(status, lowercased headers, start of the body decoded; "" for HEAD)."""
        request = httpx.Request(method, url, headers=self.headers, extensions=self.extensions)
        if self.cookies:
            self.cookies.set_cookie_header(request)
        response = await self.transport.handle_async_request(request)
        response.request = request
        try:
            if "set-cookie" in response.headers:
                self.cookies.extract_cookies(response)
            status, headers = response.status_code, _lower(response.headers)
            if method == "HEAD":
                await response.aread()  # nothing, but read: the connection is kept
                return status, headers, ""
            content = b""
            async for chunk in response.aiter_bytes():
                content += chunk
                if len(content) >= SNIFF_BYTES:
                    break
            encoding = response.charset_encoding or "utf-8"
        finally:
            await response.aclose()
        try:
            body = content[:SNIFF_BYTES].decode(encoding, errors="replace")
        except LookupError:  # a charset Python does not know
            body = content[:SNIFF_BYTES].decode("utf-8", errors="replace")
        return status, headers, body


def _lower(headers: httpx.Headers) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}
