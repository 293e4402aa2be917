"""Running `monitor check` in-process against the emulator, over simulated days."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from monitor.cli import main
from monitor.emulator import Emulator
from monitor.store import Store

GITHUB_TOKEN = "ghp_e2e_token_0123456789"
HF_TOKEN = "hf_e2e_token_0123456789"


class Monitor:
    """Runs `monitor check` in-process against the emulator, with its settings in the env."""

    def __init__(
        self,
        tmp_path: Path,
        emulator: Emulator,
        monkeypatch: pytest.MonkeyPatch,
        catalog: str,
        database_url: str | None = None,
    ) -> None:
        self.tmp = tmp_path
        self.catalog = tmp_path / "sources.toml"
        self.catalog.write_text(catalog)
        self.reports = tmp_path / "reports"
        self.database = tmp_path / "monitor.db"
        self.env = {
            **emulator.environment(),
            "MONITOR_CATALOG": str(self.catalog),
            "MONITOR_DATABASE_URL": database_url or f"sqlite:///{self.database}",
            "MONITOR_REPORTS_DIR": str(self.reports),
            # Tests do not wait 3 s between arXiv requests; the emulator does not mind.
            "MONITOR_PROBES_ARXIV_INTERVAL_SECONDS": "0",
        }
        for name, value in self.env.items():
            monkeypatch.setenv(name, value)
        self.monkeypatch = monkeypatch

    def check(self, at: str, *, token: bool = True) -> tuple[int, dict[str, Any]]:
        if token:
            self.monkeypatch.setenv("GITHUB_TOKEN", GITHUB_TOKEN)
            self.monkeypatch.setenv("HF_TOKEN", HF_TOKEN)
        else:
            self.monkeypatch.delenv("GITHUB_TOKEN", raising=False)
            self.monkeypatch.delenv("HF_TOKEN", raising=False)
        result = CliRunner().invoke(main, ["check", "--now", at])
        assert result.exit_code in (0, 1), result.output
        return result.exit_code, self.report(at[:10])

    def report(self, day: str) -> dict[str, Any]:
        return dict(json.loads((self.reports / f"{day}.json").read_text()))

    def health(self, day: str) -> dict[str, str]:
        """URL -> health of every source checked by `day`'s end, as the store holds it now.

        Read from the store: a day's report lists only the sources that changed or are not
        ok. Called right after the day's last check, this is the state the day ended in."""
        store = Store.connect(self.env["MONITOR_DATABASE_URL"], migrate=False)
        try:
            return {
                s.url: s.state.health.value
                for s in store.sources()
                if s.state.last_checked_at is not None
                and s.state.last_checked_at.date().isoformat() <= day
            }
        finally:
            store.close()


def events(report: dict[str, Any], at: str | None = None) -> Counter[str]:
    """How many events of each type a report holds (those at `at`, a time prefix, if given)."""
    return Counter(e["event"] for e in report["events"] if at is None or e["at"].startswith(at))


def find(report: dict[str, Any], event: str, url_part: str) -> dict[str, Any]:
    """The first event of a type whose URL contains `url_part`."""
    return next(e for e in report["events"] if e["event"] == event and url_part in e["url"])
