"""`monitor check` over days on the emulated Hub: paths inside repositories (`hf_path`) and
one-segment URLs that are legacy models (`huggingface.co/gpt2`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.emulator import Emulator, World
from tests.harness import Monitor, events, find

HUB = "https://huggingface.co"
CONFIG = f"{HUB}/org/model/blob/main/config.json"
WEIGHTS = f"{HUB}/org/model/tree/main/weights"
TRAIN = f"{HUB}/datasets/org/set/resolve/main/data/train.parquet"
GPT2 = f"{HUB}/gpt2"
CATALOG = "".join(
    f'[[source]]\nurl = "{url}"\n\n' for url in (CONFIG, WEIGHTS, TRAIN, GPT2, f"{HUB}/bigscience")
)


@pytest.fixture
def monitor(
    tmp_path: Path, world: World, emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> Monitor:
    world.add_hf_repo("org/model", last_modified="2026-10-01T00:00:00Z")
    world.hf_add_file("org/model", "config.json")
    world.hf_add_file("org/model", "weights/model.safetensors")
    world.add_hf_repo("org/set", "dataset", last_modified="2026-10-01T00:00:00Z")
    world.hf_add_file("org/set", "data/train.parquet", "dataset")
    world.add_hf_repo("gpt2", likes=2500, license="mit", last_modified="2026-10-01T00:00:00Z")
    world.hf_rename("gpt2", "openai-community/gpt2")
    world.add_hf_owner("bigscience", "org")
    return Monitor(tmp_path, emulator, monkeypatch, CATALOG)


def test_paths_go_dead_and_a_legacy_model_is_renamed_once(monitor: Monitor, world: World) -> None:
    """A removed file goes dead over 48 h; gpt2 is renamed once and never deleted."""
    code, day1 = monitor.check("2026-11-01T06:00:00Z")
    assert code == 1  # gpt2's rename is an alert
    assert events(day1) == {"added": 5, "renamed": 1}
    renamed = find(day1, "renamed", "gpt2")
    assert (renamed["old"], renamed["new"], renamed["new_url"]) == (
        "gpt2",
        "openai-community/gpt2",
        f"{HUB}/openai-community/gpt2",
    )
    # two paths of org/model in one request; gpt2: two owner overviews, then 307 + 200
    assert day1["runs"][0]["requests"]["hf"] == 7
    assert sum("/paths-info/" in r.path for r in world.requests("hf")) == 2

    world.hf_remove_path("org/model", "config.json")
    world.hf_rename("org/set", "neworg/set", "dataset")
    world.reset_log()
    code, day2 = monitor.check("2026-11-02T06:00:00Z")
    assert code == 1
    assert events(day2) == {"renamed": 1, "redirected": 1}
    assert find(day2, "redirected", "train.parquet")["new_url"] == (
        f"{HUB}/datasets/neworg/set/resolve/main/data/train.parquet"
    )
    assert monitor.health("2026-11-02")[CONFIG] == "suspect"
    # gpt2 now asks the model first: 307 + 200, no overview
    assert [r.path for r in world.requests("hf") if "gpt2" in r.path] == [
        "/api/models/gpt2",
        "/api/models/openai-community/gpt2",
    ]

    code, day3 = monitor.check("2026-11-03T06:00:00Z")
    assert (code, events(day3)) == (0, {})
    code, day4 = monitor.check("2026-11-04T06:00:00Z")
    assert code == 1
    assert events(day4) == {"dead": 1}
    assert find(day4, "dead", "config.json")["url"] == CONFIG
    health = monitor.health("2026-11-04")
    assert health[CONFIG] == "dead" and health[WEIGHTS] == "ok" and health[GPT2] == "ok"

    for day in ("2026-11-05", "2026-11-06", "2026-11-08"):
        code, report = monitor.check(f"{day}T06:00:00Z")
        assert (code, events(report)) == (0, {})
