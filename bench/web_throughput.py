"""Web checks per second against the emulator, and the most requests one host saw at once.

    python bench/web_throughput.py [--links 2000] [--hosts 20] [--latency-ms 50]

N pages spread evenly over H virtual hosts, every answer delayed by the given
latency. Checks them twice with the web probe's defaults: a first pass (one
GET per new page, read for soft 404s) and a second (HEAD only, the pages'
validators unchanged). Prints links per second, requests, and the
maximum number of requests in flight on one host, read from the emulator's log.
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime

from monitor.emulator import Emulator, World
from monitor.model import Kind, Source
from monitor.probes.web import WebProbe


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--links", type=int, default=2000)
    parser.add_argument("--hosts", type=int, default=20)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    args = parser.parse_args()
    world = World()
    urls = [f"https://host{i % args.hosts}.example/page/{i}" for i in range(args.links)]
    for url in urls:
        world.set_page(url, "ok")
    world.set_latency(args.latency_ms / 1000, "web")
    with Emulator(world) as emulator:
        connect = {"*": emulator.web_url.removeprefix("http://")}
        sources = [Source(url, url, Kind.WEB) for url in urls]
        for label in ("first pass", "unchanged pass"):
            world.reset_log()
            probe = WebProbe(connect_to=connect)
            started = time.perf_counter()
            found = list(probe.observe(sources, datetime.now(UTC)))
            wall = time.perf_counter() - started
            assert all(o.outcome.value == "ok" for o in found)
            sources = [
                Source(o.key, o.key, Kind.WEB, validators=o.validators, last=o.facts) for o in found
            ]
            busiest = max(world.max_in_flight.values())
            print(
                f"{label}: {len(found)} links in {wall:.2f} s = {len(found) / wall:.0f} links/s; "
                f"{world.counts['web']} requests; at most {busiest} in flight on one host"
            )


if __name__ == "__main__":
    main()
