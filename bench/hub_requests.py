"""Hugging Face Hub requests per full poll against the owner-listing threshold.

    python bench/hub_requests.py [--sizes 1000,10000,100000] [--thresholds 2,3,4,5]
                                 [--crowded-sizes 1000] [--crowded-pages 1,3,10]

Measures how many requests the Hub probe (`monitor.probes.huggingface`) makes for one
full poll of the Hugging Face entries of the synthetic catalogs of bench/catalogs.py
(models and datasets, 20 % of each catalog; owners drawn from a Zipf-like distribution),
for each listing threshold: an owner with that many entries of one type is read from its
paged listing (`/api/models?author=…&expand=…`), the others are asked one by one. "one by
one" is the probe with listings turned off. The Hub's API has no filter by a list of ids
(api-facts.md §5, huggingface_hub 2.4's `list_models`), so listings by owner are the only
batching there is.

Two worlds, each served by the emulator (monitor/emulator) started in this process, with
no latency and the rate limit lifted (the counts are the point, not the time):

- **catalog**: every entry exists and its owner holds nothing else, as bench/scale.py
  seeds it (`seed_world`): a listing page holds up to 1,000 repositories, so only an
  owner with more than 1,000 catalog entries of one type takes a second page;
- **crowded** (the worst case for a listing): each owner with two or more entries of one
  type also holds N full pages of other repositories (N from `--crowded-pages`), listed
  before the catalog's (their ids sort first), so a listing must read those N pages
  before it finds anything. Real owners do hold more than a list names (a few hold
  thousands), but in which order the Hub lists them is not known. To keep the world
  small the emulator's page is lowered to 100 here; what counts is the number of pages
  of others ahead, not their size.

For every run it checks that each Hub entry got exactly one observation, OK, with the
facts of its repository (its id and likes): a threshold that saved requests by losing
an entry would show here (and the script exits 1). Prints one table: requests per full
poll (listing pages + requests for single repositories) per threshold and world size;
the probe's default threshold is marked.
"""

from __future__ import annotations

import argparse
import inspect
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import cast

# bench/ is the script's directory, so its sibling module imports as is.
from catalogs import generate
from huggingface_hub import HfApi, set_client_factory
from huggingface_hub.utils._http import default_client_factory

from monitor.catalog.kinds import identify
from monitor.emulator import Emulator, World
from monitor.emulator import huggingface as emulated_hub
from monitor.emulator.scenario import seed_world
from monitor.emulator.world_hub import HfType
from monitor.model import Entry, Kind, Outcome, Source
from monitor.probes.huggingface import TYPES, HuggingFaceProbe, install_client, repo_id

NOW = datetime(2026, 11, 21, 6, tzinfo=UTC)
UNLIMITED = 1_000_000_000
#: a threshold no owner reaches: every entry asked by itself
ONE_BY_ONE = UNLIMITED
#: the emulator's listing page in the crowded world (its own is 1,000)
CROWDED_PAGE = 100


@dataclass(frozen=True)
class Poll:
    """One full poll: what it cost, and whether every entry was observed rightly."""

    requests: int
    pages: int
    wrong: int
    seconds: float

    def cell(self) -> str:
        mark = "" if self.wrong == 0 else f" ✗{self.wrong}"
        return f"{self.requests:,} ({self.pages:,} + {self.requests - self.pages:,}){mark}"


def hub_sources(size: int) -> list[Source]:
    """The Hugging Face entries of the synthetic catalog of `size` sources."""
    sources = []
    for spec in generate(size):
        if spec.url.startswith("https://huggingface.co/"):
            resource = identify(spec.url)
            sources.append(Source(resource.key, resource.url, resource.kind))
    return sources


def build_world(sources: Sequence[Source], crowded_pages: int) -> World:
    """Every source's repository; with `crowded_pages`, pages of others ahead of them."""
    world = World()
    seed_world((Entry(s.url, s.kind, s.key) for s in sources), NOW, world)
    world.set_budget("hf", remaining=UNLIMITED, limit=UNLIMITED)
    if crowded_pages:
        groups: dict[tuple[HfType, str], set[str]] = {}
        for source in sources:
            key = (cast(HfType, TYPES[source.kind]), repo_id(source).split("/")[0])
            groups.setdefault(key, set()).add(repo_id(source).lower())
        for (kind, owner), ids in groups.items():
            if len(ids) >= 2:
                for n in range(crowded_pages * CROWDED_PAGE):
                    world.add_hf_repo(f"{owner}/0-other-{n:05d}", kind)
    return world


def poll(world: World, url: str, sources: Sequence[Source], threshold: int) -> Poll:
    """One full poll of `sources` by a new probe at `threshold`, checked against `world`."""
    counter = install_client(timeout=20.0)
    api = HfApi(endpoint=url, token=False)
    probe = HuggingFaceProbe(
        api, token=None, counter=lambda: counter.count, list_threshold=threshold
    )
    world.reset_log()
    started = time.perf_counter()
    observations = list(probe.observe(sources, NOW))
    seconds = time.perf_counter() - started
    asked = world.requests("hf")
    assert probe.figures().requests == len(asked), "the probe and the emulator disagree"
    pages = sum(1 for r in asked if r.path in ("/api/models", "/api/datasets"))
    by_key = {o.key: o for o in observations}
    wrong = abs(len(observations) - len(sources))
    for source in sources:
        observation = by_key.get(source.key)
        kind: HfType = "dataset" if source.kind is Kind.HF_DATASET else "model"
        repo = world.hf_repo(repo_id(source), kind)
        facts = observation.facts if observation is not None else None
        if (
            observation is None
            or observation.outcome is not Outcome.OK
            or facts is None
            or (facts.name or "").lower() != repo.id.lower()
            or facts.stars != repo.likes
        ):
            wrong += 1
    return Poll(len(asked), pages, wrong, seconds)


def measure(
    sizes: Sequence[int], thresholds: Sequence[int], crowded_pages: int
) -> dict[int, tuple[int, dict[int, Poll]]]:
    """Per size: its number of Hub entries, and per threshold one full poll."""
    results: dict[int, tuple[int, dict[int, Poll]]] = {}
    saved_page = emulated_hub.PAGE_SIZE
    try:
        if crowded_pages:
            emulated_hub.PAGE_SIZE = CROWDED_PAGE
        for size in sizes:
            sources = hub_sources(size)
            world = build_world(sources, crowded_pages)
            results[size] = (len(sources), {})
            with Emulator(world) as emulator:
                for threshold in thresholds:
                    result = poll(world, emulator.hf_url, sources, threshold)
                    results[size][1][threshold] = result
                    label = "one by one" if threshold == ONE_BY_ONE else threshold
                    print(
                        f"  {f'crowded ({crowded_pages} ahead) ' if crowded_pages else ''}"
                        f"{size:,} sources "
                        f"({len(sources):,} Hub entries), threshold {label}: "
                        f"{result.cell()} in {result.seconds:.1f} s",
                        file=sys.stderr,
                    )
    finally:
        emulated_hub.PAGE_SIZE = saved_page
        set_client_factory(default_client_factory)
    return results


def table(
    columns: list[tuple[str, dict[int, Poll]]], thresholds: Sequence[int], default: int
) -> str:
    head = "| threshold | " + " | ".join(title for title, _ in columns) + " |"
    lines = [head, "|---|" + "---:|" * len(columns)]
    for threshold in thresholds:
        label = "one by one" if threshold == ONE_BY_ONE else str(threshold)
        if threshold == default:
            label += " (default)"
        cells = [polls[threshold].cell() for _, polls in columns]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--thresholds", default="2,3,4,5")
    parser.add_argument("--crowded-sizes", default="1000")
    parser.add_argument("--crowded-pages", default="1,3,10")
    args = parser.parse_args()
    numbers = [int(n) for n in args.sizes.split(",") if n]
    crowded = [int(n) for n in args.crowded_sizes.split(",") if n]
    ahead = [int(n) for n in args.crowded_pages.split(",") if int(n or 0) > 0]
    thresholds = [int(n) for n in args.thresholds.split(",") if n] + [ONE_BY_ONE]
    default = inspect.signature(HuggingFaceProbe).parameters["list_threshold"].default

    columns: list[tuple[str, dict[int, Poll]]] = []
    if numbers:
        catalog = measure(numbers, thresholds, 0)
        columns += [
            (f"{size:,} sources ({entries:,} Hub entries)", polls)
            for size, (entries, polls) in catalog.items()
        ]
    for pages in ahead if crowded else []:
        worst = measure(crowded, thresholds, pages)
        columns += [
            (f"crowded, {pages} page(s) ahead, {size:,} sources", polls)
            for size, (_, polls) in worst.items()
        ]
    print("Hub requests per full poll: total (listing pages + single requests)")
    print()
    print(table(columns, thresholds, default))
    print()
    runs = [run for _, polls in columns for run in polls.values()]
    right = sum(1 for run in runs if run.wrong == 0)
    wrong = sum(run.wrong for run in runs)
    print(
        f"correctness: {right} of {len(runs)} polls observed every Hub entry once, OK, "
        "with its own repository's facts"
        + (f"; {wrong} observations wrong or missing (marked ✗)" if wrong else "")
    )
    if crowded and ahead:
        print(
            "crowded: every owner with 2 or more entries of one type also holds N pages of "
            f"other repositories, listed before the catalog's ({CROWDED_PAGE} a page)"
        )
    if wrong:
        sys.exit(1)


if __name__ == "__main__":
    main()
