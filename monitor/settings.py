"""One typed `Settings` object: command line over environment over the catalog over defaults.

This module owns the names and defaults of every setting in the contract
(`MONITOR_*`, `GITHUB_TOKEN`, `HF_TOKEN`) and of the `[settings]`, `[policy]`,
`[schedule]`, `[alerts]`, `[probes]`, `[catalog]` and `[gate]` tables of
`sources.toml`. It validates all of them and reports every problem at once, with
the catalog line where a value came from the file (single values are checked by
`settings_checks`, the tables that are more than key = value read by
`settings_tables`).

Tokens are read from the environment only. A token in the catalog file is an
error: catalogs get committed and shared, tokens must not be.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from monitor.errors import Problem, SettingsError
from monitor.settings_checks import (
    check_base_url,
    check_cron,
    check_database_url,
    check_heartbeat,
    check_jitter,
    check_repo,
    check_timezone,
    check_weekly,
    parse_connect_to,
    parse_now,
    split_alert_urls,
)
from monitor.settings_tables import (
    LineOf,
    catalog_table,
    gate_table,
    hosts_accept,
    table_of,
    unknown_key,
)

DEFAULT_CATALOG = "sources.toml"
DEFAULT_DATABASE_URL = "sqlite:///monitor.db"
DEFAULT_REPORTS_DIR = "reports"
DEFAULT_GITHUB_API_URL = "https://api.github.com"
DEFAULT_HF_ENDPOINT = "https://huggingface.co"
DEFAULT_ARXIV_API_URL = "https://export.arxiv.org/api/query"
DEFAULT_WAYBACK_URL = "https://archive.org/wayback/available"

#: Environment variables that hold credentials. Tests scrub these, and the CLI
#: redacts their values from anything it prints.
SECRET_ENV_VARS = ("GITHUB_TOKEN", "HF_TOKEN")


@dataclass(frozen=True, slots=True)
class Secret:
    """A credential. Its repr and str never show the value; `reveal()` does, on purpose."""

    _value: str = field(repr=False)

    def reveal(self) -> str:
        return self._value

    def __str__(self) -> str:
        return "***"

    def __repr__(self) -> str:
        return "Secret('***')"


@dataclass(frozen=True, slots=True)
class Policy:
    """When failures become verdicts. Defaults are the contract's; `[policy]` overrides them."""

    deleted_after_checks: int = 2
    deleted_min_hours: int = 24
    dead_after_checks: int = 3
    dead_min_hours: int = 48
    unreachable_after_days: int = 7
    #: a web link answering robots only with refusals (bot walls, 999, 429) this long
    unverifiable_after_days: int = 3
    #: good answers in a row before a deleted, dead, blocked or unreachable source recovers
    recovered_after_checks: int = 2
    stale_after_days: int = 365
    #: A run in which more than this share of hosts fail at the network level is degraded.
    degraded_host_share: float = 0.5
    #: A source checked more recently than this is not due yet (0: every run checks all).
    recheck_after_minutes: int = 60
    #: `[policy.hosts."linkedin.com"] accept = [999]`: (host, statuses) that count as alive
    #: for every source on that host, subdomains included
    hosts_accept: tuple[tuple[str, tuple[int, ...]], ...] = ()

    def accepted(self, host: str) -> tuple[int, ...]:
        """The statuses `[policy.hosts]` accepts for `host` (or a domain it is under)."""
        host = host.lower().rstrip(".")
        found: set[int] = set()
        for name, statuses in self.hosts_accept:
            if host == name or host.endswith("." + name):
                found.update(statuses)
        return tuple(sorted(found))


DEFAULT_USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36 monitor-link-check"
)


@dataclass(frozen=True, slots=True)
class Probes:
    """How hard each probe may press its service. `[probes]` overrides these."""

    github_batch_size: int = 100
    #: what a service has not answered this long into a run is deferred to the next run
    service_deadline_seconds: int = 600
    #: the longest one request to GitHub, the Hub or arXiv may take
    api_timeout_seconds: float = 20.0
    #: the first retry of a failed API request waits this long, the next twice as long
    api_retry_backoff_ms: int = 1000
    #: the longest Retry-After any probe waits for within a run; longer: deferred
    max_wait_seconds: int = 60
    #: follow redirects from public hosts into loopback, link-local and private addresses
    allow_private_redirects: bool = False
    hf_workers: int = 4
    #: an owner with at least this many entries of one type is served by one listing
    #: (2: see `probes.huggingface.LIST_THRESHOLD` for what each threshold costs)
    hf_list_threshold: int = 2
    web_concurrency: int = 64
    web_per_host: int = 4
    web_min_interval_ms: int = 10
    web_timeout_seconds: float = 15.0
    #: the first retry of a transient failure waits this long, the second twice as long
    web_retry_backoff_ms: int = 1000
    #: arXiv's terms: no more than one request every 3 seconds
    arxiv_interval_seconds: float = 3.0
    user_agent: str = DEFAULT_USER_AGENT


@dataclass(frozen=True, slots=True)
class Schedule:
    """When `monitor daemon` runs the check and the weekly digest.

    `check` is a five-field cron expression, `digest` a weekday and a time; either
    may instead be a fixed period, "every 30s" / "every 6h" (handy for trials).
    """

    check: str = "0 */6 * * *"
    digest: str = "mon 08:00"
    timezone: str = "UTC"
    jitter_seconds: int = 300
    #: how often the daemon writes its heartbeat to the store
    heartbeat_seconds: int = 60


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything a run needs to know that is not in the catalog's entries."""

    catalog: Path = Path(DEFAULT_CATALOG)
    database_url: str = DEFAULT_DATABASE_URL
    reports_dir: Path = Path(DEFAULT_REPORTS_DIR)
    github_api_url: str = DEFAULT_GITHUB_API_URL
    github_token: Secret | None = None
    hf_endpoint: str = DEFAULT_HF_ENDPOINT
    hf_token: Secret | None = None
    arxiv_api_url: str = DEFAULT_ARXIV_API_URL
    #: the repository that holds the list, OWNER/NAME (tracking issue, repair pull request)
    github_repo: str | None = None
    #: the Wayback Machine's availability API (archived copies of dead links)
    wayback_url: str = DEFAULT_WAYBACK_URL
    alert_urls: tuple[Secret, ...] = ()
    now: datetime | None = None
    #: test and demo routing of web checks: host -> "address:port" ("*" for every host)
    connect_to: tuple[tuple[str, str], ...] = ()
    policy: Policy = Policy()
    schedule: Schedule = Schedule()
    probes: Probes = Probes()
    #: `[catalog] documents`: the documents the catalog is kept from (relative to the catalog)
    documents: tuple[str, ...] = ()
    #: `[catalog] exclude`: regular expressions; links they match are not imported
    exclude: tuple[str, ...] = ()
    #: `[gate] errors`: the admission warnings `monitor gate` counts as errors
    gate_errors: tuple[str, ...] = ()

    @property
    def github_graphql_url(self) -> str:
        """GitHub's GraphQL endpoint for this REST base (`/api/v3` becomes `/api/graphql`)."""
        base = self.github_api_url.rstrip("/")
        if base.endswith("/v3"):
            base = base[: -len("/v3")]
        return base + "/graphql"

    def secrets(self) -> tuple[str, ...]:
        """Every credential value, so output can be scrubbed of them."""
        found = [s.reveal() for s in (self.github_token, self.hf_token) if s is not None]
        found += [s.reveal() for s in self.alert_urls]
        return tuple(v for v in found if v)


# --- the table of settings --------------------------------------------------------------------

#: setting name -> (environment variable, may it appear in [settings]?)
_ENV: dict[str, tuple[str, bool]] = {
    "catalog": ("MONITOR_CATALOG", False),
    "database_url": ("MONITOR_DATABASE_URL", True),
    "reports_dir": ("MONITOR_REPORTS_DIR", True),
    "github_api_url": ("MONITOR_GITHUB_API_URL", True),
    "github_token": ("GITHUB_TOKEN", False),
    "hf_endpoint": ("MONITOR_HF_ENDPOINT", True),
    "hf_token": ("HF_TOKEN", False),
    "arxiv_api_url": ("MONITOR_ARXIV_API_URL", True),
    "alert_urls": ("MONITOR_ALERT_URLS", False),
    "now": ("MONITOR_NOW", False),
    "github_repo": ("MONITOR_GITHUB_REPO", True),
    "wayback_url": ("MONITOR_WAYBACK_URL", True),
}

#: Why a setting may not live in [settings], for the error message.
_NOT_IN_FILE = {
    "catalog": "the catalog cannot name itself; use --catalog or MONITOR_CATALOG",
    "github_token": "tokens are read from the environment only; set GITHUB_TOKEN",
    "hf_token": "tokens are read from the environment only; set HF_TOKEN",
    "alert_urls": "alert URLs go in the [alerts] table as `urls`, or in MONITOR_ALERT_URLS",
    "now": "the clock is set per run with --now or MONITOR_NOW, never in the catalog",
}

#: Keys that look like credentials, refused anywhere in [settings].
_TOKEN_LIKE = re.compile(r"token|secret|password", re.IGNORECASE)

TABLES = ("settings", "policy", "schedule", "alerts", "probes", "catalog", "gate")

"""(table, key) -> the catalog line that key is on, if known."""


_CHECKS: dict[str, Callable[[str], Any]] = {
    "database_url": check_database_url,
    "github_api_url": check_base_url,
    "hf_endpoint": check_base_url,
    "arxiv_api_url": check_base_url,
    "wayback_url": check_base_url,
    "github_repo": check_repo,
    "now": parse_now,
}


def resolve_settings(
    environ: Mapping[str, str],
    tables: Mapping[str, Mapping[str, Any]] | None = None,
    *,
    catalog: Path | None = None,
    now: str | None = None,
    where: str = DEFAULT_CATALOG,
    line_of: LineOf | None = None,
) -> Settings:
    """Build `Settings`: command line over `environ` over the catalog's `tables` over defaults.

    `tables` is the parsed catalog (only its `settings`, `policy`, `schedule`
    and `alerts` tables are read). Raises `SettingsError` listing every
    invalid value, each located in the environment or on its catalog line.
    """
    tables = tables or {}
    locate: LineOf = line_of or (lambda _table, _key: None)
    problems: list[Problem] = []
    values: dict[str, Any] = {}

    file_settings = table_of(tables, "settings", where, problems, locate)
    for key in file_settings:
        if key in _NOT_IN_FILE:
            problems.append(
                Problem(
                    where,
                    f"[settings] {key} is not allowed here",
                    locate("settings", key),
                    _NOT_IN_FILE[key],
                )
            )
        elif _TOKEN_LIKE.search(key):
            problems.append(
                Problem(
                    where,
                    f"[settings] {key} looks like a credential",
                    locate("settings", key),
                    "credentials are read from the environment only",
                )
            )
        elif key not in _ENV:
            problems.append(unknown_key(where, "settings", key, list(_file_keys()), locate))

    def take(name: str, raw: Any, source: str, line: int | None) -> None:
        if not isinstance(raw, str) or not raw.strip():
            problems.append(Problem(source, f"{name} must be a non-empty string", line))
            return
        check = _CHECKS.get(name)
        try:
            values[name] = check(raw) if check else raw
        except ValueError as exc:
            problems.append(Problem(source, f"{name} = {raw!r} is invalid: {exc}", line))

    for name, (env_var, in_file) in _ENV.items():
        if name == "catalog" and catalog is not None:
            values[name] = str(catalog)
        elif name == "now" and now is not None:
            take(name, now, "--now", None)
        elif environ.get(env_var, "").strip():
            take(name, environ[env_var], f"environment variable {env_var}", None)
        elif in_file and name in file_settings:
            take(name, file_settings[name], where, locate("settings", name))

    alert_urls = _alert_urls(environ, tables, where, problems, locate)
    if alert_urls:
        # Apprise decides what an alert URL is: checked here, `catalog check` refuses what
        # `monitor check` would (Apprise loads only when there are URLs to check).
        from monitor.alerts import apprise_channels

        try:
            apprise_channels(alert_urls)
        except SettingsError as exc:
            line = (
                None if environ.get("MONITOR_ALERT_URLS", "").strip() else locate("alerts", "urls")
            )
            problems.extend(replace(p, line=p.line or line) for p in exc.problems)
    hosts = hosts_accept(tables, where, problems, locate)
    policy = _typed_table(Policy, "policy", environ, tables, where, problems, locate)
    policy = replace(policy, hosts_accept=hosts)
    documents, exclude = catalog_table(tables, where, problems, locate)
    gate_errors = gate_table(tables, where, problems, locate)
    probes = _typed_table(Probes, "probes", environ, tables, where, problems, locate)
    schedule = _schedule(environ, tables, where, problems, locate)
    connect_to: tuple[tuple[str, str], ...] = ()
    if environ.get("MONITOR_CONNECT_TO", "").strip():
        try:
            connect_to = tuple(parse_connect_to(environ["MONITOR_CONNECT_TO"]).items())
        except ValueError as exc:
            problems.append(Problem("environment variable MONITOR_CONNECT_TO", str(exc)))

    if problems:
        raise SettingsError(problems)

    def secret(name: str) -> Secret | None:
        raw = values.get(name)
        return Secret(raw.strip()) if raw else None

    return Settings(
        catalog=Path(values.get("catalog", DEFAULT_CATALOG)),
        database_url=values.get("database_url", DEFAULT_DATABASE_URL),
        reports_dir=Path(values.get("reports_dir", DEFAULT_REPORTS_DIR)),
        github_api_url=values.get("github_api_url", DEFAULT_GITHUB_API_URL),
        github_token=secret("github_token"),
        hf_endpoint=values.get("hf_endpoint", DEFAULT_HF_ENDPOINT),
        hf_token=secret("hf_token"),
        arxiv_api_url=values.get("arxiv_api_url", DEFAULT_ARXIV_API_URL),
        github_repo=values.get("github_repo"),
        wayback_url=values.get("wayback_url", DEFAULT_WAYBACK_URL),
        alert_urls=tuple(Secret(u) for u in alert_urls),
        now=values.get("now"),
        connect_to=connect_to,
        policy=policy,
        documents=documents,
        exclude=exclude,
        gate_errors=gate_errors,
        schedule=schedule,
        probes=probes,
    )


def _file_keys() -> tuple[str, ...]:
    return tuple(name for name, (_, in_file) in _ENV.items() if in_file)


def _alert_urls(
    environ: Mapping[str, str],
    tables: Mapping[str, Any],
    where: str,
    problems: list[Problem],
    locate: LineOf,
) -> tuple[str, ...]:
    alerts = table_of(tables, "alerts", where, problems, locate)
    for key in alerts:
        if key != "urls":
            problems.append(unknown_key(where, "alerts", key, ["urls"], locate))
    if environ.get("MONITOR_ALERT_URLS", "").strip():
        return split_alert_urls(environ["MONITOR_ALERT_URLS"])
    raw = alerts.get("urls", [])
    if isinstance(raw, str):
        return split_alert_urls(raw)
    if isinstance(raw, list) and all(isinstance(u, str) for u in raw):
        return tuple(u for u in raw if u.strip())
    problems.append(
        Problem(
            where,
            "[alerts] urls must be a list of Apprise URL strings",
            locate("alerts", "urls"),
            'e.g. urls = ["ntfy://my-topic"]',
        )
    )
    return ()


T = TypeVar("T")


def table_variable(table: str, key: str) -> str:
    """The environment variable that overrides `[table] key`: MONITOR_TABLE_KEY."""
    return f"MONITOR_{table}_{key}".upper()


def _typed_table(
    cls: type[T],
    name: str,
    environ: Mapping[str, str],
    tables: Mapping[str, Any],
    where: str,
    problems: list[Problem],
    locate: LineOf,
) -> T:
    """A table of numbers and strings, checked against `cls`'s defaults, the environment first."""
    table = table_of(tables, name, where, problems, locate)
    defaults = cls()
    known = {
        f: getattr(defaults, f)
        for f in cls.__dataclass_fields__  # type: ignore[attr-defined]
        if not isinstance(getattr(defaults, f), tuple)  # tables of their own (hosts)
    }
    for key in table:
        if key == "hosts" and name == "policy":
            continue  # [policy.hosts."…"], read by _hosts_accept
        if key not in known:
            problems.append(unknown_key(where, name, key, list(known), locate))
    values: dict[str, Any] = {}
    for key, default in known.items():
        variable = table_variable(name, key)
        if environ.get(variable, "").strip():
            raw: Any = environ[variable].strip()
            source, line = f"environment variable {variable}", None
            if not isinstance(default, str | bool):
                with contextlib.suppress(ValueError):  # left as text, refused below
                    raw = float(raw) if isinstance(default, float) else int(raw)
        elif key in table:
            raw, source, line = table[key], where, locate(name, key)
        else:
            continue
        if isinstance(default, bool):
            if isinstance(raw, str) and raw.lower() in ("true", "false", "1", "0", "yes", "no"):
                raw = raw.lower() in ("true", "1", "yes")
            ok, expect = isinstance(raw, bool), "true or false"
        elif isinstance(default, str):
            ok, expect = isinstance(raw, str) and bool(raw.strip()), "a non-empty string"
        elif isinstance(default, float):
            number = isinstance(raw, int | float) and not isinstance(raw, bool)
            if name == "policy":
                ok, expect = number and 0 < raw <= 1, "a number between 0 and 1"
            elif key.endswith("timeout_seconds"):
                ok, expect = number and raw > 0, "a number of seconds, more than 0"
            else:
                ok, expect = number and raw >= 0, "a number, 0 or more"
        else:
            # Rechecking sooner than a minute is a choice (every run checks everything), and
            # so is retrying without a pause or never waiting for a Retry-After; every other
            # count or duration of 0 would make the policy meaningless.
            least = 0 if key in _ZERO_ALLOWED or key.endswith("_backoff_ms") else 1
            ok = isinstance(raw, int) and not isinstance(raw, bool) and raw >= least
            expect = f"a whole number of at least {least}"
        if ok:
            values[key] = type(default)(raw)
        else:
            problems.append(
                Problem(
                    source,
                    f"[{name}] {key} = {raw!r} must be {expect}",
                    line,
                    f"the default is {_toml_value(default)}",
                )
            )
    return cls(**values)


#: Whole-number settings for which 0 is a meaningful choice.
_ZERO_ALLOWED = frozenset({"recheck_after_minutes", "max_wait_seconds"})


def _toml_value(value: object) -> str:
    """A default as it would be written in the catalog (`false`, not `False`)."""
    return str(value).lower() if isinstance(value, bool) else str(value)


def _schedule(
    environ: Mapping[str, str],
    tables: Mapping[str, Any],
    where: str,
    problems: list[Problem],
    locate: LineOf,
) -> Schedule:
    table = dict(table_of(tables, "schedule", where, problems, locate))
    for key in Schedule.__dataclass_fields__:
        value = environ.get(table_variable("schedule", key), "").strip()
        if value:
            numeric = key in ("jitter_seconds", "heartbeat_seconds")
            table[key] = int(value) if numeric and value.isdigit() else value
    checks: dict[str, Callable[[Any], Any]] = {
        "check": check_cron,
        "digest": check_weekly,
        "timezone": lambda v: (check_timezone(v), v)[1],
        "jitter_seconds": check_jitter,
        "heartbeat_seconds": check_heartbeat,
    }
    values: dict[str, Any] = {}
    for key, raw in table.items():
        if key not in checks:
            problems.append(unknown_key(where, "schedule", key, list(checks), locate))
            continue
        try:
            if key not in ("jitter_seconds", "heartbeat_seconds") and not isinstance(raw, str):
                raise ValueError("it must be a string")
            values[key] = checks[key](raw)
        except ValueError as exc:
            problems.append(
                Problem(
                    where, f"[schedule] {key} = {raw!r} is invalid: {exc}", locate("schedule", key)
                )
            )
    return Schedule(**values)
