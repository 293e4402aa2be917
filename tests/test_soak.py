"""A month under a hostile internet (tests/soak.py): every real change found, nothing else."""

from __future__ import annotations

import json
from pathlib import Path

from monitor.emulator.chaos import APPLICABLE
from tests.soak import WALLED, soak


def test_a_month_of_chaos_raises_every_real_alert_once_and_nothing_else(tmp_path: Path) -> None:
    """30 days, 4 runs a day, 20 % faults, outages: no false alarm, none missed, none twice."""
    result = soak(tmp_path, scale=1, days=30, chaos=0.2, timeout=0.15)
    print(json.dumps(result.figures(), indent=2))  # the figures, for `pytest -s`
    assert result.runs == 120 and set(result.exit_codes) <= {0, 1}
    assert result.false_alarms == []
    assert result.missed == []
    assert result.duplicates == []
    assert [result.health[url] for url in WALLED] == ["unverifiable", "unverifiable"]
    # Every fault each service can show was injected at least once.
    shown = {tuple(name.split("/")) for name in result.faults}
    expected = {
        (service.removesuffix("-graphql"), fault.value)
        for service, faults in APPLICABLE.items()
        for fault in faults
        if service not in ("control", "wayback") and (service, fault.value) != ("web", "portal")
    }
    assert expected <= shown, sorted(expected - shown)
    assert sum(result.faults.values()) > 0.15 * sum(result.requests.values())
