"""What needs the maintainer's action now: the store's verdicts, read at a moment.

    needs = needs_action(store.sources(), store.events(types=READS), now, entries=catalog)
    for event_type, items in grouped(needs): ...

Pure: values in, values out, no I/O. The tracking issue (`monitor github issue`)
and the status page read the same list. The rules are the contract's:

- `deleted`, `dead`, `blocked` and `unreachable` while they last (the source's
  current health);
- `renamed` and `redirected` until the catalog uses the new URL: while the source
  still stands in the store (and in the catalog, when one is given) under the URL
  it moved away from, and answers at the new one (`catalog.fix.relocations`, so the
  URL suggested is the one `monitor catalog fix` would write);
- `license_changed` and `archived` for 7 days after they were reported, while still
  so (not unarchived, not re-licensed again);
- never suspects or `unverifiable` links; never ignored sources; snoozed ones not
  before their date. With a catalog at hand its judgement is the current one, and an
  entry it no longer lists needs nothing.

Each item carries the documents and lines that link to it (the catalog's `seen`).
Items are grouped in the order of the day report's "Needs action", with
`redirected` beside `renamed` (both want the new URL in the list).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from monitor.model import NEVER_WORKED, Entry, EventType, Health, Judgement, Seen
from monitor.policy import last_answer
from monitor.store import StoredEvent, StoredSource

#: The order items are listed in: the day report's, `redirected` beside `renamed`.
ORDER = (
    EventType.DELETED,
    EventType.DEAD,
    EventType.RENAMED,
    EventType.REDIRECTED,
    EventType.LICENSE_CHANGED,
    EventType.ARCHIVED,
    EventType.BLOCKED,
    EventType.UNREACHABLE,
)
#: The events `needs_action` reads (for `Store.events(types=…)`): when each began.
READS = frozenset(ORDER)
#: States that need action while they last, with the event that reported them.
LASTING = {
    Health.DELETED: EventType.DELETED,
    Health.DEAD: EventType.DEAD,
    Health.BLOCKED: EventType.BLOCKED,
    Health.UNREACHABLE: EventType.UNREACHABLE,
}
#: How long a licence change or an archiving needs action after it was reported.
RECENT = timedelta(days=7)
#: What a rebuilt store (or a source added again) does not know yet: an item listed
#: before stays listed while its source is in one of these states, rather than passing
#: for resolved.
UNCONFIRMED = frozenset({Health.UNKNOWN, Health.SUSPECT})
#: The items that may be carried over that way (the others expire or are re-reported).
CARRIED = frozenset(
    {
        EventType.DELETED,
        EventType.DEAD,
        EventType.BLOCKED,
        EventType.UNREACHABLE,
        EventType.RENAMED,
        EventType.REDIRECTED,
    }
)


@dataclass(frozen=True, slots=True)
class Need:
    """One thing a maintainer should do something about."""

    event: EventType
    key: str
    url: str
    name: str
    kind: str
    #: since when it needs action: when the event was reported, where the store knows
    since: datetime | None = None
    last_checked: datetime | None = None
    #: where to point the list instead (renames, redirects)
    new_url: str | None = None
    old: str | None = None
    new: str | None = None
    detail: str | None = None
    #: the last answer in a few words ("HTTP 404"), for lasting states
    answer: str = ""
    #: where the documents link to it (empty without a catalog)
    seen: tuple[Seen, ...] = ()
    #: listed before and not confirmed again yet (a rebuilt store, a source added again)
    carried: bool = False

    @property
    def identity(self) -> tuple[str, str]:
        """What the item is, whatever its details: (event word, URL)."""
        return (self.event.value, self.url)

    @property
    def never_worked(self) -> bool:
        return bool(self.detail and self.detail.startswith(NEVER_WORKED))

    def to_json(self, *, volatile: bool = True) -> dict[str, Any]:
        """The item as JSON; without `volatile`, only what says what needs doing (no
        last check, no last answer), so that two runs can tell whether anything changed."""
        data: dict[str, Any] = {"event": self.event.value, "url": self.url, "name": self.name}
        data["kind"] = self.kind
        for name in ("new_url", "old", "new", "detail"):
            value = getattr(self, name)
            if value is not None:
                data[name] = value
        if self.since is not None:
            data["since"] = self.since.isoformat()
        data["seen"] = [{"document": s.document, "line": s.line} for s in self.seen]
        if self.carried:
            data["carried"] = True
        if volatile:
            data["last_checked"] = self.last_checked.isoformat() if self.last_checked else None
            data["answer"] = self.answer
        return data


def needs_action(
    sources: Iterable[StoredSource],
    events: Iterable[StoredEvent],
    now: datetime,
    *,
    entries: Iterable[Entry] | None = None,
    listed: Iterable[tuple[str, str]] = (),
    recent: timedelta = RECENT,
) -> list[Need]:
    """What needs action at `now`, in `ORDER`, then by name.

    `sources` are the store's active sources; `events` at least those of `READS` (any
    others are ignored). `entries` is the catalog when one is at hand: it gives the
    documents and lines, the current judgement, and says which entries are still in the
    list. `listed` is what an earlier list held, as (event word, URL): such an item whose
    source the store no longer knows for sure (`UNCONFIRMED`) is kept, marked `carried`.
    """
    catalog = {e.key: e for e in entries} if entries is not None else None
    latest: dict[tuple[str, EventType], StoredEvent] = {}
    for row in events:
        if row.event.event in READS:
            known = latest.get((row.event.key, row.event.event))
            if known is None or row.event.at >= known.event.at:
                latest[(row.event.key, row.event.event)] = row
    carried = {(EventType(word), url) for word, url in listed if word in CARRIED}

    watched: list[tuple[StoredSource, Entry | None]] = []
    for source in sources:
        entry = catalog.get(source.key) if catalog is not None else None
        if catalog is not None and entry is None:
            continue  # the list no longer has it (removed, or fixed to its new URL)
        judgement = entry.judgement if entry is not None else source.judgement
        if _quiet(judgement, now):
            continue
        watched.append((source, entry))
    # Here, not at the top: the fixer brings the document extractor (markdown-it), which a
    # run that only reads this module's ORDER and READS (monitor.outputs) has no use for.
    from monitor.catalog.fix import relocations

    moves = relocations(source for source, _ in watched)

    found: list[Need] = []
    for source, entry in watched:
        state = source.state
        seen = entry.seen if entry is not None else ()

        def need(event_type: EventType, **values: Any) -> Need:
            return _need(source, seen, latest, event_type, **values)  # noqa: B023 (called at once)

        lasting = LASTING.get(state.health)
        if lasting is not None:
            stored = latest.get((source.key, lasting))
            found.append(
                need(
                    lasting,
                    detail=stored.event.detail if stored is not None else None,
                    answer=last_answer(state.last_status, state.last_error, state.last_outcome),
                )
            )
        move = moves.get(source.key)
        if move is not None:
            moved = EventType.REDIRECTED if state.redirected_to else EventType.RENAMED
            stored = latest.get((source.key, moved))
            found.append(
                need(
                    moved,
                    new_url=move.new_url,
                    old=stored.event.old if stored is not None else None,
                    new=stored.event.new if stored is not None else None,
                )
            )
        facts = state.facts
        archived = latest.get((source.key, EventType.ARCHIVED))
        if archived is not None and now - archived.event.at < recent and facts and facts.archived:
            found.append(need(EventType.ARCHIVED))
        licence = latest.get((source.key, EventType.LICENSE_CHANGED))
        if (
            licence is not None
            and now - licence.event.at < recent
            and facts is not None
            and (facts.license or "NONE") == (licence.event.new or "NONE")
        ):
            found.append(
                need(EventType.LICENSE_CHANGED, old=licence.event.old, new=licence.event.new)
            )
        if state.health in UNCONFIRMED:
            answer = last_answer(state.last_status, state.last_error, state.last_outcome)
            found += [
                need(event_type, carried=True, since=None, answer=answer)
                for event_type in ORDER
                if (event_type, source.url) in carried
            ]
    found = _unique(found)
    found.sort(key=lambda n: (ORDER.index(n.event), n.name.casefold(), n.url))
    return found


def _need(
    source: StoredSource,
    seen: tuple[Seen, ...],
    latest: Mapping[tuple[str, EventType], StoredEvent],
    event_type: EventType,
    **values: Any,
) -> Need:
    """An item about `source`, since its latest event of that kind (unless given)."""
    stored = latest.get((source.key, event_type))
    values.setdefault("since", stored.event.at if stored is not None else None)
    return Need(
        event_type,
        source.key,
        source.url,
        source.name or source.url,
        source.kind.value,
        last_checked=source.state.last_checked_at,
        seen=seen,
        **values,
    )


def _quiet(judgement: Judgement, now: datetime) -> bool:
    return judgement.ignore or judgement.snoozed(now)


def _unique(needs: Iterable[Need]) -> list[Need]:
    """One item per (event, URL): a carried item gives way to a confirmed one."""
    chosen: dict[tuple[str, str], Need] = {}
    for item in needs:
        if item.identity not in chosen or chosen[item.identity].carried:
            chosen[item.identity] = item
    return list(chosen.values())


def grouped(needs: Iterable[Need]) -> list[tuple[EventType, list[Need]]]:
    """The items by event, in `ORDER`, only the events that have some."""
    groups: dict[EventType, list[Need]] = {}
    for item in needs:
        groups.setdefault(item.event, []).append(item)
    return [(event_type, groups[event_type]) for event_type in ORDER if event_type in groups]


def resolution(
    identity: tuple[str, str],
    sources: Mapping[str, StoredSource],
    now: datetime,
    *,
    entries: Mapping[str, Entry] | None = None,
    recent: timedelta = RECENT,
) -> str:
    """Why an item listed before needs nothing now, in a few words.

    `sources` are the store's active sources by URL; `entries` the catalog by key."""
    word, url = identity
    source = sources.get(url)
    if source is None or (entries is not None and source.key not in entries):
        return "the catalog no longer lists this URL (fixed or removed)"
    entry = entries.get(source.key) if entries is not None else None
    judgement = entry.judgement if entry is not None else source.judgement
    if judgement.ignore:
        return "ignored in the catalog"
    if judgement.snoozed(now) and judgement.snooze_until is not None:
        return f"snoozed until {judgement.snooze_until.isoformat()}"
    state = source.state
    event_type = EventType(word)
    if event_type in LASTING.values():
        if state.health is Health.OK:
            return "works again"
        return f"now {state.health.value}"
    if event_type in (EventType.RENAMED, EventType.REDIRECTED):
        if state.health is Health.OK:
            return "no longer points elsewhere"
        return f"now {state.health.value}"
    if event_type is EventType.ARCHIVED and state.facts and not state.facts.archived:
        return "unarchived"
    return f"reported more than {recent.days} days ago"


def counts(needs: Sequence[Need]) -> list[tuple[EventType, int]]:
    """How many items of each event, in `ORDER`."""
    return [(event_type, len(items)) for event_type, items in grouped(needs)]
