"""The emulated Wayback Machine availability API, as its own service, driven with httpx."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from monitor.emulator import Emulator, World

PAGE = "https://example.org/llm/leaderboard"


def available(emulator: Emulator, url: str, **params: str) -> Any:
    answer = httpx.get(emulator.wayback_url, params={"url": url, **params})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/json")
    return answer.json()


def closest(payload: Any) -> str | None:
    found = payload["archived_snapshots"].get("closest")
    return None if found is None else str(found["timestamp"])


def test_captures_before_and_after_a_timestamp(world: World, emulator: Emulator) -> None:
    """closest=before and after pick their side; either (the default) may answer a later capture."""
    world.wayback_capture(PAGE, "2023-01-10T08:00:00Z")
    world.wayback_capture(PAGE, "2024-06-01T12:30:00Z")
    asked = "20240101"
    assert closest(available(emulator, PAGE, timestamp=asked, closest="before")) == "20230110080000"
    assert closest(available(emulator, PAGE, timestamp=asked, closest="after")) == "20240601123000"
    either = available(emulator, PAGE, timestamp=asked)
    assert either["url"] == PAGE
    assert either["archived_snapshots"]["closest"] == {
        "status": "200",
        "available": True,
        "url": f"http://web.archive.org/web/20240601123000/{PAGE}",
        "timestamp": "20240601123000",
    }
    assert closest(available(emulator, PAGE)) == "20240601123000"  # no timestamp: the newest
    assert closest(available(emulator, PAGE, timestamp="2023")) == "20230110080000"


def test_nothing_archived_answers_an_empty_archived_snapshots(
    world: World, emulator: Emulator
) -> None:
    """An unknown URL, or nothing on the side asked for, is a 200 with `archived_snapshots: {}`."""
    world.wayback_capture(PAGE, "2024-06-01")
    assert available(emulator, "https://example.org/never")["archived_snapshots"] == {}
    early = available(emulator, PAGE, timestamp="20200101", closest="before")
    assert early["archived_snapshots"] == {}


def test_urls_match_loosely_and_error_pages_are_not_offered(
    world: World, emulator: Emulator
) -> None:
    """Scheme, www. and a trailing slash do not matter; a 404 capture is offered only on request."""
    world.wayback_capture("http://www.example.org/llm/leaderboard/", "2022-03-04")
    assert closest(available(emulator, "example.org/llm/leaderboard")) == "20220304000000"
    world.wayback_capture(PAGE, "2025-01-01", status=404)
    assert closest(available(emulator, PAGE)) == "20220304000000"
    assert closest(available(emulator, PAGE, status_code="404")) == "20250101000000"
    world.wayback_forget(PAGE)
    assert available(emulator, PAGE)["archived_snapshots"] == {}


def test_wayback_is_a_service_of_its_own(world: World, emulator: Emulator) -> None:
    """Its own port and setting, log rows and stats, chaos, outages and control-port mutations."""
    assert emulator.environment()["MONITOR_WAYBACK_URL"] == emulator.wayback_url
    assert emulator.wayback_url.endswith("/wayback/available")
    assert emulator.wayback_url.split("/wayback")[0] not in (
        emulator.github_url,
        emulator.web_url,
        emulator.control_url,
    )
    answer = httpx.post(
        f"{emulator.control_url}/call/wayback_capture", json={"args": [PAGE, "2024-02-02"]}
    )
    assert answer.status_code == 200
    assert closest(available(emulator, PAGE)) == "20240202000000"
    assert [r.service for r in world.requests("wayback")] == ["wayback"]
    assert world.stats()["requests"] == {"control": 1, "wayback": 1}
    assert world.stats()["wayback_captures"] == 1

    world.inject_fault("wayback", "5xx", times=1, status=503)
    assert httpx.get(emulator.wayback_url, params={"url": PAGE}).status_code == 503
    assert closest(available(emulator, PAGE)) == "20240202000000"
    world.inject_fault("wayback", "stall", times=1, stall_seconds=5)
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(emulator.wayback_url, params={"url": PAGE}, timeout=0.2)
    emulator.stop_services("wayback")
    with pytest.raises(httpx.ConnectError):
        httpx.get(emulator.wayback_url, params={"url": PAGE})
    emulator.start_services("wayback")
    assert closest(available(emulator, PAGE)) == "20240202000000"
