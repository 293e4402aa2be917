"""The web world of `bench/peers.py`, served in a process of its own until SIGTERM.

    python bench/web_world.py --out world.json [--links 2000 --hosts 20 --latency-ms 50 --seed 7]

Builds a seeded corpus of web pages spread evenly over `--hosts` distinct hosts
(the emulator's web service listening on 127.0.0.2, 127.0.0.3, …, each its own
`http://127.0.0.N:PORT`), every answer delayed by `--latency-ms`:

- about 3% answer 404 and 1% answer 410: **known dead**;
- about 5% redirect (301, 302, 307 or 308, a quarter each) to a live page on the
  same host, about 3% are **slow** (a 200 after 2 to 3 seconds), the rest
  answer 200 at once: **known alive**.

Once every listener is up it writes `--out` (atomically): the control and
summary URLs, the hosts, and each link with its behaviour and the truth, in
the (seeded, shuffled) order documents list them. Then it serves until SIGTERM
or SIGINT.

Besides the emulator's own control port (`GET /stats`, `POST /reset`), it
answers `GET /summary` on `summary_url`: requests per method and status since
the last reset, the most requests one host had in flight at once, and the CPU
seconds this process has used (the emulator shares the machine with the tool
being measured; when it is busy, it is part of every tool's wall time).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from monitor.emulator import Emulator, World

TITLES = (
    "Notes on instruction tuning",
    "A survey of retrieval augmented generation",
    "Serving language models cheaply",
    "Evaluating chat assistants",
    "Tokenizers explained",
    "Mixture of experts in practice",
)


def corpus(links: int, bases: list[str], seed: int) -> list[dict[str, Any]]:
    """The pages, in document order: url, behaviour, expected verdict, and what to set."""
    rng = random.Random(seed)
    kinds = (
        [404] * round(links * 0.03)
        + [410] * round(links * 0.01)
        + ["redirect"] * round(links * 0.05)
        + ["slow"] * round(links * 0.03)
    )
    kinds += ["ok"] * (links - len(kinds))
    rng.shuffle(kinds)
    pages = []
    for index, kind in enumerate(kinds):
        base = bases[index % len(bases)]
        url = f"{base}/blog/{index:05d}-post"
        page: dict[str, Any] = {"url": url, "expect": "alive"}
        if kind in (404, 410):
            page |= {"behaviour": str(kind), "expect": "dead", "set": [kind]}
        elif kind == "redirect":
            status = rng.choice((301, 302, 307, 308))
            target = f"{base}/articles/{index:05d}-moved"
            page |= {
                "behaviour": f"redirect {status}",
                "set": ["redirect"],
                "options": {"redirect_status": status, "location": target},
                "target": target,
            }
        elif kind == "slow":
            seconds = round(2 + rng.random(), 2)
            page |= {
                "behaviour": f"slow {seconds} s",
                "set": ["slow"],
                "options": {"slow_seconds": seconds},
            }
        else:
            page |= {"behaviour": "ok", "set": ["ok"]}
        page.setdefault("options", {})["title"] = rng.choice(TITLES)
        pages.append(page)
    rng.shuffle(pages)  # documents do not list links host by host
    return pages


def build(
    links: int, hosts: int, latency: float, seed: int
) -> tuple[Emulator, list[dict[str, Any]]]:
    if not 1 <= hosts <= 250:
        raise SystemExit("--hosts must be between 1 and 250 (127.0.0.2 … 127.0.0.251)")
    world = World(log_size=1_000_000)
    emulator = Emulator(world, web_addresses=[f"127.0.0.{2 + i}" for i in range(hosts)])
    pages = corpus(links, emulator.web_host_urls, seed)
    for page in pages:
        world.set_page(page["url"], *page["set"], **page["options"])
        if "target" in page:
            world.set_page(page["target"], "ok", title=page["options"]["title"])
    world.set_latency(latency, "web")
    return emulator, pages


def summary(world: World) -> dict[str, Any]:
    seen = world.requests("web")
    return {
        "requests": len(seen),
        "methods": dict(Counter(r.method for r in seen)),
        "statuses": {str(k): v for k, v in sorted(Counter(r.status for r in seen).items())},
        "max_in_flight_per_host": max(world.max_in_flight.values(), default=0),
        "max_in_flight": dict(world.max_in_flight),
        "emulator_cpu_seconds": round(sum(os.times()[:2]), 3),
    }


def summary_server(world: World) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = json.dumps(summary(world)).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--links", type=int, default=2000)
    parser.add_argument("--hosts", type=int, default=20)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    emulator, pages = build(args.links, args.hosts, args.latency_ms / 1000, args.seed)
    with emulator:
        side = summary_server(emulator.world)
        description = {
            "pid": os.getpid(),
            "control_url": emulator.control_url,
            "summary_url": f"http://127.0.0.1:{side.server_address[1]}",
            "hosts": emulator.web_host_urls,
            "latency_ms": args.latency_ms,
            "seed": args.seed,
            "links": [
                {k: page[k] for k in ("url", "behaviour", "expect") if k in page} for page in pages
            ],
        }
        partial = args.out.with_suffix(".partial")
        partial.write_text(json.dumps(description, indent=1))
        partial.replace(args.out)
        while not stop.wait(0.2):
            pass
        side.shutdown()


if __name__ == "__main__":
    main()
