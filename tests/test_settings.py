"""Settings: CLI over environment over catalog over defaults; tokens only from the environment."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.errors import SettingsError
from monitor.settings import Policy, Secret, Settings, resolve_settings


def test_defaults_are_the_contract() -> None:
    """With nothing set, every value is the contract's default."""
    settings = resolve_settings({})
    assert settings == Settings()
    assert settings.catalog == Path("sources.toml")
    assert settings.database_url == "sqlite:///monitor.db"
    assert settings.reports_dir == Path("reports")
    assert settings.github_api_url == "https://api.github.com"
    assert settings.hf_endpoint == "https://huggingface.co"
    assert settings.arxiv_api_url == "https://export.arxiv.org/api/query"
    assert settings.github_token is None and settings.hf_token is None
    assert settings.alert_urls == () and settings.now is None
    assert settings.policy == Policy(
        deleted_after_checks=2,
        deleted_min_hours=24,
        dead_after_checks=3,
        dead_min_hours=48,
        unreachable_after_days=7,
        unverifiable_after_days=3,
        stale_after_days=365,
        degraded_host_share=0.5,
    )
    assert settings.probes.service_deadline_seconds == 600
    assert settings.probes.allow_private_redirects is False


def test_precedence() -> None:
    """--now beats MONITOR_NOW, the environment beats [settings], [settings] beats defaults."""
    tables = {"settings": {"reports_dir": "from-file", "hf_endpoint": "http://file:1"}}
    env = {"MONITOR_HF_ENDPOINT": "http://env:2", "MONITOR_NOW": "2026-01-01T00:00:00Z"}
    settings = resolve_settings(env, tables, now="2026-02-02T12:00:00+02:00")
    assert settings.reports_dir == Path("from-file")
    assert settings.hf_endpoint == "http://env:2"
    assert settings.now == datetime(2026, 2, 2, 10, tzinfo=UTC)


def test_tokens_come_from_the_environment_and_hide() -> None:
    """Tokens are read from GITHUB_TOKEN and HF_TOKEN, and never show in repr or str."""
    settings = resolve_settings({"GITHUB_TOKEN": "ghp_secretvalue", "HF_TOKEN": "hf_other"})
    assert settings.github_token is not None and settings.github_token.reveal() == "ghp_secretvalue"
    assert "secretvalue" not in repr(settings) and "hf_other" not in repr(settings)
    assert str(Secret("x")) == "***"
    assert set(settings.secrets()) == {"ghp_secretvalue", "hf_other"}


@pytest.mark.parametrize("key", ["github_token", "hf_token", "api_secret", "catalog", "now"])
def test_refused_in_the_file(key: str) -> None:
    """Tokens, anything token-like, the catalog path and the clock cannot live in [settings]."""
    with pytest.raises(SettingsError) as caught:
        resolve_settings({}, {"settings": {key: "x"}}, line_of=lambda t, k: 7)
    assert caught.value.problems[0].line == 7


@pytest.mark.parametrize(
    ("env", "words"),
    [
        ({"MONITOR_NOW": "2026-01-01T00:00:00"}, "no UTC offset"),
        ({"MONITOR_NOW": "yesterday"}, "MONITOR_NOW"),
        ({"MONITOR_GITHUB_API_URL": "api.github.com"}, "not an http"),
        ({"MONITOR_DATABASE_URL": "monitor.db"}, "SQLAlchemy URL"),
    ],
)
def test_bad_environment(env: dict[str, str], words: str) -> None:
    """Invalid environment values are reported naming the variable."""
    with pytest.raises(SettingsError, match=words) as caught:
        resolve_settings(env)
    assert "environment variable" in caught.value.problems[0].where


def test_all_problems_at_once() -> None:
    """Several invalid values are all reported in one error."""
    with pytest.raises(SettingsError) as caught:
        resolve_settings(
            {"MONITOR_NOW": "x", "MONITOR_HF_ENDPOINT": "y"}, {"policy": {"stale_after_days": -1}}
        )
    assert len(caught.value.problems) == 3


def test_alert_urls_split_on_spaces_and_commas() -> None:
    """MONITOR_ALERT_URLS is split on spaces and commas, and beats [alerts] urls."""
    env = {"MONITOR_ALERT_URLS": "json://a, ntfy://b  json://c"}
    settings = resolve_settings(env, {"alerts": {"urls": ["json://file"]}})
    assert [u.reveal() for u in settings.alert_urls] == ["json://a", "ntfy://b", "json://c"]
    assert [
        u.reveal() for u in resolve_settings({}, {"alerts": {"urls": ["json://f"]}}).alert_urls
    ] == ["json://f"]


@pytest.mark.parametrize(
    ("base", "graphql"),
    [
        ("https://api.github.com", "https://api.github.com/graphql"),
        ("https://ghe.example.org/api/v3", "https://ghe.example.org/api/graphql"),
        ("http://127.0.0.1:8000/", "http://127.0.0.1:8000/graphql"),
    ],
)
def test_graphql_url(base: str, graphql: str) -> None:
    """GraphQL lives at <base>/graphql, and /api/v3 becomes /api/graphql."""
    assert resolve_settings({"MONITOR_GITHUB_API_URL": base}).github_graphql_url == graphql


def test_policy_and_schedule_from_tables() -> None:
    """[policy] and [schedule] values override the defaults."""
    settings = resolve_settings(
        {},
        {
            "policy": {"dead_min_hours": 72, "degraded_host_share": 0.75},
            "schedule": {"digest": "Fri 9:30", "timezone": "Asia/Shanghai"},
        },
    )
    assert settings.policy.dead_min_hours == 72 and settings.policy.degraded_host_share == 0.75
    assert settings.schedule.digest == "fri 09:30" and settings.schedule.timezone == "Asia/Shanghai"


def test_every_table_key_has_an_environment_variable() -> None:
    """MONITOR_<TABLE>_<KEY> overrides [policy], [probes] and [schedule] values in the catalog."""
    tables = {"policy": {"dead_min_hours": 72}, "probes": {"web_per_host": 2}}
    env = {
        "MONITOR_POLICY_DEAD_MIN_HOURS": "96",
        "MONITOR_PROBES_ARXIV_INTERVAL_SECONDS": "0",
        "MONITOR_SCHEDULE_TIMEZONE": "Asia/Shanghai",
    }
    settings = resolve_settings(env, tables)
    assert settings.policy.dead_min_hours == 96
    assert settings.probes.web_per_host == 2 and settings.probes.arxiv_interval_seconds == 0.0
    assert settings.schedule.timezone == "Asia/Shanghai"
    with pytest.raises(SettingsError, match="MONITOR_PROBES_WEB_PER_HOST"):
        resolve_settings({"MONITOR_PROBES_WEB_PER_HOST": "many"})


def test_connect_to() -> None:
    """MONITOR_CONNECT_TO maps hosts (or * for all) to an address; a malformed one is refused."""
    settings = resolve_settings({"MONITOR_CONNECT_TO": "a.example=127.0.0.1:8080, *=127.0.0.1:9"})
    assert dict(settings.connect_to) == {"a.example": "127.0.0.1:8080", "*": "127.0.0.1:9"}
    with pytest.raises(SettingsError, match="HOST=ADDRESS:PORT"):
        resolve_settings({"MONITOR_CONNECT_TO": "a.example"})
