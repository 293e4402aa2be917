"""Alerts: the contract's alert-worthy events, told to people through Apprise, each one once.

This module owns three things:

* the message: `compose` turns the alerts owed to a channel into ONE `Message`
  whose title says how many and what ("monitor: 3 alerts — 1 deleted, 2 dead")
  and whose body has one line per event (name, URL, what happened, the new URL
  or licence where there is one), capped at `MAX_LINES`;
* the channels: `AppriseChannel` (one Apprise URL: email, Slack, Discord,
  Telegram, Matrix, ntfy, a webhook…), `RecordingChannel` (keeps what it is
  sent), both behind the `Channel` protocol;
* the bookkeeping: `register` at the start of a run, `deliver` at its end.
  What each channel is owed lives in the store, per channel, so a channel that
  is down is sent everything it missed on the next run, and a channel that
  worked is never sent anything twice.

A channel is known to the store by its fingerprint, the sha256 of its Apprise
URL. The URL itself is never stored, logged or printed: Apprise URLs carry
tokens. Apprise's own logging (which includes URLs and tokens at some levels)
is silenced while it works; failures are reported here, by a label that names
the channel's position and service and never any part of its URL's secrets.

The body is plain text (Apprise's TEXT format), not markdown: every service
Apprise knows accepts text, and Apprise itself escapes it for the services that
render HTML or markdown, so a hostile name cannot inject markup anywhere and
nothing we write is mangled by a second escaping.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
import unicodedata
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from monitor.errors import Problem, SettingsError
from monitor.model import Event, EventType

if TYPE_CHECKING:
    from monitor.store import Store, StoredEvent

#: Where alert URLs come from, for error messages.
ALERT_URLS_WHERE = "[alerts] urls / MONITOR_ALERT_URLS"

#: Body lines per message; beyond this the last line points at the report.
MAX_LINES = 50

#: Seconds Apprise may spend connecting to, then waiting on, a service, unless the URL
#: says otherwise (`?cto=`, `?rto=`). A dead receiver costs at most this much per run;
#: the read timeout is generous because a service that accepted a message but answered
#: late would be counted as failed, and sent the same alerts again on the next run.
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 15.0

#: The order of the title's counts and of the body's lines: the report's "Needs action"
#: order, then any other event in the contract's order.
_FIRST = (
    EventType.DELETED,
    EventType.DEAD,
    EventType.RENAMED,
    EventType.LICENSE_CHANGED,
    EventType.ARCHIVED,
    EventType.BLOCKED,
    EventType.UNREACHABLE,
    EventType.RECOVERED,
)
ORDER: tuple[EventType, ...] = _FIRST + tuple(t for t in EventType if t not in _FIRST)
_RANK = {event_type: rank for rank, event_type in enumerate(ORDER)}

_WORDS = {EventType.LICENSE_CHANGED: "licence changed"}

#: What happened, when the event carries no detail of its own.
_DEFAULT_WHAT = {
    EventType.DELETED: "gone, the service confirms it",
    EventType.DEAD: "the link is dead on repeated checks",
    EventType.ARCHIVED: "archived upstream, read-only now",
    EventType.BLOCKED: "access blocked by the service",
    EventType.UNREACHABLE: "only transient failures, for days",
}

# Bidirectional overrides can make a line read differently from what it links to.
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")


def word(event_type: EventType) -> str:
    """The event's name as words ("licence changed"), for titles and lines."""
    return _WORDS.get(event_type, event_type.value.replace("_", " "))


# --- the message -------------------------------------------------------------------------------


class Message(NamedTuple):
    """One notification: a title and a plain-text body.

    A named tuple rather than a dataclass: as immutable, and it also unpacks as the
    `(title, body)` pair that callers keeping sent messages (the demo) store."""

    title: str
    body: str


def compose(events: Sequence[StoredEvent], report: str | os.PathLike[str] | None = None) -> Message:
    """The one message that tells a channel about `events`.

    The title counts the events per type in a stable order; the body has one
    line per event, grouped the same way, oldest first within a type. Beyond
    `MAX_LINES` the last line says how many more there are and where to read
    them (`report`).
    """
    ordered = sorted(events, key=lambda e: (_RANK[e.event.event], e.event.at, e.id))
    counts = Counter(e.event.event for e in ordered)
    total = len(ordered)
    if not total:
        return Message("monitor: no alerts", "")
    parts = ", ".join(f"{counts[t]} {word(t)}" for t in ORDER if counts[t])
    title = f"monitor: {total} alert{'' if total == 1 else 's'} — {parts}"
    lines = [line(e) for e in ordered]
    if len(lines) > MAX_LINES:
        kept = MAX_LINES - 1
        where = os.fspath(report) if report is not None else "the day's report"
        lines = [*lines[:kept], f"…and {total - kept} more: see {where}"]
    return Message(title, "\n".join(lines))


def line(stored: StoredEvent) -> str:
    """One event as one line: what, which source (name and URL), and the details."""
    event = stored.event
    url = _url(event.url)
    name = one_line(stored.name)
    source = f"{name} {url}" if name and name != url else url
    what = _what(event)
    return f"{word(event.event)}: {source}" + (f" — {what}" if what else "")


def _what(event: Event) -> str:
    old, new, detail = one_line(event.old), one_line(event.new), one_line(event.detail)
    new_url = _url(event.new_url) if event.new_url else ""
    kind = event.event
    if kind is EventType.RENAMED:
        text = f"{old or '?'} -> {new or '?'}"
        return text + (f", new URL: {new_url}" if new_url else "")
    if kind is EventType.RECOVERED:
        text = f"answers again, was {old}" if old else "answers again"
    elif kind in _DEFAULT_WHAT:
        text = detail or _DEFAULT_WHAT[kind]
    else:
        text = f"{old or '?'} -> {new or '?'}" if old or new else ""
        if detail:
            text = f"{text}; {detail}" if text else detail
    if new_url:
        text = f"{text}; now at {new_url}" if text else f"now at {new_url}"
    return text


def one_line(text: str | None, limit: int = 200) -> str:
    """Remote text made one short, inert line: whitespace (newlines included) collapsed,
    control and bidi-override characters dropped, cut at `limit` characters."""
    if not text:
        return ""
    text = " ".join(_BIDI.sub("", str(text)).split())
    text = "".join(c for c in text if unicodedata.category(c) != "Cc")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _url(url: str | None) -> str:
    # A URL must stay one token so services autolink all of it and nothing after it.
    text = _BIDI.sub("", url or "")
    return re.sub(r"[\s\x00-\x1f\x7f]", lambda m: f"%{ord(m[0]):02X}", text)


def message_for_test(now: datetime) -> Message:
    """What `monitor alerts test` sends."""
    at = now.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return Message(
        "monitor: test alert",
        f"A test message from monitor, sent {at}. Alerts about the catalog (deleted, dead, "
        "renamed, licence changes, …) will arrive here, one message per run.",
    )


# --- channels ----------------------------------------------------------------------------------


class Channel(Protocol):
    """Somewhere alerts go. `send` returns True only when the service accepted the message."""

    @property
    def fingerprint(self) -> str:
        """Stable identity for the store's bookkeeping; never the secret itself."""
        ...

    @property
    def label(self) -> str:
        """Privacy-safe text that tells a human which channel this is."""
        ...

    def send(self, title: str, body: str) -> bool: ...


def fingerprint(url: str) -> str:
    """The store's name for the channel at `url`: sha256 hex, so the URL is never kept."""
    return hashlib.sha256(url.strip().encode()).hexdigest()


class AppriseChannel:
    """One Apprise URL, with an `apprise.Apprise()` of its own.

    Raises `ValueError` with a privacy-safe reason when Apprise cannot use the
    URL (`apprise_channels` turns that into a `SettingsError`).
    """

    def __init__(self, url: str, *, label: str | None = None) -> None:
        with quiet_apprise():
            import apprise

            plugin = _plugin(url.strip())
            self._apprise: Any = apprise.Apprise(asset=_asset())
            self._apprise.add(plugin)
        self._plugin: Any = plugin
        self.fingerprint: str = fingerprint(url)
        self.label: str = label or _describe(plugin)

    @property
    def service(self) -> str:
        """Apprise's name for the service ("Slack", "JSON", "E-Mail")."""
        return str(self._plugin.service_name)

    @property
    def timeouts(self) -> tuple[float, float]:
        """(connect, read) seconds Apprise will wait on this service."""
        return (
            float(self._plugin.socket_connect_timeout),
            float(self._plugin.socket_read_timeout),
        )

    def send(self, title: str, body: str) -> bool:
        with quiet_apprise():
            from apprise import NotifyFormat, NotifyType

            try:
                result = self._apprise.notify(
                    body=body,
                    title=title,
                    notify_type=NotifyType.WARNING,
                    body_format=NotifyFormat.TEXT,
                )
            except Exception:  # the boundary with third-party code: a crash is a failed send
                return False
        return bool(result)

    def __repr__(self) -> str:
        return f"AppriseChannel({self.label!r})"


class RecordingChannel:
    """A channel that keeps what it is sent, for tests and dry runs; `fail` makes it refuse."""

    def __init__(self, label: str = "recording", *, fail: bool = False) -> None:
        self.label = label
        self.fingerprint = fingerprint(f"recording:{label}")
        self.fail = fail
        self.messages: list[Message] = []
        self.attempts = 0

    def send(self, title: str, body: str) -> bool:
        self.attempts += 1
        if self.fail:
            return False
        self.messages.append(Message(title, body))
        return True

    def __repr__(self) -> str:
        return f"RecordingChannel({self.label!r}, fail={self.fail})"


def apprise_channels(urls: Sequence[str]) -> list[Channel]:
    """One channel per Apprise URL (duplicates once), labelled by position ("#2 Slack").

    Raises `SettingsError` naming every entry Apprise does not understand, by
    position and never by its text, with how to fix it.
    """
    channels: list[Channel] = []
    problems: list[Problem] = []
    seen: set[str] = set()
    for position, url in enumerate(urls, start=1):
        if fingerprint(url) in seen:
            continue
        seen.add(fingerprint(url))
        try:
            channel = AppriseChannel(url)
        except ValueError as exc:
            reason, _, hint = str(exc).partition("\n")
            problems.append(
                Problem(
                    ALERT_URLS_WHERE,
                    f"alert URL #{position} is not understood by Apprise: {reason}",
                    hint=hint or None,
                )
            )
            continue
        channel.label = f"#{position} {channel.label}"
        channels.append(channel)
    if problems:
        raise SettingsError(problems)
    return channels


_SERVICES_HINT = "the services and their URL forms are listed at https://appriseit.com/services/"
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]{0,31})://")


def _plugin(url: str) -> Any:
    """Apprise's plugin for `url`, with monitor's defaults where the URL sets none."""
    import apprise
    from apprise.plugins import url_to_dict

    results: Any = url_to_dict(url, secure_logging=True)  # type: ignore[no-untyped-call]
    if not results:
        raise ValueError(_why_not(url))
    # A message longer than a service takes (Discord: 2000 characters) would be refused
    # whole, and retried, and refused, on every run; split, it arrives in parts.
    results.setdefault("overflow", "split")
    try:
        plugin = apprise.Apprise.instantiate(results, asset=_asset(), suppress_exceptions=False)
    except Exception:
        # The exception's text may quote the token it rejected: it is not repeated here.
        plugin = None
        failed = True
    else:
        failed = False
    if plugin is None:
        service = _service_of(results.get("schema"))
        if not failed:
            raise ValueError(
                f"its service ({service.service_name if service else '?'}) is disabled on "
                "this machine\ninstall what that Apprise service needs, or use another one"
            )
        setup = getattr(service, "setup_url", None) if service else None
        raise ValueError(
            f"it is a {service.service_name if service else 'known'} URL with a missing or "
            f"invalid part\ncheck it against {setup or _SERVICES_HINT}"
        )
    if "cto" not in results:
        plugin.socket_connect_timeout = max(CONNECT_TIMEOUT, plugin.socket_connect_timeout)
    if "rto" not in results:
        plugin.socket_read_timeout = max(READ_TIMEOUT, plugin.socket_read_timeout)
    return plugin


def _why_not(url: str) -> str:
    match = _SCHEME.match(url)
    if match is None:
        return (
            "it is not a URL of the form service://…\n"
            "write it as, e.g., mailto://, slack://, discord://, tgram://, ntfy://, json://…; "
            + _SERVICES_HINT
        )
    scheme = match[1].lower()
    service = _service_of(scheme)
    if service is None:
        hint = _SERVICES_HINT
        if scheme in ("http", "https"):
            hint = f"for a plain webhook write json{scheme[4:]}://… instead of {scheme}://…; {hint}"
        return f"it starts with {scheme}://, which is not an Apprise service\n{hint}"
    setup = getattr(service, "setup_url", None)
    return (
        f"it is a {service.service_name} URL that Apprise cannot read (a required part is "
        f"missing)\ncheck it against {setup or _SERVICES_HINT}"
    )


def _service_of(scheme: Any) -> Any:
    from apprise.manager_plugins import NotificationManager

    manager: Any = NotificationManager()  # type: ignore[no-untyped-call]
    if isinstance(scheme, str) and scheme in manager:
        return manager[scheme]
    return None


def _asset() -> Any:
    from apprise import AppriseAsset

    # The name services show as the sender (a Slack or Discord bot name).
    return AppriseAsset(app_id="monitor", app_desc="monitor: link and freshness alerts")


_HOST = re.compile(
    r"^(localhost|\d{1,3}(\.\d{1,3}){3}|\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+)$"
)


def _describe(plugin: Any) -> str:
    # Built from the service's name and host only: Apprise's own privacy URL still shows a
    # webhook's path, its header values and an ntfy topic, any of which may be the secret.
    # A "host" without a dot is often a token (Slack, Discord, ntfy), so it is left out.
    label = str(plugin.service_name)
    host = plugin.host if isinstance(plugin.host, str) else ""
    if _HOST.match(host):
        label += f" {host}"
        if isinstance(plugin.port, int):
            label += f":{plugin.port}"
    return label


# --- keeping Apprise quiet ---------------------------------------------------------------------

#: Loggers that may print an Apprise URL, a token, or a request path that holds one
#: (urllib3 logs "POST /bot<token>/sendMessage" at debug level).
_NOISY = ("apprise", "urllib3", "requests")
_quiet_lock = threading.Lock()
_quiet_depth = 0
_saved: dict[str, tuple[int, bool]] = {}


@contextmanager
def quiet_apprise() -> Iterator[None]:
    """Silence Apprise and the HTTP stack under it for the duration; restores them after."""
    global _quiet_depth
    with _quiet_lock:
        if _quiet_depth == 0:
            _saved.clear()
            for name in _noisy_loggers():
                logger = logging.getLogger(name)
                _saved[name] = (logger.level, logger.disabled)
                logger.disabled = True
                if name in _NOISY:
                    # Loggers created while quiet inherit this level from their parent.
                    logger.setLevel(logging.CRITICAL + 1)
        _quiet_depth += 1
    try:
        yield
    finally:
        with _quiet_lock:
            _quiet_depth -= 1
            if _quiet_depth == 0:
                for name, (level, disabled) in _saved.items():
                    logger = logging.getLogger(name)
                    logger.setLevel(level)
                    logger.disabled = disabled
                _saved.clear()


def _noisy_loggers() -> list[str]:
    known = list(logging.Logger.manager.loggerDict)
    return [n for n in known if n.split(".")[0] in _NOISY] + [n for n in _NOISY if n not in known]


# --- the bookkeeping ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ChannelDelivery:
    """What one channel was owed this time, and how much of it it accepted."""

    label: str
    owed: int = 0
    sent: int = 0

    @property
    def ok(self) -> bool:
        return self.sent == self.owed


@dataclass(frozen=True, slots=True)
class Delivery:
    """What `deliver` did, per channel. An alert sent to two channels counts twice."""

    channels: tuple[ChannelDelivery, ...] = field(default_factory=tuple)

    @property
    def sent(self) -> int:
        """Alerts delivered now, over every channel."""
        return sum(c.sent for c in self.channels)

    @property
    def failed(self) -> tuple[str, ...]:
        """Labels of the channels that did not accept their message; it is owed to them still."""
        return tuple(c.label for c in self.channels if not c.ok)

    @property
    def pending(self) -> int:
        """Alerts still owed after this delivery, over every channel."""
        return sum(c.owed - c.sent for c in self.channels)

    @property
    def by_label(self) -> dict[str, ChannelDelivery]:
        return {c.label: c for c in self.channels}

    def lines(self) -> list[str]:
        """For people: "Alerts sent…" lines for successes, one warning per failed channel."""
        found = [f"Alerts sent: {c.sent} to {c.label}" for c in self.channels if c.sent and c.ok]
        found += [
            f"alerts: {c.label} did not accept {c.owed} alert(s); they will be sent on the next run"
            for c in self.channels
            if not c.ok
        ]
        return found


def register(store: Store, channels: Sequence[Channel], now: datetime) -> None:
    """Make the store know every channel, before this run records its events: a channel
    seen for the first time is owed this run's alerts, and none from before."""
    for channel in channels:
        store.alert_channel(channel.fingerprint, now)


def deliver(
    store: Store,
    channels: Sequence[Channel],
    now: datetime,
    *,
    report: str | os.PathLike[str] | None = None,
) -> Delivery:
    """Send each channel one message with every alert owed to it (this run's, and any an
    earlier run failed to deliver); mark them delivered to it only if it accepted them."""
    results = []
    for channel in channels:
        channel_id = store.alert_channel(channel.fingerprint, now)
        owed = store.undelivered_alerts(channel_id)
        if not owed:
            results.append(ChannelDelivery(channel.label))
            continue
        message = compose(owed, report)
        if channel.send(message.title, message.body):
            store.mark_delivered(channel_id, [e.id for e in owed], now)
            results.append(ChannelDelivery(channel.label, len(owed), len(owed)))
        else:
            results.append(ChannelDelivery(channel.label, len(owed), 0))
    return Delivery(tuple(results))


def send_test(channels: Sequence[Channel], now: datetime) -> list[tuple[str, bool]]:
    """Send the test message to every channel: (label, accepted) for each."""
    message = message_for_test(now)
    return [(channel.label, channel.send(message.title, message.body)) for channel in channels]
