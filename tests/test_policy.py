"""The policy, table-driven: every rule of the contract is a case in data/policy/*.toml."""

from __future__ import annotations

import tomllib
from datetime import datetime
from typing import Any

import pytest

from monitor.model import Facts, Health, Kind, Observation, Outcome, SourceState
from monitor.policy import Subject, assess
from monitor.settings import Policy
from tests.conftest import DATA

CASES = [
    case
    for path in sorted((DATA / "policy").glob("*.toml"))
    for case in tomllib.loads(path.read_text())["case"]
]


def facts(data: dict[str, Any] | None) -> Facts | None:
    if data is None:
        return None
    values = dict(data)
    for key in ("last_commit", "pushed_at"):
        if key in values:
            values[key] = datetime.fromisoformat(values[key])
    return Facts(**values)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_policy(case: dict[str, Any]) -> None:
    """The events and health after each check are exactly the ones the case lists."""
    subject = Subject(
        key="k",
        url=case.get("url", "https://example.org/x"),
        kind=Kind(case["kind"]),
        expected_name=case.get("expected_name"),
    )
    state: SourceState | None = None
    for number, step in enumerate(case["step"], start=1):
        observation = Observation(
            "k",
            datetime.fromisoformat(step["at"]),
            Outcome(step["outcome"]),
            facts(step.get("facts")),
            http_status=step.get("http_status"),
        )
        state, events = assess(
            subject, state, observation, Policy(), degraded=step.get("degraded", False)
        )
        expected = [e if isinstance(e, dict) else {"event": e} for e in step["events"]]
        got = [
            {
                "event": e.event.value,
                "old": e.old,
                "new": e.new,
                "new_url": e.new_url,
                "never_worked": e.never_worked,
            }
            for e in events
        ]
        assert len(got) == len(expected), f"step {number}: {got}"
        for have, want in zip(got, expected, strict=True):
            assert {k: have[k] for k in want} == want, f"step {number}"
        if "health" in step:
            assert state.health is Health(step["health"]), f"step {number}"


def test_state_survives_a_round_trip_through_json() -> None:
    """A state saved as JSON and read back is the same state."""
    state = SourceState(
        health=Health.SUSPECT,
        facts=Facts(
            name="a/b", stars=3, last_commit=datetime.fromisoformat("2026-01-01T00:00:00+00:00")
        ),
        failures=1,
        failing_since=datetime.fromisoformat("2026-01-02T00:00:00+00:00"),
        last_outcome=Outcome.NOT_FOUND,
        stale=True,
    )
    assert SourceState.from_json(state.to_json()) == state


def test_custom_policy() -> None:
    """[policy] values change the thresholds: one not-found suffices when configured so."""
    subject = Subject("k", "https://github.com/a/b", Kind.GITHUB_REPO)
    at = datetime.fromisoformat("2026-01-01T00:00:00+00:00")
    state, events = assess(
        subject,
        None,
        Observation("k", at, Outcome.NOT_FOUND),
        Policy(deleted_after_checks=1, deleted_min_hours=0),
    )
    assert [e.event.value for e in events] == ["added", "deleted"]
    assert state.health is Health.DELETED
