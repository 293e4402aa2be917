"""`monitor emulator serve`: the offline world on loopback, until Ctrl-C or SIGTERM."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from monitor.cli.common import guarded
from monitor.errors import Problem, UserInputError


@click.group()
def emulator() -> None:
    """Run the offline world: GitHub, the Hugging Face Hub, arXiv and web hosts on loopback."""


@emulator.command("serve")
@click.option(
    "--scenario",
    type=click.Path(path_type=Path),
    default=None,
    help="A TOML scenario file (format: see monitor/emulator/scenario.py).",
)
@click.option(
    "--catalog",
    "catalog_file",
    type=click.Path(path_type=Path),
    default=None,
    help="Seed a healthy world with every entry of this catalog.",
)
@click.option("--now", default=None, help="The date seeded values are relative to (ISO 8601).")
@click.option("--latency-ms", type=float, default=None, help="Delay every answer, in ms.")
@click.option(
    "--port",
    type=int,
    default=0,
    show_default=True,
    help="First port; the services take five in a row. 0 picks free ports.",
)
@click.option(
    "--chaos",
    "chaos_rate",
    type=click.FloatRange(0.0, 1.0),
    default=None,
    metavar="RATE",
    help="Fault this fraction of requests (0.2 = 20 %) the way the real internet does.",
)
@click.option(
    "--chaos-seed",
    type=int,
    default=None,
    metavar="N",
    help="Seed for --chaos, so a run can be replayed (default: one is chosen and printed).",
)
def emulator_serve(
    scenario: Path | None,
    catalog_file: Path | None,
    now: str | None,
    latency_ms: float | None,
    port: int,
    chaos_rate: float | None,
    chaos_seed: int | None,
) -> None:
    """Serve the emulated services on 127.0.0.1 until interrupted (Ctrl-C or SIGTERM).

    It prints the base URL of each service. Point monitor at it with:

    \b
      export MONITOR_GITHUB_API_URL=<GitHub URL>     (GraphQL is <GitHub URL>/graphql)
      export MONITOR_HF_ENDPOINT=<Hugging Face URL>
      export MONITOR_ARXIV_API_URL=<arXiv URL>
      export MONITOR_CONNECT_TO='*=<web address>'  (web checks of every host go there)

    With --catalog, every entry of the catalog exists and is healthy; with
    --scenario, the world is what the file says (both may be given; the
    scenario is applied after the seed). The control URL takes
    POST /call/<mutation> with {"args": [...], "kwargs": {...}} to change the
    world (rename, delete, star, set_page, ...) and GET /stats for request counts.

    With --chaos RATE, each request (the control port's excepted) is, with
    that probability, answered with a fault its service really shows: a stall
    (5 s, then the connection closes), a dripping or truncated body, a TCP
    reset, a 5xx or 429 in the service's own shape, GitHub's secondary limit
    and pathless GraphQL error, arXiv's "Rate exceeded.", a captive-portal
    page, an API redirect to https:// or another host. --chaos-seed makes the
    draws reproducible. Faults can also be set one at a time over the control
    URL: POST /call/inject_fault with {"args": ["github", "5xx"], "kwargs":
    {"times": 1}}, /call/set_chaos, /call/clear_faults (see
    monitor/emulator/chaos.py). The injected counts are printed at the end.
    """
    guarded(lambda: _serve(scenario, catalog_file, now, latency_ms, port, chaos_rate, chaos_seed))


def _serve(
    scenario: Path | None,
    catalog_file: Path | None,
    now: str | None,
    latency_ms: float | None,
    port: int,
    chaos_rate: float | None = None,
    chaos_seed: int | None = None,
) -> None:
    import signal
    import threading
    from datetime import UTC, datetime

    from monitor.catalog.file import load_catalog
    from monitor.emulator import Emulator, World
    from monitor.emulator.scenario import load_scenario, seed_world
    from monitor.settings_checks import parse_now

    world = World()
    if catalog_file is not None:
        try:
            moment = parse_now(now) if now else datetime.now(UTC)
        except ValueError as exc:
            raise UserInputError([Problem("--now", str(exc))]) from None
        seeded = seed_world(load_catalog(catalog_file).entries, moment, world)
        counts = ", ".join(f"{k} {n}" for k, n in sorted(seeded.counts.items()))
        click.echo(f"Seeded from {catalog_file}: {counts}.")
        for url, why in seeded.skipped:
            click.echo(f"  left out {url}: {why}")
    if scenario is not None:
        load_scenario(scenario, world)
    if latency_ms is not None:
        world.set_latency(latency_ms / 1000)
    if chaos_rate is not None:
        world.set_chaos(chaos_rate, seed=chaos_seed)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    with Emulator(world, base_port=port) as running:
        click.echo(f"GitHub        {running.github_url}   (GraphQL {running.github_url}/graphql)")
        click.echo(f"Hugging Face  {running.hf_url}")
        click.echo(f"arXiv         {running.arxiv_url}")
        click.echo(f"web           {running.web_url}")
        click.echo(f"Wayback       {running.wayback_url}")
        click.echo(f"control       {running.control_url}")
        if world.chaos.rate:
            click.echo(
                f"chaos         {world.chaos.rate * 100:g}% of requests faulted "
                f"(seed {world.chaos.seed}; --chaos-seed {world.chaos.seed} replays it)"
            )
        click.echo("\nPoint monitor at it:")
        for name, value in running.environment().items():
            click.echo(f"  export {name}={value}")
        click.echo("\nServing until Ctrl-C or SIGTERM.", nl=True)
        sys.stdout.flush()
        stop.wait()
        counts = ", ".join(f"{k} {n}" for k, n in sorted(world.counts.items())) or "none"
        click.echo(f"Stopped. Requests served: {counts}.")
        injected = sorted(world.chaos.injected.items())
        if world.chaos.rate or injected:
            faults = ", ".join(f"{service} {fault} {n}" for (service, fault), n in injected)
            click.echo(f"Faults injected: {faults or 'none'}.")
