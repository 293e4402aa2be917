"""The gate's findings, written where maintainers look: lines, annotations, SARIF, a summary.

    lines(result)              # ["README.md:12: error: … [renamed]", ...]
    workflow_commands(result)  # ["::error file=README.md,line=12,title=…::…", ...]
    sarif(result, version)     # a SARIF 2.1.0 log, one rule per admission rule
    summary(result)            # markdown for GITHUB_STEP_SUMMARY

Pure but for `publish`, which writes them all: a `GateResult` in, text or
JSON-ready data out. SARIF fingerprints hash
the rule, the document and the resource (not the line), so code scanning keeps
one alert for a link however the lines around it move.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from monitor.admission import RULES, Level
from monitor.catalog.file import write_atomically
from monitor.gate import Finding, GateResult

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
#: The fingerprint's name and version: change the version if the hashed fields change.
FINGERPRINT = "monitorLink/v1"


def lines(result: GateResult) -> list[str]:
    """One `DOCUMENT:LINE: error|warning: …` line per finding, rule name last."""
    return [
        f"{f.document}:{f.line}: {f.level.value}: {f.message} [{f.rule.value}]"
        for f in result.findings
    ]


def workflow_commands(result: GateResult) -> list[str]:
    """GitHub Actions annotations on the lines that added each link."""
    out = []
    for f in result.findings:
        title = f"monitor gate: {RULES[f.rule].title}"
        properties = f"file={_property(f.document)},line={f.line},title={_property(title)}"
        out.append(f"::{f.level.value} {properties}::{_data(f.message)}")
    return out


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def tally(result: GateResult) -> str:
    """ "2 errors, 1 warning" (or "no problem")."""
    errors, warnings = result.count(Level.ERROR), result.count(Level.WARNING)
    parts = []
    if errors:
        parts.append(f"{errors} error{'s' * (errors != 1)}")
    if warnings:
        parts.append(f"{warnings} warning{'s' * (warnings != 1)}")
    return ", ".join(parts) or "no problem"


def headline(result: GateResult) -> str:
    """What was compared and what was found, in one sentence."""
    change = result.change
    count = len(change.links)
    links = f"{count} new link{'s' * (count != 1)}"
    where = ", ".join(change.documents) or "no document"
    return (
        f"{tally(result)} in {links} ({where}), compared with {change.base.described} "
        f"({change.base.sha[:7]})"
    )


def summary(result: GateResult) -> str:
    """The job summary: a headline, a table of findings, and what the checks cost."""
    out = ["## monitor gate", ""]
    mark = "❌" if result.count(Level.ERROR) else ("⚠️" if result.findings else "✅")
    out += [f"{mark} {headline(result)}.", ""]
    if result.findings:
        out += ["| | where | link | rule | what |", "|---|---|---|---|---|"]
        for f in result.findings:
            icon = "❌" if f.level is Level.ERROR else "⚠️"
            message = f.message.removeprefix(f"{f.url}: ")
            out.append(
                f"| {icon} | {f.document}:{f.line} | <{_cell(f.url)}> | `{f.rule.value}` "
                f"| {_cell(message)} |"
            )
        out.append("")
    if result.requests:
        out += [cost(result) + ".", ""]
    return "\n".join(out)


def cost(result: GateResult) -> str:
    """ "16 resources checked in 2.1 s; requests: arxiv 1, github 5"."""
    spent = ", ".join(f"{name} {count}" for name, count in sorted(result.requests.items()))
    return f"{result.checked} resources checked in {result.seconds:.1f} s; requests: {spent}"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def sarif(result: GateResult, version: str) -> dict[str, Any]:
    """A SARIF 2.1.0 log of the findings: one rule per admission rule (every rule, so code
    scanning can close an alert whose rule no longer fires), stable fingerprints."""
    order = list(RULES)
    rules = [
        {
            "id": rule.value,
            "name": "Link" + "".join(part.title() for part in rule.value.split("-")),
            "shortDescription": {"text": info.title},
            "fullDescription": {"text": info.help},
            "help": {"text": info.help},
            "defaultConfiguration": {"level": info.level.value},
            "properties": {"tags": ["links"], "problem.severity": info.level.value},
        }
        for rule, info in RULES.items()
    ]
    seen: Counter[str] = Counter()
    results = []
    for f in result.findings:
        identity = _identity(f)
        seen[identity] += 1
        results.append(
            {
                "ruleId": f.rule.value,
                "ruleIndex": order.index(f.rule),
                "level": f.level.value,
                "message": {"text": f.message},
                "locations": [
                    {
                        "physicalLocation": {
                            "artifactLocation": {"uri": f.document, "uriBaseId": "%SRCROOT%"},
                            "region": {"startLine": f.line},
                        }
                    }
                ],
                "partialFingerprints": {FINGERPRINT: f"{identity}:{seen[identity]}"},
                **({"properties": {"newUrl": f.new_url}} if f.new_url else {}),
            }
        )
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "monitor gate",
                        "version": version,
                        "semanticVersion": version,
                        "rules": rules,
                    }
                },
                "automationDetails": {"id": "monitor-gate/"},
                "columnKind": "unicodeCodePoints",
                "results": results,
            }
        ],
    }


def _identity(finding: Finding) -> str:
    text = "\0".join((finding.rule.value, finding.document, finding.key))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def publish(
    result: GateResult,
    *,
    environ: Mapping[str, str],
    echo: Callable[[str], None],
    sarif_path: Path | None = None,
    version: str = "",
) -> None:
    """The one edge here that writes: the lines (and, in GitHub Actions, the annotations)
    through `echo`, the SARIF log to `sarif_path` (atomically), the summary appended to
    the file `GITHUB_STEP_SUMMARY` names."""
    for line in lines(result):
        echo(line)
    if environ.get("GITHUB_ACTIONS") == "true":
        for command in workflow_commands(result):
            echo(command)
    echo(f"monitor gate: {headline(result)}")
    if result.requests:
        echo(f"monitor gate: {cost(result)}")
    for error in result.errors:
        echo(f"monitor gate: {error}")
    if sarif_path is not None:
        text = json.dumps(sarif(result, version), indent=2, ensure_ascii=False) + "\n"
        write_atomically(sarif_path, text)
    step_summary = environ.get("GITHUB_STEP_SUMMARY", "").strip()
    if step_summary:
        with open(step_summary, "a", encoding="utf-8") as handle:
            handle.write(summary(result) + "\n")
