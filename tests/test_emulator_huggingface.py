"""The emulated Hugging Face Hub, driven by the real huggingface_hub 2.4 over real HTTP."""

from __future__ import annotations

import httpx
import pytest
from huggingface_hub import HfApi, RepoFile
from huggingface_hub.errors import (
    DisabledRepoError,
    GatedRepoError,
    HfHubHTTPError,
    RemoteEntryNotFoundError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)

from monitor.emulator import Emulator, World
from monitor.emulator import huggingface as hf
from tests.conftest import recorded


@pytest.fixture
def api(emulator: Emulator) -> HfApi:
    """HfApi pointed at the emulator explicitly (HF_ENDPOINT is read only at import)."""
    return HfApi(endpoint=emulator.hf_url)


def test_model_payload_matches_the_recorded_shape(world: World, emulator: Emulator) -> None:
    """The keys the monitor reads exist with the recorded JSON types, in a 200 with a weak ETag."""
    real = recorded("hf-model-307-renamed-then-200.json")["exchanges"][1]["response"]
    world.add_hf_repo("google-bert/bert-base-uncased", likes=2065, downloads=72376843)
    answer = httpx.get(f"{emulator.hf_url}/api/models/google-bert/bert-base-uncased")
    ours = answer.json()
    for key in (
        "_id",
        "id",
        "private",
        "pipeline_tag",
        "library_name",
        "tags",
        "downloads",
        "likes",
        "modelId",
        "author",
        "sha",
        "lastModified",
        "gated",
        "disabled",
        "cardData",
        "siblings",
        "spaces",
        "createdAt",
        "usedStorage",
    ):
        assert key in ours, key
        if key in real["body"]:
            assert type(ours[key]) is type(real["body"][key]), key
    assert answer.headers["etag"].startswith('W/"')
    assert "license:apache-2.0" in ours["tags"] and ours["cardData"]["license"] == "apache-2.0"


def test_model_info(world: World, api: HfApi) -> None:
    """model_info gives likes, downloads, sha, lastModified, gating and the licence."""
    world.add_hf_repo(
        "deepset/roberta-base-squad2",
        likes=842,
        downloads=1_801_802,
        license="cc-by-4.0",
        last_modified="2024-09-24T15:48:47Z",
    )
    info = api.model_info("deepset/roberta-base-squad2", timeout=5)
    assert (info.likes, info.downloads, info.gated) == (842, 1_801_802, False)
    assert info.last_modified is not None and info.last_modified.year == 2024
    assert info.card_data is not None and info.card_data.license == "cc-by-4.0"
    assert "license:cc-by-4.0" in (info.tags or [])
    assert info.sha == world.hf_repo("deepset/roberta-base-squad2").sha


def test_expand_returns_only_what_was_asked(world: World, api: HfApi, emulator: Emulator) -> None:
    """With expand, only _id, id and the requested keys come back; both spellings work."""
    world.add_hf_repo("google/gemma", likes=5, license=None)
    for query in ("expand=likes&expand=cardData", "expand[]=likes&expand[]=cardData"):
        body = httpx.get(f"{emulator.hf_url}/api/models/google/gemma?{query}").json()
        assert body == {"_id": body["_id"], "id": "google/gemma", "likes": 5}  # no licence: omitted
    info = api.model_info("google/gemma", expand=["likes", "lastModified"])
    assert info.likes == 5 and info.last_modified is not None and info.downloads is None


def test_unknown_expand_is_400(world: World, emulator: Emulator) -> None:
    """An expand value the Hub does not know is refused with 400."""
    world.add_hf_repo("a/b")
    assert httpx.get(f"{emulator.hf_url}/api/models/a/b?expand=stars").status_code == 400


def test_deleted_model_anonymous_and_with_token(world: World, api: HfApi) -> None:
    """Deleted GPTrillion: 401 + RepoNotFound anonymously, 404 with a token; both "not found"."""
    world.add_hf_repo("banana-dev/GPTrillion")
    world.hf_delete("banana-dev/GPTrillion")
    with pytest.raises(RepositoryNotFoundError) as anonymous:
        api.model_info("banana-dev/GPTrillion", token=False)
    with pytest.raises(RepositoryNotFoundError) as authenticated:
        api.model_info("banana-dev/GPTrillion", token="hf_test_token")
    assert anonymous.value.response.status_code == 401
    assert anonymous.value.response.headers["X-Error-Code"] == "RepoNotFound"
    assert authenticated.value.response.status_code == 404
    assert not isinstance(anonymous.value, GatedRepoError)


def test_private_repo_looks_missing(world: World, api: HfApi) -> None:
    """A private repo is not found to outsiders and visible to a collaborator's token."""
    repo = world.add_hf_repo("secret/model", private=True)
    repo.collaborators.add("hf_insider")
    with pytest.raises(RepositoryNotFoundError):
        api.model_info("secret/model", token="hf_outsider")
    assert api.model_info("secret/model", token="hf_insider").id == "secret/model"


def test_rename_follows_a_relative_307(world: World, api: HfApi, emulator: Emulator) -> None:
    """A renamed model is a 307 with a relative Location; the client lands on the new id."""
    world.add_hf_repo("bert-base-uncased")
    world.hf_rename("bert-base-uncased", "google-bert/bert-base-uncased")
    answer = httpx.get(f"{emulator.hf_url}/api/models/bert-base-uncased")
    assert answer.status_code == 307
    assert answer.headers["location"] == "/api/models/google-bert/bert-base-uncased"
    assert answer.headers["content-type"].startswith("text/plain")
    assert api.model_info("bert-base-uncased").id == "google-bert/bert-base-uncased"


def test_gated_metadata_is_public(world: World, api: HfApi) -> None:
    """A gated model's metadata is 200 with gated "manual"/"auto"; no GatedRepoError."""
    world.add_hf_repo("meta-llama/Llama-2-7b", gated="manual")
    world.add_hf_repo("tiiuae/falcon-40b")
    assert api.model_info("meta-llama/Llama-2-7b").gated == "manual"
    world.hf_gate("tiiuae/falcon-40b", "auto")
    assert api.model_info("tiiuae/falcon-40b").gated == "auto"


def test_disabled_repo(world: World, api: HfApi) -> None:
    """A disabled dataset is 403 "Access to this resource is disabled." (DisabledRepoError)."""
    world.add_hf_repo("laion/laion-art", "dataset")
    world.hf_disable("laion/laion-art", "dataset")
    with pytest.raises(DisabledRepoError):
        api.dataset_info("laion/laion-art")


def test_datasets_and_spaces(world: World, api: HfApi) -> None:
    """dataset_info and space_info read their own endpoints and payloads."""
    world.add_hf_repo("bigscience/P3", "dataset", likes=200, downloads=5)
    world.add_hf_repo("autoevaluate/model-evaluator", "space", likes=9)
    dataset = api.dataset_info("bigscience/P3")
    space = api.space_info("autoevaluate/model-evaluator")
    assert (dataset.id, dataset.likes, dataset.downloads) == ("bigscience/P3", 200, 5)
    assert (space.id, space.likes) == ("autoevaluate/model-evaluator", 9)


def test_list_by_author_serves_many_in_one_call(world: World, api: HfApi) -> None:
    """list_models(author=, expand=) returns every model of an owner; pages follow Link next."""
    for i in range(5):
        world.add_hf_repo(f"decapoda-research/llama-{i}b-hf", likes=i)
    world.add_hf_repo("other/model")
    world.reset_log()
    models = list(api.list_models(author="decapoda-research", expand=["likes", "lastModified"]))
    assert sorted(m.likes or 0 for m in models) == [0, 1, 2, 3, 4]
    assert world.counts["hf"] == 1


def test_list_pagination(world: World, api: HfApi, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past one page, the Link header leads to the rest, as huggingface_hub expects."""
    monkeypatch.setattr(hf, "PAGE_SIZE", 2)
    for i in range(5):
        world.add_hf_repo(f"o/m{i}")
    world.reset_log()
    assert len(list(api.list_models(author="o"))) == 5
    assert world.counts["hf"] == 3


def test_owner_overviews(world: World, api: HfApi) -> None:
    """Users and organisations have overview pages; a missing owner is an error."""
    world.add_hf_owner("decapoda-research", "org")
    world.add_hf_owner("julien-c", "user")
    assert api.get_organization_overview("decapoda-research").name == "decapoda-research"
    assert api.get_user_overview("julien-c").username == "julien-c"
    with pytest.raises(HfHubHTTPError):
        api.get_organization_overview("nobody-here")


def test_budget_429_with_ratelimit_headers(world: World, api: HfApi) -> None:
    """A spent 5-minute budget answers 429 with RateLimit and RateLimit-Policy headers."""
    world.add_hf_repo("a/b")
    world.set_budget("hf", remaining=0)
    with pytest.raises(HfHubHTTPError) as caught:
        api.model_info("a/b", token=False)
    response = caught.value.response
    assert response.status_code == 429
    assert response.headers["RateLimit"].startswith('"api";r=0;t=')
    assert response.headers["RateLimit-Policy"] == '"fixed window";"api";q=500;w=300'


def test_invalid_token(world: World, api: HfApi) -> None:
    """With a list of valid tokens, another one is 401 Invalid credentials, not "not found"."""
    world.hf_tokens = {"hf_good"}
    world.add_hf_repo("a/b")
    with pytest.raises(HfHubHTTPError) as caught:
        api.model_info("a/b", token="hf_bad")
    assert not isinstance(caught.value, RepositoryNotFoundError)
    assert caught.value.response.status_code == 401


def test_paths_info_lists_only_what_exists(world: World, api: HfApi) -> None:
    """get_paths_info returns a RepoFile and a RepoFolder, and leaves a missing path out."""
    world.add_hf_repo("o/m")
    world.hf_add_file("o/m", "config.json")
    world.hf_add_file("o/m", "data/train.parquet")
    found = api.get_paths_info("o/m", ["config.json", "data", "gone.txt"])
    assert [(type(f).__name__, f.path) for f in found] == [
        ("RepoFile", "config.json"),
        ("RepoFolder", "data"),
    ]
    assert isinstance(found[0], RepoFile) and found[0].size > 0 and len(found[0].blob_id) == 40
    world.hf_remove_path("o/m", "data")
    assert api.get_paths_info("o/m", ["data", "data/train.parquet"]) == []


def test_paths_info_errors_and_renames(world: World, api: HfApi) -> None:
    """RevisionNotFound, RepoNotFound, branches and commits resolve, a rename's POST 307s."""
    world.add_hf_repo("o/m")
    with pytest.raises(RevisionNotFoundError):
        api.get_paths_info("o/m", ["README.md"], revision="v9")
    with pytest.raises(RepositoryNotFoundError):
        api.get_paths_info("o/nothing", ["README.md"])
    world.hf_add_revision("o/m", "refs/pr/1")
    assert api.get_paths_info("o/m", ["README.md"], revision="refs/pr/1")
    sha = world.hf_repo("o/m").sha
    world.hf_rename("o/m", "p/m")
    world.reset_log()
    assert [f.path for f in api.get_paths_info("o/m", "README.md", revision=sha)] == ["README.md"]
    assert [(r.method, r.status) for r in world.requests("hf")] == [("POST", 307), ("POST", 200)]


def test_list_repo_tree(world: World, api: HfApi) -> None:
    """list_repo_tree lists a folder (recursively too); a missing folder or a file: 404."""
    world.add_hf_repo("datasets-org/set", "dataset")
    for path in ("data/a.parquet", "data/sub/b.parquet"):
        world.hf_add_file("datasets-org/set", path, "dataset")
    tree = api.list_repo_tree("datasets-org/set", "data", repo_type="dataset")
    assert sorted(f.path for f in tree) == ["data/a.parquet", "data/sub"]
    deep = api.list_repo_tree("datasets-org/set", "data", recursive=True, repo_type="dataset")
    assert sorted(f.path for f in deep) == ["data/a.parquet", "data/sub", "data/sub/b.parquet"]
    root = api.list_repo_tree("datasets-org/set", repo_type="dataset")
    assert {f.path for f in root} == {".gitattributes", "README.md", "data"}
    for missing in ("nothing", "data/a.parquet"):
        with pytest.raises(RemoteEntryNotFoundError):
            list(api.list_repo_tree("datasets-org/set", missing, repo_type="dataset"))
