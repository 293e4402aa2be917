"""`monitor alerts test`: a test message to every configured channel (no store needed)."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from monitor.cli.common import EXIT_FAILED, EXIT_OK, catalog_option, environ, guarded, redact
from monitor.config import load_settings
from monitor.errors import Problem, UserInputError
from monitor.settings import Settings


@click.group()
def alerts() -> None:
    """Alerts through Apprise: MONITOR_ALERT_URLS or [alerts] urls."""


@alerts.command("test")
@catalog_option("The catalog (for its [alerts] table).")
def alerts_test(catalog_file: Path | None) -> None:
    """Send a test message to every configured alert URL and say which ones got it.

    Exit status: 0 every channel accepted it, 2 no alert URL is configured or
    one is not understood, 3 a channel failed to accept it.
    """
    settings = guarded(lambda: load_settings(environ(), catalog=catalog_file))
    ok = guarded(lambda: _alerts_test(settings))
    sys.exit(EXIT_OK if ok else EXIT_FAILED)


def _alerts_test(settings: Settings) -> bool:
    from monitor.alerts import apprise_channels, send_test

    if not settings.alert_urls:
        raise UserInputError(
            [
                Problem(
                    "MONITOR_ALERT_URLS / [alerts] urls",
                    "no alert URL is configured",
                    hint='set MONITOR_ALERT_URLS="ntfy://my-topic" or [alerts] urls in the catalog',
                )
            ]
        )
    channels = apprise_channels([url.reveal() for url in settings.alert_urls])
    results = send_test(channels, datetime.now(UTC))
    for label, delivered in results:
        click.echo(redact(f"{'sent  ' if delivered else 'FAILED'} {label}"))
    return all(delivered for _, delivered in results)
