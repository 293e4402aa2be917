"""The running emulator: every service on its own loopback port, all sharing one `World`.

    with Emulator(world).start() as emulator:
        env = emulator.environment()   # MONITOR_GITHUB_API_URL, MONITOR_HF_ENDPOINT, …
                                       # MONITOR_WAYBACK_URL
        world.rename("tatsu-lab/stanford_alpaca", "alpaca")

Tests use it in-process; `monitor emulator serve` runs it until interrupted.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import TracebackType

from monitor.emulator.arxiv import ArXiv
from monitor.emulator.control import Control
from monitor.emulator.github import GitHub
from monitor.emulator.huggingface import HuggingFace
from monitor.emulator.server import Handler, Listener
from monitor.emulator.wayback import Wayback
from monitor.emulator.web import Web
from monitor.emulator.world import World


class Emulator:
    """GitHub, the Hugging Face Hub, arXiv, web hosts, a control port and the Wayback
    Machine, on 127.0.0.1 (with `base_port`, on that port and the five after it, in
    that order)."""

    def __init__(
        self,
        world: World | None = None,
        *,
        host: str = "127.0.0.1",
        base_port: int = 0,
        web_addresses: Sequence[str] = (),
    ) -> None:
        """`web_addresses` (other loopback addresses, 127.0.0.2, …) each get a web listener
        of their own, so tools that cannot route hosts to the emulator (other link
        checkers) still see many distinct hosts: http://127.0.0.2:PORT/… and so on."""
        self.world = world or World()
        self.github = GitHub(self.world)
        self.hf = HuggingFace(self.world)
        self.arxiv = ArXiv(self.world)
        self.web = Web(self.world)
        self.control = Control(self.world)
        self.wayback = Wayback(self.world)
        services: tuple[Handler, ...] = (
            self.github,
            self.hf,
            self.arxiv,
            self.web,
            self.control,
            self.wayback,
        )
        self._listeners = [
            Listener(service, self.world, host, base_port + i if base_port else 0)
            for i, service in enumerate(services)
        ]
        for service, listener in zip(services, self._listeners, strict=True):
            service.base_url = listener.base_url
        self.web.own_hosts = {
            self._listeners[3].netloc,
            self._listeners[3].netloc.replace("127.0.0.1", "localhost"),
        }
        self.web_hosts = [Listener(self.web, self.world, address, 0) for address in web_addresses]
        self._listeners += self.web_hosts
        self._started = False

    def start(self) -> Emulator:
        for listener in self._listeners:
            listener.start()
        self._started = True
        return self

    def stop(self) -> None:
        if self._started:
            for listener in self._listeners:
                listener.stop()
            self._started = False

    def stop_services(self, *names: str) -> None:
        """An outage: the named services (all but the control port, when none are named)
        stop listening; connections to them are refused until `start_services`."""
        for listener in self._chosen(names):
            if not listener.stopped:
                listener.stop()

    def start_services(self, *names: str) -> None:
        """The end of an outage: the named services (or all) listen again, on the same ports."""
        for listener in self._chosen(names):
            if listener.stopped:
                listener.start()

    def _chosen(self, names: Sequence[str]) -> list[Listener]:
        return [
            listener
            for listener in self._listeners
            if listener.service.name != "control" and (not names or listener.service.name in names)
        ]

    def __enter__(self) -> Emulator:
        return self if self._started else self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def github_url(self) -> str:
        return self.github.base_url

    @property
    def hf_url(self) -> str:
        return self.hf.base_url

    @property
    def arxiv_url(self) -> str:
        return f"{self.arxiv.base_url}/api/query"

    @property
    def web_url(self) -> str:
        return self.web.base_url

    @property
    def wayback_url(self) -> str:
        """The Wayback Machine's availability API (archive.org/wayback/available)."""
        return f"{self.wayback.base_url}/wayback/available"

    @property
    def control_url(self) -> str:
        return self.control.base_url

    @property
    def web_host_urls(self) -> list[str]:
        """The base URL of each extra web listener (`web_addresses`), in order."""
        return [listener.base_url for listener in self.web_hosts]

    def page_url(self, path: str) -> str:
        """The URL of a page on the emulator's own web host."""
        return f"{self.web_url}/{path.lstrip('/')}"

    def environment(self) -> dict[str, str]:
        """The settings that point monitor at this emulator."""
        return {
            "MONITOR_GITHUB_API_URL": self.github_url,
            "MONITOR_HF_ENDPOINT": self.hf_url,
            "MONITOR_ARXIV_API_URL": self.arxiv_url,
            "MONITOR_WAYBACK_URL": self.wayback_url,
            # Web checks of every host go to the emulator's web port, Host header kept.
            "MONITOR_CONNECT_TO": f"*={self.web.base_url.removeprefix('http://')}",
        }
