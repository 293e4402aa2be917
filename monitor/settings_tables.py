"""The `sources.toml` tables that are more than key = value: `[policy.hosts."…"]`,
`[catalog]` and `[gate]`, read and checked for `settings.resolve_settings`, each
problem with its line; and the two helpers every table reader shares.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from monitor.admission import promotable
from monitor.errors import Problem

#: Where a key of a table is in the catalog: (table, key) -> line, or None.
LineOf = Callable[[str, str], int | None]


def unknown_key(where: str, table: str, key: str, known: list[str], locate: LineOf) -> Problem:
    import difflib

    close = difflib.get_close_matches(key, known, n=1)
    hint = f"did you mean {close[0]!r}?" if close else "known keys: " + ", ".join(sorted(known))
    return Problem(where, f"unknown key {key!r} in [{table}]", locate(table, key), hint)


def table_of(
    tables: Mapping[str, Any], name: str, where: str, problems: list[Problem], locate: LineOf
) -> Mapping[str, Any]:
    value = tables.get(name, {})
    if not isinstance(value, Mapping):
        problems.append(
            Problem(
                where,
                f"[{name}] must be a table",
                locate(name, ""),
                f"write it as a [{name}] section with key = value lines",
            )
        )
        return {}
    return value


def hosts_accept(
    tables: Mapping[str, Any], where: str, problems: list[Problem], locate: LineOf
) -> tuple[tuple[str, tuple[int, ...]], ...]:
    """`[policy.hosts."linkedin.com"] accept = [999]`, host by host."""
    from monitor.catalog.judgement import statuses

    policy = tables.get("policy", {})
    hosts = policy.get("hosts", {}) if isinstance(policy, Mapping) else {}
    if not isinstance(hosts, Mapping):
        problems.append(
            Problem(
                where, "[policy] hosts must be a table of host names", locate("policy", "hosts")
            )
        )
        return ()
    found: list[tuple[str, tuple[int, ...]]] = []
    for host, table in hosts.items():
        section = f'policy.hosts."{host}"'
        if not isinstance(table, Mapping) or set(table) - {"accept"}:
            problems.append(
                Problem(
                    where,
                    f"[{section}] takes one key, accept",
                    locate(section, ""),
                    f"e.g. [{section}] accept = [999]",
                )
            )
            continue
        accepted = statuses(
            table.get("accept", []),
            locate(section, "accept"),
            where,
            problems,
            name=f"[{section}] accept",
        )
        found.append((str(host).lower().rstrip("."), accepted))
    return tuple(sorted(found))


def catalog_table(
    tables: Mapping[str, Any], where: str, problems: list[Problem], locate: LineOf
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """`[catalog] documents = [...]` and `exclude = [...]` (regular expressions)."""
    table = table_of(tables, "catalog", where, problems, locate)
    for key in table:
        if key not in ("documents", "exclude"):
            problems.append(unknown_key(where, "catalog", key, ["documents", "exclude"], locate))
    found: dict[str, tuple[str, ...]] = {}
    examples = {"documents": '["README.md"]', "exclude": '["^https://example\\.org/"]'}
    for key, example in examples.items():
        value = table.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            problems.append(
                Problem(
                    where,
                    f"[catalog] {key} must be a list of strings",
                    locate("catalog", key),
                    f"e.g. {key} = {example}",
                )
            )
            value = []
        found[key] = tuple(value)
    for pattern in found["exclude"]:
        try:
            re.compile(pattern)
        except re.error as exc:
            problems.append(
                Problem(
                    where,
                    f"[catalog] exclude {pattern!r} is not a regular expression: {exc}",
                    locate("catalog", "exclude"),
                    "escape dots and other special characters with a backslash",
                )
            )
    return found["documents"], found["exclude"]


def gate_table(
    tables: Mapping[str, Any], where: str, problems: list[Problem], locate: LineOf
) -> tuple[str, ...]:
    """`[gate] errors = ["archived", ...]`: admission warnings that fail the gate."""
    table = table_of(tables, "gate", where, problems, locate)
    for key in table:
        if key != "errors":
            problems.append(unknown_key(where, "gate", key, ["errors"], locate))
    value = table.get("errors", [])
    names = promotable()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        problems.append(
            Problem(
                where,
                "[gate] errors must be a list of rule names",
                locate("gate", "errors"),
                'e.g. errors = ["archived", "no-license"]',
            )
        )
        return ()
    for name in value:
        if name not in names:
            unverified = name == "unverified"
            problems.append(
                Problem(
                    where,
                    f"[gate] errors: {name!r} "
                    + ("can never be an error" if unverified else "is not a warning rule"),
                    locate("gate", "errors"),
                    "a link that could not be verified may well work, so it stays a warning"
                    if unverified
                    else "the warnings are " + ", ".join(names),
                )
            )
    return tuple(dict.fromkeys(v for v in value if v in names))
