"""Alerts from the command line: `monitor check` against the emulator, a webhook on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.cli import main
from monitor.emulator import AlertReceiver, Emulator, World
from tests.harness import Monitor

CATALOG = """
[[source]]
url = "https://huggingface.co/banana-dev/GPTrillion"
name = "GPTrillion"

[[source]]
url = "https://github.com/tatsu-lab/stanford_alpaca"
name = "Stanford Alpaca"
"""


@pytest.fixture
def receiver() -> Iterator[AlertReceiver]:
    with AlertReceiver() as running:
        yield running


@pytest.fixture
def monitor(
    tmp_path: Path,
    world: World,
    emulator: Emulator,
    monkeypatch: pytest.MonkeyPatch,
    receiver: AlertReceiver,
) -> Monitor:
    world.add_hf_repo("banana-dev/GPTrillion", likes=10)
    world.add_repo("tatsu-lab/stanford_alpaca", stars=29000)
    monkeypatch.setenv("MONITOR_ALERT_URLS", receiver.url + "?rto=2")
    return Monitor(tmp_path, emulator, monkeypatch, CATALOG)


def test_each_alert_reaches_the_webhook_once_even_across_an_outage(
    monitor: Monitor, world: World, receiver: AlertReceiver
) -> None:
    """A deletion alert missed while the webhook was down arrives on the next run, exactly once."""
    assert monitor.check("2026-11-09T06:00:00Z")[0] == 0
    assert receiver.messages == []  # nothing alert-worthy on first sight
    world.hf_delete("banana-dev/GPTrillion")
    world.archive("tatsu-lab/stanford_alpaca")
    assert monitor.check("2026-11-10T06:00:00Z")[0] == 1  # archived now; GPTrillion suspect
    (first,) = receiver.messages
    assert first.title == "monitor: 1 alert — 1 archived"
    assert "Stanford Alpaca https://github.com/tatsu-lab/stanford_alpaca" in first.body

    receiver.down = True
    assert monitor.check("2026-11-11T06:00:00Z")[0] == 1  # deleted, confirmed 24 h later
    assert len(receiver.messages) == 1
    receiver.down = False
    assert monitor.check("2026-11-12T06:00:00Z")[0] == 0  # nothing new, but one owed
    assert len(receiver.messages) == 2
    assert receiver.messages[1].title == "monitor: 1 alert — 1 deleted"
    assert "GPTrillion https://huggingface.co/banana-dev/GPTrillion" in receiver.messages[1].body
    assert monitor.check("2026-11-13T06:00:00Z")[0] == 0
    assert len(receiver.messages) == 2


def test_a_failed_delivery_is_reported_without_the_url(
    monitor: Monitor, world: World, receiver: AlertReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the webhook refuses, `monitor check` says which channel (by label) and keeps going."""
    monkeypatch.setenv("MONITOR_ALERT_URLS", receiver.url + "?secret-token-xyz=1&rto=2")
    monitor.check("2026-11-09T06:00:00Z")
    world.archive("tatsu-lab/stanford_alpaca")
    receiver.down = True
    result = CliRunner().invoke(main, ["check", "--now", "2026-11-10T06:00:00Z"])
    assert result.exit_code == 1
    assert "did not accept 1 alert(s); they will be sent on the next run" in result.output
    assert "secret-token-xyz" not in result.output


def test_alerts_test_sends_a_test_message(
    receiver: AlertReceiver, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """`monitor alerts test` sends one message per channel and exits 0 when it arrived."""
    (tmp_path / "sources.toml").write_text(CATALOG)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MONITOR_ALERT_URLS", receiver.url)
    result = CliRunner().invoke(main, ["alerts", "test"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("sent   #1 JSON 127.0.0.1:")
    (message,) = receiver.messages
    assert message.title == "monitor: test alert"


def test_alerts_test_fails_loudly(
    receiver: AlertReceiver, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """No URL configured exits 2 with the fix; a refusing channel exits 3."""
    (tmp_path / "sources.toml").write_text(CATALOG)
    monkeypatch.chdir(tmp_path)
    missing = CliRunner().invoke(main, ["alerts", "test"])
    assert missing.exit_code == 2 and "no alert URL is configured" in missing.output
    monkeypatch.setenv("MONITOR_ALERT_URLS", receiver.url)
    receiver.down = True
    refused = CliRunner().invoke(main, ["alerts", "test"])
    assert refused.exit_code == 3 and refused.output.startswith("FAILED #1 JSON")
