"""The maintainer's judgement in a catalog entry, validated with its lines.

    [[source]]
    url = "https://www.linkedin.com/in/someone"
    accept = [999]                 # answers that count as alive for this source
    snooze_until = 2027-01-31      # checked, but no alert or "needs action" before then
    maintenance = "finished"       # done, not abandoned: never `stale`
    ignore = true                  # never checked, never reported

Every value is checked like every other field of the catalog: each problem with its
line and how to fix it. The catalog-wide counterparts (`[policy.hosts."…"] accept`,
`[catalog] documents` and `exclude`) are settings (`monitor.settings`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any

from monitor.errors import Problem
from monitor.model import Judgement

JUDGEMENT_KEYS = ("ignore", "snooze_until", "maintenance", "accept")
MAINTENANCE = ("finished",)


def read_judgement(
    raw: Mapping[str, Any],
    line: Callable[[str], int | None],
    where: str,
    problems: list[Problem],
) -> Judgement:
    """The judgement fields of one `[[source]]`, each problem added to `problems`."""
    ignore = raw.get("ignore", False)
    if not isinstance(ignore, bool):
        problems.append(
            Problem(where, "ignore must be true or false", line("ignore"), "ignore = true")
        )
        ignore = False
    until = raw.get("snooze_until")
    if isinstance(until, datetime):
        until = until.date()
    elif until is not None and not isinstance(until, date):
        problems.append(
            Problem(
                where,
                f"snooze_until = {until!r} is not a date",
                line("snooze_until"),
                "write a TOML date without quotes, e.g. snooze_until = 2027-01-31",
            )
        )
        until = None
    maintenance = raw.get("maintenance")
    if maintenance is not None and maintenance not in MAINTENANCE:
        problems.append(
            Problem(
                where,
                f"maintenance = {maintenance!r} is not known",
                line("maintenance"),
                'the one value is "finished" (a project that is done, not abandoned)',
            )
        )
    # Only an entry that has `accept` pays for finding its line (a scan of its block).
    accept = statuses(raw["accept"], line("accept"), where, problems) if "accept" in raw else ()
    return Judgement(
        ignore=ignore,
        snooze_until=until,
        finished=maintenance == "finished",
        accept=accept,
    )


def statuses(
    value: Any, line: int | None, where: str, problems: list[Problem], name: str = "accept"
) -> tuple[int, ...]:
    """`accept = [999, 403]`: HTTP statuses, 100 to 999."""
    if isinstance(value, list) and all(
        isinstance(v, int) and not isinstance(v, bool) and 100 <= v <= 999 for v in value
    ):
        return tuple(sorted(set(value)))
    problems.append(
        Problem(
            where,
            f"{name} = {value!r} must be a list of HTTP statuses",
            line,
            "e.g. accept = [999, 403]",
        )
    )
    return ()
