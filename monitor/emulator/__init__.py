"""The world on loopback: GitHub (REST and GraphQL), the Hugging Face Hub, arXiv and web hosts.

Everything monitor checks is served by a real HTTP server on 127.0.0.1 that
answers as the real services do, so the real client libraries (PyGithub,
huggingface_hub, httpx) can be driven against it in tests, demos and benchmarks.

    world.py     the state, as data, and its one-call mutations (world_hub.py: the Hub's;
                 world_github.py: GitHub's write side, tokens' permissions, the
                 content-creation limit; gitstore.py: each repo's git objects;
                 world_wayback.py: the Wayback Machine's captures)
    server.py    listeners, keep-alive, latency, resets, the request log
    github.py    REST + budgets (github_payloads.py: JSON shapes; github_http.py: what
                 routes share; github_issues.py: issues, comments, labels, search;
                 github_git.py: git data, branches, contents writes; github_pulls.py:
                 pull requests; github_graphql.py + schema.graphql: GraphQL)
    huggingface.py   the Hub (huggingface_files.py: its paths-info and tree endpoints)
    arxiv.py, web.py, wayback.py, control.py   the other services
    chaos.py     faults on demand or at a random rate: stalls, drips, resets, 5xx, 429s,
                 portals, truncated bodies, redirects away (chaos_answers.py: their bodies)
    scenario.py  worlds from TOML scenarios and from a catalog
    app.py       Emulator: all of them started together
"""

from __future__ import annotations

from monitor.emulator.app import Emulator
from monitor.emulator.receiver import AlertReceiver
from monitor.emulator.world import World

__all__ = ["AlertReceiver", "Emulator", "World"]
