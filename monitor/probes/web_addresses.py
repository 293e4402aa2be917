"""Where a redirect may lead: public hosts are not followed into private addresses.

monitor often runs next to other services (a cloud VM, a CI runner, a home
server). A page on the internet that redirects to `http://169.254.169.254/…`
(a cloud's instance metadata) or `http://127.0.0.1:8080/admin` would otherwise
make monitor request it, and perhaps report what it found. So, by default
(`[probes] allow_private_redirects = false`), a redirect from a public host to
a loopback, link-local or private address is refused before the target is
asked: the page's observation is transient, with the error `REFUSED`.

What stays allowed:
- the URLs of the catalog itself, whatever their address (the maintainer wrote them);
- a redirect from a private host to anything (a catalog of intranet pages
  redirecting within the intranet), and a redirect within one host;
- a name that `MONITOR_CONNECT_TO` maps elsewhere: it counts as public, since
  that override exists to stand in for public hosts (demos, tests).

An address is private by what its host name resolves to (any of its addresses),
or by what it is, for an IP literal. A name that does not resolve is not private:
the request then fails as an unknown host. The check resolves the name, and the
request resolves it again, so a name whose DNS answer changes in between (DNS
rebinding) is not caught here; a firewall is the place for that.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from urllib.parse import unquote

import httpx

#: The observation's error when a redirect is refused (the contract's words).
REFUSED = "redirect to a private address refused"

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

PRIVATE_NETWORKS = tuple(
    ipaddress.ip_network(network)
    for network in (
        "127.0.0.0/8",  # loopback
        "0.0.0.0/8",  # "this network": connecting to 0.0.0.0 reaches the machine itself
        "10.0.0.0/8",  # RFC 1918
        "172.16.0.0/12",
        "192.168.0.0/16",
        "169.254.0.0/16",  # link-local: AWS, GCP, Azure and others serve instance metadata here
        "100.64.0.0/10",  # carrier-grade NAT (RFC 6598): Alibaba Cloud metadata, 100.100.100.200
        "::/96",  # unspecified (::), loopback (::1) and the deprecated IPv4-compatible addresses
        "fe80::/10",  # link-local
        "fc00::/7",  # unique local (the IPv6 private range)
        "fec0::/10",  # site-local: deprecated, still routed by some stacks
    )
)


def is_private(address: IPAddress) -> bool:
    """True for a loopback, unspecified, link-local or private address.

    An IPv6 address that carries an IPv4 one (IPv4-mapped `::ffff:127.0.0.1`,
    6to4 `2002:7f00:1::`, NAT64 `64:ff9b::7f00:1`) is judged by the IPv4 address,
    which is where a connection to it ends up.
    """
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour or _nat64(address)
        if embedded is not None:
            return is_private(embedded)
    return any(address in network for network in PRIVATE_NETWORKS)


def _nat64(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


NAT64 = ipaddress.ip_network("64:ff9b::/96")


def ip_literal(host: str) -> IPAddress | None:
    """The address a URL's host is, when it is an IP literal in standard form.

    Other spellings that resolvers accept as numbers (`127.1`, `2130706433`,
    `0x7f.0.0.1`) are not literals here: they are resolved like names, and
    resolve to what they spell.
    """
    try:
        # A zone id arrives percent-encoded in a URL: [fe80::1%25eth0].
        return ipaddress.ip_address(unquote(host).strip("[]"))
    except ValueError:
        return None


def host_of(url: str) -> str | None:
    """The host a request for `url` goes to, as httpx spells it (IDNA, lower case)."""
    try:
        host = httpx.URL(url).host
    except (httpx.InvalidURL, UnicodeError):
        return None  # the request itself will fail, and say why
    return host.lower() or None


class Addresses:
    """The rule for one run: which hosts are private, with one resolution per name.

    `mapped` are the names `MONITOR_CONNECT_TO` sends elsewhere (`*` for all):
    public, whatever they resolve to. `timeout` bounds one resolution; a name not
    resolved by then counts as public (its request then waits for the resolver
    itself, within the request's own deadline).
    """

    def __init__(self, mapped: Iterable[str] = (), *, timeout: float = 5.0) -> None:
        self.mapped = frozenset(name.lower() for name in mapped)
        self.timeout = timeout
        self._resolved: dict[str, asyncio.Future[bool]] = {}

    async def refused(self, origin: str, target: str) -> bool:
        """True when a redirect from `origin` to `target` leads from a public host into a
        private address, and must not be followed."""
        source, destination = host_of(origin), host_of(target)
        if destination is None or source is None or destination == source:
            return False
        # The target first: most redirects lead to public hosts, and then the origin's
        # address does not matter.
        return await self.private(destination) and not await self.private(source)

    async def private(self, host: str) -> bool:
        """True when `host` (a name or an IP literal) is, or resolves to, a private address."""
        literal = ip_literal(host)
        if literal is not None:
            return is_private(literal)
        name = host.lower().rstrip(".")
        if "*" in self.mapped or name in self.mapped:
            return False
        found = self._resolved.get(name)
        if found is None:
            # One resolution per name and run, shared by every page that needs it.
            found = self._resolved[name] = asyncio.ensure_future(self._resolve(name))
        # Shielded: a page cancelled while waiting must not cancel the others' answer.
        return await asyncio.shield(found)

    async def _resolve(self, name: str) -> bool:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self.timeout):
                infos = await loop.getaddrinfo(name, None, type=socket.SOCK_STREAM)
        except (OSError, TimeoutError, UnicodeError):
            return False  # unknown (or unresolvable now): the request will say so
        return any(_private_sockaddr(info[4][0]) for info in infos)


def _private_sockaddr(text: object) -> bool:
    try:
        return is_private(ipaddress.ip_address(str(text)))
    except ValueError:
        return False
