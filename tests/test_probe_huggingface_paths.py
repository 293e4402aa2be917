"""The Hub probe's paths (`hf_path`, through paths-info) and its one-segment URLs (an owner, or
a legacy model such as `huggingface.co/gpt2`), against the emulator over real HTTP."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from huggingface_hub import HfApi, set_client_factory
from huggingface_hub.utils._http import default_client_factory

from monitor.emulator import Emulator, World
from monitor.model import Kind, Observation, Source
from monitor.probes import huggingface_paths
from monitor.probes.huggingface import HuggingFaceProbe, install_client
from monitor.probes.huggingface_paths import parse

NOW = datetime(2026, 11, 21, 6, tzinfo=UTC)
TIMEOUT = 0.5
BACKOFF = 0.05
HUB = "https://huggingface.co"

Make = Callable[..., HuggingFaceProbe]


def path(url: str) -> Source:
    return Source(url, f"{HUB}/{url}", Kind.HF_PATH)


def owner(name: str) -> Source:
    return Source(name, f"{HUB}/{name}", Kind.HF_OWNER)


def check(probe: HuggingFaceProbe, sources: list[Source]) -> dict[str, Observation]:
    """Every observation, by source key (the URL after the host)."""
    found = {o.key: o for o in probe.observe(sources, NOW)}
    assert sorted(found) == sorted(s.key for s in sources)
    return found


def outcomes(found: dict[str, Observation]) -> dict[str, str]:
    return {key: o.outcome.value for key, o in found.items()}


def paths_info(world: World) -> list[tuple[str, str, int]]:
    return [(r.method, r.path, r.status) for r in world.requests("hf") if "/paths-info/" in r.path]


@pytest.fixture
def hub(world: World, emulator: Emulator) -> Iterator[Make]:
    """Probes on the emulated Hub, with short timeouts and tiny pauses; a model with files."""
    world.add_hf_repo("org/model", likes=7)
    for file in ("config.json", "weights/model.safetensors", "weights/extra/x.bin"):
        world.hf_add_file("org/model", file)
    counter = install_client(timeout=TIMEOUT)

    def make(**options: Any) -> HuggingFaceProbe:
        settings: dict[str, Any] = {"timeout": TIMEOUT, "backoff": BACKOFF, **options}
        api = HfApi(endpoint=emulator.hf_url, token=False)
        return HuggingFaceProbe(api, token=None, counter=lambda: counter.count, **settings)

    yield make
    set_client_factory(default_client_factory)  # huggingface_hub's client is process-wide


def test_links_are_read_as_the_catalog_writes_them() -> None:
    """Repository, revision and path of model, dataset, space and legacy links."""
    found = parse(f"{HUB}/datasets/o/d/resolve/refs%2Fpr%2F1/data/x%20y.parquet#L2")
    assert found is not None
    assert (found.type, found.repo_id, found.revision, found.path) == (
        "dataset",
        "o/d",
        "refs/pr/1",
        "data/x y.parquet",
    )
    assert found.url_in("p/d") == f"{HUB}/datasets/p/d/resolve/refs%2Fpr%2F1/data/x%20y.parquet#L2"
    legacy = parse(f"{HUB}/gpt2/blob/main/config.json")
    assert legacy is not None and (legacy.repo_id, legacy.path) == ("gpt2", "config.json")
    root = parse(f"{HUB}/spaces/o/s/tree/main")
    assert root is not None and (root.type, root.path) == ("space", "")
    assert parse(f"{HUB}/o/m") is None


def test_files_and_folders_that_exist_are_ok(world: World, hub: Make) -> None:
    """Files (blob, resolve), folders (tree) and a revision's root are OK, in one request."""
    sources = [
        path("org/model/blob/main/config.json"),
        path("org/model/resolve/main/weights/model.safetensors"),
        path("org/model/tree/main/weights"),
        path("org/model/tree/main/weights/extra"),
        path("org/model/tree/main"),
    ]
    found = check(hub(), sources)
    assert set(outcomes(found).values()) == {"ok"}
    facts = found["org/model/tree/main/weights"].facts
    assert facts is not None and (facts.name, facts.url) == ("org/model", None)
    assert len(world.requests("hf")) == 1
    assert paths_info(world) == [("POST", "/api/models/org/model/paths-info/main", 200)]


def test_datasets_spaces_and_a_root_alone(world: World, hub: Make) -> None:
    """Datasets and spaces ask their own endpoints; a root alone asks its revision."""
    world.add_hf_repo("org/set", "dataset")
    world.hf_add_file("org/set", "data/train.parquet", "dataset")
    world.add_hf_repo("org/demo", "space")
    found = check(
        hub(),
        [path("datasets/org/set/blob/main/data/train.parquet"), path("spaces/org/demo/tree/main")],
    )
    assert set(outcomes(found).values()) == {"ok"}
    asked = sorted(r.path for r in world.requests("hf"))
    assert asked == ["/api/datasets/org/set/paths-info/main", "/api/spaces/org/demo/revision/main"]


def test_a_removed_file_or_folder_is_not_found(world: World, hub: Make) -> None:
    """A path the paths-info answer leaves out is gone; the others stay OK."""
    world.hf_remove_path("org/model", "config.json")
    world.hf_remove_path("org/model", "weights/extra")
    found = check(
        hub(),
        [
            path("org/model/blob/main/config.json"),
            path("org/model/tree/main/weights/extra"),
            path("org/model/blob/main/weights/model.safetensors"),
        ],
    )
    assert outcomes(found) == {
        "org/model/blob/main/config.json": "not_found",
        "org/model/tree/main/weights/extra": "not_found",
        "org/model/blob/main/weights/model.safetensors": "ok",
    }
    gone = found["org/model/blob/main/config.json"]
    assert gone.error == "no such file or folder at main in org/model"
    assert gone.http_status == 200


def test_a_missing_revision_is_not_found(world: World, hub: Make) -> None:
    """A revision that does not resolve is not found; a tag or a pinned commit is OK."""
    world.hf_add_revision("org/model", "v1.0")
    sha = world.hf_repo("org/model").sha
    found = check(
        hub(),
        [
            path("org/model/blob/v9/config.json"),
            path("org/model/blob/v1.0/config.json"),
            path(f"org/model/blob/{sha}/config.json"),
        ],
    )
    assert outcomes(found) == {
        "org/model/blob/v9/config.json": "not_found",
        "org/model/blob/v1.0/config.json": "ok",
        f"org/model/blob/{sha}/config.json": "ok",
    }
    assert found["org/model/blob/v9/config.json"].error == "no such revision"


def test_a_missing_repo_makes_its_paths_not_found(world: World, hub: Make) -> None:
    """Every path of a missing or deleted repo is not found; an invalid id costs no request."""
    world.add_hf_repo("org/deleted")
    world.hf_delete("org/deleted")
    sources = [
        path("org/never/blob/main/a.json"),
        path("org/never/tree/main/folder"),
        path("org/deleted/blob/main/README.md"),
        path("org/bad--id/blob/main/README.md"),
    ]
    found = check(hub(), sources)
    assert set(outcomes(found).values()) == {"not_found"}
    assert found["org/never/blob/main/a.json"].error == "repository not found"
    assert not any("bad--id" in r.path for r in world.requests("hf"))


def test_a_renamed_repos_paths_follow_with_their_new_url(world: World, hub: Make) -> None:
    """A rename's 307 is followed (POST and body again): OK, with the new name and URL."""
    world.add_hf_repo("old/set", "dataset")
    world.hf_add_file("old/set", "data/a.csv", "dataset")
    world.hf_rename("old/set", "new/set", "dataset")
    world.hf_rename("org/model", "neworg/model")
    found = check(
        hub(),
        [
            path("datasets/old/set/blob/main/data/a.csv"),
            path("org/model/tree/main/weights"),
            path("org/model/blob/main/gone.txt"),
        ],
    )
    moved = found["datasets/old/set/blob/main/data/a.csv"].facts
    assert moved is not None and moved.name == "new/set"
    assert moved.url == f"{HUB}/datasets/new/set/blob/main/data/a.csv"
    folder = found["org/model/tree/main/weights"].facts
    assert folder is not None and folder.url == f"{HUB}/neworg/model/tree/main/weights"
    assert found["org/model/blob/main/gone.txt"].outcome.value == "not_found"
    assert sorted(paths_info(world)) == [
        ("POST", "/api/datasets/new/set/paths-info/main", 200),
        ("POST", "/api/datasets/old/set/paths-info/main", 307),
        ("POST", "/api/models/neworg/model/paths-info/main", 200),
        ("POST", "/api/models/org/model/paths-info/main", 307),
    ]


def test_many_paths_of_one_repo_cost_one_request_each_chunk(
    world: World, hub: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sixty paths in one repository and revision: one request; in chunks of 25, three."""
    for i in range(60):
        world.hf_add_file("org/model", f"shards/part-{i:03}.safetensors")
    sources = [path(f"org/model/blob/main/shards/part-{i:03}.safetensors") for i in range(60)]
    sources.append(path("org/model/blob/main/shards/part-999.safetensors"))
    probe = hub()
    found = check(probe, sources)
    assert list(outcomes(found).values()).count("ok") == 60
    assert len(world.requests("hf")) == 1 and probe.figures().requests == 1
    world.reset_log()
    monkeypatch.setattr(huggingface_paths, "CHUNK", 25)
    found = check(hub(), sources)
    assert list(outcomes(found).values()).count("not_found") == 1
    assert len(paths_info(world)) == 3


@pytest.mark.parametrize(
    ("fault", "options", "words"),
    [
        ("stall", {}, "no answer from the Hub within 0.5 s"),
        ("5xx", {"status": 500}, "the Hub answered 500"),
        ("5xx", {"status": 503}, "the Hub answered 503"),
        ("portal", {}, "HTML where JSON was expected"),
        ("truncated", {}, "closed before the answer was complete"),
    ],
)
def test_faults_on_paths_info_are_transient(
    world: World, hub: Make, fault: str, options: dict[str, Any], words: str
) -> None:
    """A stalled, 5xx, portal or truncated paths-info answer: its paths transient, no others."""
    world.add_hf_repo("org/other")
    world.chaos.inject("hf", fault, path="/api/models/org/model/paths-info/", **options)
    sources = [
        path("org/model/blob/main/config.json"),
        path("org/model/tree/main/weights"),
        path("org/other/blob/main/README.md"),
    ]
    found = check(hub(), sources)
    assert outcomes(found) == {
        "org/model/blob/main/config.json": "transient",
        "org/model/tree/main/weights": "transient",
        "org/other/blob/main/README.md": "ok",
    }
    assert words in (found["org/model/tree/main/weights"].error or "")


def test_one_stall_on_paths_info_is_retried(world: World, hub: Make) -> None:
    """A paths-info request stalled once is sent again, body and all, and answers."""
    world.chaos.inject("hf", "stall", path="/paths-info/", times=1)
    found = check(hub(), [path("org/model/blob/main/config.json")])
    assert outcomes(found) == {"org/model/blob/main/config.json": "ok"}
    assert len(paths_info(world)) == 2


def test_a_legacy_model_resolves_to_the_model(world: World, hub: Make) -> None:
    """`huggingface.co/gpt2` is OK with the model's facts; the next check asks the model first."""
    world.add_hf_repo("gpt2", likes=2500, license="mit", last_modified="2026-03-01T00:00:00Z")
    world.hf_rename("gpt2", "openai-community/gpt2")
    source = owner("gpt2")
    found = check(hub(), [source])["gpt2"]
    facts = found.facts
    assert found.outcome.value == "ok" and facts is not None
    assert (facts.resolved_kind, facts.name, facts.url) == (
        "hf_model",
        "openai-community/gpt2",
        f"{HUB}/openai-community/gpt2",
    )
    assert (facts.stars, facts.license, facts.owner_type) == (2500, "mit", None)
    assert facts.last_commit == datetime(2026, 3, 1, tzinfo=UTC)
    first = [(r.path, r.status) for r in world.requests("hf")]
    assert first == [
        ("/api/organizations/gpt2/overview", 404),
        ("/api/users/gpt2/overview", 404),
        ("/api/models/gpt2", 307),
        ("/api/models/openai-community/gpt2", 200),
    ]
    world.reset_log()
    again = check(hub(), [replace(source, last=facts)])["gpt2"]
    assert again.facts is not None and again.facts.resolved_kind == "hf_model"
    assert [r.path for r in world.requests("hf")] == [
        "/api/models/gpt2",
        "/api/models/openai-community/gpt2",
    ]


def test_an_org_stays_an_org_and_nothing_is_not_found(world: World, hub: Make) -> None:
    """An org costs one request; neither owner nor model is not found after all three say so."""
    world.add_hf_owner("bigscience", "org")
    world.add_hf_owner("julien-c", "user")
    found = check(hub(), [owner("bigscience"), owner("julien-c"), owner("nobody-here")])
    assert outcomes(found) == {
        "bigscience": "ok",
        "julien-c": "ok",
        "nobody-here": "not_found",
    }
    org = found["bigscience"].facts
    assert org is not None and (org.owner_type, org.resolved_kind) == ("org", None)
    assert found["nobody-here"].error == "no such user, organisation or model"
    assert sum("bigscience" in r.path for r in world.requests("hf")) == 1
    assert sum("nobody-here" in r.path for r in world.requests("hf")) == 3


def test_a_failing_model_endpoint_is_not_a_verdict(world: World, hub: Make) -> None:
    """Owners 404 and the model endpoint fails: transient, never not-found."""
    world.chaos.inject("hf", "5xx", path="^/api/models/nobody-here", status=502)
    found = check(hub(), [owner("nobody-here")])
    assert outcomes(found) == {"nobody-here": "transient"}
