"""How fast the emulator itself is, so benchmarks of the monitor measure the monitor.

    python bench/emulator_scale.py [--repos 100000] [--batches 50]

Builds a world of N repositories in memory, then times, from a client in the
same machine: GitHub GraphQL batches of 100 repositories (with a repeated query
text and variables, as monitor sends them, and with a new text each time) and
single REST `GET /repos/{o}/{r}` requests. Prints medians and maxima.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time

import httpx

from monitor.emulator import Emulator, World

FIELDS = (
    "nameWithOwner databaseId stargazerCount pushedAt isArchived isDisabled "
    "licenseInfo { spdxId } defaultBranchRef { name target { ... on Commit { committedDate } } }"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repos", type=int, default=100_000)
    parser.add_argument("--batches", type=int, default=50)
    args = parser.parse_args()

    started = time.perf_counter()
    world = World()
    for i in range(args.repos):
        world.add_repo(f"owner{i % 5000}/repo{i}", stars=i, last_commit="2024-01-01T00:00:00Z")
    build = time.perf_counter() - started
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"world of {args.repos} repositories built in {build:.2f} s; peak RSS {rss:.0f} MB")

    head = ", ".join(f"$o{j}: String!, $n{j}: String!" for j in range(100))
    body = " ".join(
        f"r{j}: repository(owner: $o{j}, name: $n{j}) {{ {FIELDS} }}" for j in range(100)
    )
    fixed = f"query Batch({head}) {{ {body} rateLimit {{ cost remaining }} }}"

    def variables(batch: int) -> dict[str, str]:
        found: dict[str, str] = {}
        for j in range(100):
            i = (batch * 100 + j) % args.repos
            found[f"o{j}"], found[f"n{j}"] = f"owner{i % 5000}", f"repo{i}"
        return found

    def literal(batch: int) -> str:
        values = variables(batch)
        fields = " ".join(
            f'r{j}: repository(owner: "{values[f"o{j}"]}", name: "{values[f"n{j}"]}")'
            f" {{ {FIELDS} }}"
            for j in range(100)
        )
        return f"query {{ {fields} }}"

    headers = {"User-Agent": "bench", "Authorization": "token ghp_bench"}
    with Emulator(world) as emulator, httpx.Client(headers=headers) as client:
        for label, make in (
            ("repeated text + variables", lambda b: {"query": fixed, "variables": variables(b)}),
            ("new text each time", lambda b: {"query": literal(b)}),
        ):
            times = []
            for batch in range(args.batches):
                payload = make(batch)
                start = time.perf_counter()
                answer = client.post(f"{emulator.github_url}/graphql", json=payload)
                times.append(time.perf_counter() - start)
                assert answer.status_code == 200 and "errors" not in answer.json()
            print(
                f"GraphQL batch of 100, {label}: median {statistics.median(times) * 1000:.1f} ms,"
                f" max {max(times) * 1000:.1f} ms"
            )
        times = []
        for i in range(500):
            start = time.perf_counter()
            client.get(f"{emulator.github_url}/repos/owner{i % 5000}/repo{i}")
            times.append(time.perf_counter() - start)
        print(f"REST GET /repos/{{o}}/{{r}}: median {statistics.median(times) * 1000:.2f} ms")


if __name__ == "__main__":
    main()
