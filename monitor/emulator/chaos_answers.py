"""What a faulted service says: the bodies and headers of chaos answers, per service.

The server calls `answer()` once `Chaos.decide()` has drawn the fault, its
status and its variant; the shapes and their sources are listed in chaos.py's
docstring. Nothing here touches the world's state: a faulted request is not
charged to any budget.
"""

from __future__ import annotations

from html import escape
from typing import Any, Literal

from monitor.emulator.chaos import Chaos, Fault, Injection, phrase, portal_url
from monitor.emulator.http import HttpRequest, HttpResponse

HTML = "text/html; charset=utf-8"
TEXT = "text/plain; charset=utf-8"

GITHUB_DOCS = "https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting"
SECONDARY_DOCS = (
    "https://docs.github.com/en/free-pro-team@latest/rest/overview/"
    "rate-limits-for-the-rest-api#about-secondary-rate-limits"
)
GITHUB_TIMEOUT = (
    "We couldn't respond to your request in time. Sorry about that. Please try "
    "resubmitting your request and contact us if the problem persists."
)
HUB_INTERNAL = "Internal Error - We're working hard to fix this as soon as possible!"
RATE_EXCEEDED = "Rate exceeded."

#: GitHub's front end when no backend answers (its "Unicorn!" page, abridged).
UNICORN = """<!DOCTYPE html>
<html>
  <head>
    <meta http-equiv="Content-type" content="text/html; charset=utf-8">
    <title>Unicorn! &middot; GitHub</title>
  </head>
  <body>
    <div class="container">
      <h1>Unicorn!</h1>
      <p><strong>No server is currently available to service your request.</strong></p>
      <p>Sorry about that. Please try refreshing and contact us if the problem persists.</p>
    </div>
  </body>
</html>
"""

#: A captive portal or a corporate proxy's sign-in page, served in place of any answer.
PORTAL = """<!DOCTYPE html>
<html>
<head><meta charset="utf-8"><title>Sign in to continue</title></head>
<body>
<h1>Welcome to Guest Wi-Fi</h1>
<p>Please accept the terms of use to connect to the internet.</p>
<form method="post" action="/portal/login">
  <label><input type="checkbox" name="accept" value="1"> I accept the terms of use</label>
  <button type="submit">Connect</button>
</form>
</body>
</html>
"""


def gateway_page(status: int, server: str = "nginx") -> str:
    """The terse HTML error page of a proxy or web server."""
    title = f"{status} {escape(phrase(status))}"
    return (
        f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n"
        f"<center><h1>{title}</h1></center>\r\n<hr><center>{server}</center>\r\n"
        "</body>\r\n</html>\r\n"
    )


def portal() -> HttpResponse:
    return HttpResponse.text(200, PORTAL, HTML, {"Cache-Control": "no-store"})


def redirect_away(injection: Injection, request: HttpRequest) -> HttpResponse:
    """A redirect to another scheme on the same host (an HTTPS upgrade) or to a portal host."""
    if injection.options.location:
        location = injection.options.location
    elif injection.variant == "host":
        location = portal_url(request)
    else:
        location = f"https://{request.host}{request.path}"
        if request.raw_query:
            location += f"?{request.raw_query}"
    status = injection.status or 302
    title = f"{status} {escape(phrase(status))}"
    body = f'<html><head><title>{title}</title></head><body><a href="{escape(location)}">'
    body += "Moved</a></body></html>\n"
    return HttpResponse.text(status, body, HTML, {"Location": location})


def github(
    chaos: Chaos, injection: Injection, request: HttpRequest, request_id: str
) -> HttpResponse:
    """GitHub's REST or GraphQL answer to a 5xx, a rate limit or a GraphQL failure."""
    graphql = injection.endpoint == "github-graphql"
    status = injection.status or 500
    fault = injection.fault
    retry_after = injection.options.retry_after
    headers = [
        ("x-github-media-type", "github.v4; format=json" if graphql else "github.v3; format=json"),
        ("x-github-request-id", request_id),
    ]
    if fault is Fault.SERVER_ERROR:
        if injection.variant == "html":
            response = HttpResponse.text(status, UNICORN, HTML)
            headers = []  # the front end answered, not the API
        else:
            message = GITHUB_TIMEOUT if status == 504 else "Server Error"
            response = HttpResponse.json(status, {"message": message})
    elif fault is Fault.RATE_LIMIT:
        resource: Literal["core", "graphql"] = "graphql" if graphql else "core"
        limit = chaos.limit(resource, request.token)
        if status == 200:
            spelling = chaos.world.graphql_rate_limit_type if chaos.world else "RATE_LIMITED"
            error: dict[str, Any] = {
                "type": spelling,
                "message": "API rate limit exceeded for user ID 1.",
            }
            if spelling == "RATE_LIMIT":
                error["code"] = "graphql_rate_limit"
            response = HttpResponse.json(200, {"errors": [error]})
        else:
            message = (
                "API rate limit exceeded for user ID 1."
                if request.token
                else "API rate limit exceeded for 127.0.0.1. (But here's the good news: "
                "Authenticated requests get a higher rate limit. Check out the "
                "documentation for more details.)"
            )
            response = HttpResponse.json(
                status, {"message": message, "documentation_url": GITHUB_DOCS}
            )
        headers += [
            ("x-ratelimit-limit", str(limit)),
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset", str(int(chaos.now()) + retry_after)),
            ("x-ratelimit-used", str(limit)),
            ("x-ratelimit-resource", resource),
        ]
    elif fault is Fault.SECONDARY_LIMIT:
        response = HttpResponse.json(
            status,
            {
                "message": "You have exceeded a secondary rate limit. Please wait a few minutes "
                "before you try again. If you reach out to GitHub Support for help, please "
                f"include the request ID {request_id}.",
                "documentation_url": SECONDARY_DOCS,
            },
            {"retry-after": str(retry_after)},
        )
    elif fault is Fault.GRAPHQL_PATHLESS:
        response = HttpResponse.json(
            200,
            {
                "data": None,
                "errors": [
                    {
                        "message": "Something went wrong while executing your query. This may "
                        "be the result of a timeout, or it could be a GitHub bug. Please "
                        f"include `{request_id}` when reporting this issue."
                    }
                ],
            },
        )
    else:
        raise ValueError(f"GitHub has no {fault.value!r} answer here")
    response.headers += headers
    return response


def huggingface(chaos: Chaos, injection: Injection, request: HttpRequest) -> HttpResponse:
    """The Hub's 5xx (its own JSON 500, its proxy's HTML 502-504) or its 429."""
    status = injection.status or 500
    if injection.fault is Fault.SERVER_ERROR:
        if injection.variant == "json":
            return HttpResponse.json(
                status, {"error": HUB_INTERNAL}, {"X-Error-Message": HUB_INTERNAL}
            )
        return HttpResponse.text(status, gateway_page(status, "CloudFront"), HTML)
    if injection.fault is Fault.RATE_LIMIT:
        wait = injection.options.retry_after
        limit = chaos.limit("hf", request.token)
        return HttpResponse.json(
            status,
            {"error": "Too Many Requests"},
            {
                "Retry-After": str(wait),
                "RateLimit": f'"api";r=0;t={wait}',
                "RateLimit-Policy": f'"fixed window";"api";q={limit};w=300',
            },
        )
    raise ValueError(f"the Hub has no {injection.fault.value!r} answer here")


def plain(injection: Injection) -> HttpResponse:
    """arXiv's and web hosts' answers: HTML error pages, and arXiv's plain-text throttle."""
    status = injection.status or 500
    wait = {"Retry-After": str(injection.options.retry_after)}
    if injection.fault is Fault.RATE_EXCEEDED or (
        injection.fault is Fault.RATE_LIMIT and injection.service == "arxiv"
    ):
        return HttpResponse.text(status, RATE_EXCEEDED, TEXT, wait)
    if injection.fault in (Fault.SERVER_ERROR, Fault.RATE_LIMIT):
        server = "Apache" if injection.service == "arxiv" else "nginx"
        headers = wait if status in (429, 503) else None
        return HttpResponse.text(status, gateway_page(status, server), HTML, headers)
    raise ValueError(f"{injection.service} has no {injection.fault.value!r} answer here")


def answer(chaos: Chaos, injection: Injection, request: HttpRequest) -> HttpResponse:
    """The HTTP answer of a fault whose `wire` is "answer"."""
    fault, service = injection.fault, injection.service
    if fault is Fault.PORTAL:
        return portal()
    if fault is Fault.REDIRECT_AWAY:
        return redirect_away(injection, request)
    if service == "github":
        return github(chaos, injection, request, chaos.next_request_id())
    if service == "hf":
        return huggingface(chaos, injection, request)
    return plain(injection)
