"""`monitor demo`: the offline tour. A week of a catalog's life, played against the emulator.

    result = run_demo(entries, directory, probes_for=build_probes, start=monday_6am, say=print)

The emulator is seeded from the catalog (every entry healthy), a first check
records it, and then the world changes overnight the way the 2023 lists
rotted: a Hub model deleted (GPTrillion), weights taken down (decapoda), a
repository renamed (Auto-GPT -> AutoGPT) and one transferred (lvwerra/trl ->
huggingface/trl), a licence opened up (Falcon), a blog gone, a repository
archived, another blocked and restored, new commits, new paper versions and
stars moving. Where the catalog lacks the famous case, the story picks an
entry of the same kind. A check runs every simulated morning for a week, then
the week's digest is written. Alerts go to a recording channel, never out.

Nothing here reaches the network: every client is pointed at the emulator on
loopback, and the store and reports live in the demo's own directory.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from monitor.alerts import RecordingChannel
from monitor.catalog.kinds import identify
from monitor.demo_repository import RepositoryViews, publish, the_week_in_the_repository
from monitor.digest import Week, write_week_digest
from monitor.emulator import Emulator, World
from monitor.emulator.scenario import seed_world
from monitor.model import Entry, Kind
from monitor.probes import Probe
from monitor.runner import run_check
from monitor.settings import Probes, Secret, Settings
from monitor.store import Store

#: Marks a directory as the demo's own, so running the demo again may clear it.
MARKER = ".monitor-demo"
DAYS = 7
Say = Callable[[str], None]
ProbesFor = Callable[[Settings], Mapping[Kind, Probe]]


@dataclass(frozen=True, slots=True)
class Change:
    """One thing that happens to the world overnight before the morning check of `day`."""

    day: int
    story: str
    apply: Callable[[World], object]


@dataclass
class DemoResult:
    directory: Path
    reports: list[Path] = field(default_factory=list)
    digest: list[Path] = field(default_factory=list)
    events: Counter[str] = field(default_factory=Counter)
    alert_messages: list[tuple[str, str]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    #: the list's own repository after the week: the tracking issue, the repair pull request
    repository: RepositoryViews | None = None


def prepare(directory: Path) -> None:
    """Make `directory` the demo's: create it, or clear a previous demo's; refuse anything else."""
    if directory.exists() and any(directory.iterdir()):
        if not (directory / MARKER).exists():
            raise FileExistsError(
                f"{directory} is not empty and is not a previous demo's directory; "
                "give a new or empty directory"
            )
        for name in ("monitor.db", "monitor.db-wal", "monitor.db-shm", "monitor.db.lock"):
            (directory / name).unlink(missing_ok=True)
        reports = directory / "reports"
        if reports.is_dir():
            for path in sorted(reports.rglob("*"), reverse=True):
                path.rmdir() if path.is_dir() else path.unlink()
    directory.mkdir(parents=True, exist_ok=True)
    (directory / MARKER).write_text("monitor demo output; safe to delete\n")


def story(entries: Sequence[Entry], world: World, start: datetime) -> list[Change]:
    """The week's changes, each applied to an entry the seeded world really has."""
    repos = [e for e in entries if e.kind is Kind.GITHUB_REPO and _repo(world, e)]
    models = [e for e in entries if e.kind is Kind.HF_MODEL and _hf(world, e)]
    pages = [e for e in entries if e.kind is Kind.WEB]
    papers = [e for e in entries if e.kind is Kind.ARXIV and _paper(e) in world.papers]
    used: set[str] = set()

    def pick(pool: Sequence[Entry], *wanted: str) -> Entry | None:
        for name in wanted:
            for entry in pool:
                if identify(entry.url).label.lower() == name.lower() and entry.key not in used:
                    used.add(entry.key)
                    return entry
        for entry in pool:
            if entry.key not in used:
                used.add(entry.key)
                return entry
        return None

    changes: list[Change] = []
    day = timedelta(days=1)

    if model := pick(models, "banana-dev/GPTrillion"):
        name = identify(model.url).label
        changes.append(Change(1, f"{name} deleted from the Hub", lambda w: w.hf_delete(name)))
    if (taken := pick(models, "decapoda-research/llama-7b-hf")) and "decapoda" in taken.url:
        name2 = identify(taken.url).label
        changes.append(Change(2, f"{name2} taken down", lambda w: w.hf_delete(name2)))
    if repo := pick(repos, "Significant-Gravitas/Auto-GPT"):
        full = identify(repo.url).label
        new = "AutoGPT" if full.lower().endswith("/auto-gpt") else full.split("/")[1] + "-next"
        changes.append(Change(1, f"{full} renamed to {new}", lambda w: w.rename(full, new)))
    if (moved := pick(repos, "lvwerra/trl")) and moved.url.lower().endswith("lvwerra/trl"):
        changes.append(
            Change(2, "lvwerra/trl transferred to huggingface/trl", _transfer("lvwerra/trl"))
        )
    if falcon := pick(models, "tiiuae/falcon-180B", "tiiuae/falcon-40b"):
        fname = identify(falcon.url).label
        # Before the first check: the custom licence Falcon started with.
        changes.append(Change(0, "", lambda w: w.hf_set_license(fname, "other")))
        changes.append(
            Change(
                3,
                f"{fname} re-licensed: custom -> apache-2.0",
                lambda w: w.hf_set_license(fname, "apache-2.0"),
            )
        )
    if page := pick(pages):
        url = page.url
        changes.append(Change(1, f"{url} starts answering 404", lambda w: w.set_page(url, 404)))
    if archived := pick(repos, "tatsu-lab/stanford_alpaca"):
        aname = identify(archived.url).label
        changes.append(Change(3, f"{aname} archived", lambda w: w.archive(aname)))
    if blocked := pick(repos):
        bname = identify(blocked.url).label
        changes.append(Change(2, f"{bname} blocked (DMCA)", lambda w: w.block(bname, "dmca")))
        changes.append(Change(5, f"{bname} restored", lambda w: w.restore(bname)))
    if paper := pick(papers):
        pid = _paper(paper)
        when = start + 3 * day
        changes.append(Change(4, f"arXiv {pid} gets a new version", _version(pid, when)))
    movers = [e for e in repos if e.key not in used][:8]
    for number in range(1, DAYS):
        changes.append(Change(number, "", _activity(movers, number, start + number * day)))
    return sorted(changes, key=lambda c: c.day)


def run_demo(
    entries: Sequence[Entry],
    directory: Path,
    *,
    probes_for: ProbesFor,
    start: datetime,
    say: Say,
    progress: Callable[[int, int], None] | None = None,
) -> DemoResult:
    """Play the week and write everything into `directory`; see the module docstring."""
    prepare(directory)
    result = DemoResult(directory)
    seeded = seed_world(entries, start)
    result.skipped = seeded.skipped
    world = seeded.world
    counts = ", ".join(f"{k} {n}" for k, n in sorted(seeded.counts.items()))
    say(f"Emulated world seeded from the catalog: {counts}.")
    changes = story(entries, world, start)
    listed = publish(world, entries)
    recorder = RecordingChannel()
    reports_dir = directory / "reports"
    with Emulator(world) as emulator:
        settings = Settings(
            database_url=f"sqlite:///{directory / 'monitor.db'}",
            reports_dir=reports_dir,
            github_api_url=emulator.github_url,
            github_token=Secret("demo-token-for-the-emulator"),
            hf_endpoint=emulator.hf_url,
            hf_token=Secret("demo-token-for-the-emulator"),
            arxiv_api_url=emulator.arxiv_url,
            connect_to=(("*", emulator.web_url.removeprefix("http://")),),
            probes=Probes(arxiv_interval_seconds=0.0, web_retry_backoff_ms=50),
        )
        store = Store.connect(settings.database_url)
        try:
            for day in range(DAYS):
                told = [c.story for c in changes if c.day == day and c.story]
                for change in changes:
                    if change.day == day:
                        change.apply(world)
                if told:
                    say("  overnight: " + "; ".join(told) + ".")
                now = start + timedelta(days=day)
                before = len(recorder.messages)
                run = run_check(
                    entries,
                    store,
                    probes_for(settings),
                    now=now,
                    policy=settings.policy,
                    reports_dir=reports_dir,
                    channels=[recorder],
                    interval=timedelta(hours=1),
                )
                events = Counter(e.event.event.value for e in store.events(run_ids=[run.run_id]))
                result.events.update(events)
                shown = ", ".join(f"{n} {k}" for k, n in sorted(events.items())) or "no events"
                alerts = len(recorder.messages) - before
                say(
                    f"{now:%a %Y-%m-%d %H:%M} UTC  checked {run.checked}: {shown}"
                    + (f"; alert sent: {recorder.messages[-1][0]}" if alerts else "")
                )
                result.reports = sorted(set(result.reports) | set(run.reports))
                if progress is not None:
                    progress(day + 1, DAYS)
            result.digest = write_week_digest(store, Week.containing(start), reports_dir)
            result.repository = the_week_in_the_repository(
                settings, store, world, listed, start + timedelta(days=DAYS - 1, hours=1)
            )
        finally:
            store.close()
    result.alert_messages = list(recorder.messages)
    return result


def _repo(world: World, entry: Entry) -> bool:
    found, _ = world.find_repo(identify(entry.url).label)
    return found is not None


def _hf(world: World, entry: Entry) -> bool:
    found, _ = world.find_hf_repo(identify(entry.url).label, "model")
    return found is not None


def _paper(entry: Entry) -> str:
    return entry.key.removeprefix("arxiv:")


def _transfer(full: str) -> Callable[[World], None]:
    def apply(world: World) -> None:
        world.transfer(full, "huggingface/" + full.split("/")[1])

    return apply


def _version(paper: str, when: datetime) -> Callable[[World], None]:
    def apply(world: World) -> None:
        world.add_version(paper, when)

    return apply


def _activity(movers: Sequence[Entry], day: int, when: datetime) -> Callable[[World], None]:
    """Stars and commits for a few repositories: some climb fast, some slowly, one loses."""

    def apply(world: World) -> None:
        for rank, entry in enumerate(movers):
            repo, _ = world.find_repo(identify(entry.url).label)
            if repo is None:
                continue
            gain = (len(movers) - rank) * 37 * day // 3 if rank else 400 + 60 * day
            world.star(repo.full_name, max(0, repo.stars + (gain if rank != 3 else -15)))
            if (rank + day) % 3 == 0:
                world.add_commit(repo.full_name, when - timedelta(hours=2), "Ship it")

    return apply
