"""The Prometheus text file of a run: `reports/monitor.prom`, for node_exporter's textfiles.

    write_metrics(reports / "monitor.prom", MetricsSnapshot(...))

Pure but for `write_metrics`, which writes the file through `prometheus_client`'s
`write_to_textfile` (a temporary file in the same folder, then a rename: a
scraper never reads half a file). Every value describes the state after the
last run, so every metric is a gauge; none is a counter, since nothing here
accumulates across runs. The metrics (all prefixed `monitor_`):

| metric | labels | value |
|---|---|---|
| `monitor_sources` | `state` | sources in that state (0 included for every state given) |
| `monitor_catalog_sources` | | sources monitored, whatever their state |
| `monitor_events` | `event` | events the last run raised, by event word |
| `monitor_requests` | `service` | requests the last run made to the service |
| `monitor_rate_limit_remaining` | `service` | requests left in the service's rate-limit window |
| `monitor_last_run_timestamp_seconds` | | when the last run finished (else started), Unix time |
| `monitor_last_run_duration_seconds` | | how long it took |
| `monitor_last_run_info` | `status` | 1, the label saying how it ended |

Label values keep their text (prometheus_client escapes `\\`, `"` and newlines);
other control characters are dropped and what UTF-8 cannot encode (lone
surrogates) becomes U+FFFD, so a hostile service or event name cannot break a line.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from prometheus_client import CollectorRegistry, Gauge, Info, generate_latest, write_to_textfile

# Control characters a label value may not usefully hold; the newline stays (the text format
# escapes it as \\n), everything else (NUL, CR, tab, DEL, C1) is dropped.
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")
# Halves of a UTF-16 pair without the other half: UTF-8 cannot encode them.
_SURROGATE = re.compile(r"[\ud800-\udfff]")


@dataclass(frozen=True)
class MetricsSnapshot:
    """What `monitor.prom` says about the store and the last run.

    `states`: health → number of sources (give every state, zeros included, so a
    state that empties reads 0 rather than vanishing); `events`: event word →
    events the last run raised; `requests`: service → requests the last run made;
    `rate_limit_remaining`: service → requests left (None: unknown, not written);
    `last_run_timestamp`: when the last run finished (its start if it never
    did), Unix seconds; `last_run_status`: how it ended, the store's run status
    ("completed", "interrupted", "failed", "running");
    `sources_total`: sources monitored (the catalog's, less ignored and retired)."""

    states: Mapping[str, int]
    sources_total: int
    last_run_timestamp: float
    last_run_duration_seconds: float
    last_run_status: str
    events: Mapping[str, int] = field(default_factory=dict)
    requests: Mapping[str, int] = field(default_factory=dict)
    rate_limit_remaining: Mapping[str, int | None] = field(default_factory=dict)


def metrics_registry(snapshot: MetricsSnapshot) -> CollectorRegistry:
    """A registry of its own (never the process-wide default) holding the snapshot's gauges."""
    registry = CollectorRegistry(auto_describe=True)
    _labelled(
        registry,
        "monitor_sources",
        "Sources in each state after the last run.",
        "state",
        _summed(snapshot.states),
    )
    Gauge(
        "monitor_catalog_sources",
        "Sources monitored (the catalog's, less ignored and retired ones), whatever their state.",
        registry=registry,
    ).set(snapshot.sources_total)
    _labelled(
        registry,
        "monitor_events",
        "Events the last run raised, by event word.",
        "event",
        _summed(snapshot.events),
    )
    _labelled(
        registry,
        "monitor_requests",
        "Requests the last run made, per service.",
        "service",
        _summed(snapshot.requests),
    )
    remaining: dict[str, float] = {}
    for service, left in snapshot.rate_limit_remaining.items():
        if left is not None:
            key = _label(service)
            remaining[key] = min(left, remaining.get(key, left))
    _labelled(
        registry,
        "monitor_rate_limit_remaining",
        "Requests left in the service's rate-limit window when the last run ended.",
        "service",
        remaining,
    )
    Gauge(
        "monitor_last_run_timestamp_seconds",
        "When the last run finished (else started), in seconds since the Unix epoch.",
        registry=registry,
    ).set(snapshot.last_run_timestamp)
    Gauge(
        "monitor_last_run_duration_seconds",
        "How long the last run took, in seconds.",
        registry=registry,
    ).set(snapshot.last_run_duration_seconds)
    Info(
        "monitor_last_run",
        "How the last run ended (completed, interrupted, failed), as its status label.",
        registry=registry,
    ).info({"status": _label(snapshot.last_run_status)})
    return registry


def render_metrics(snapshot: MetricsSnapshot) -> str:
    """The Prometheus text exposition of `snapshot` (what `write_metrics` writes)."""
    return generate_latest(metrics_registry(snapshot)).decode("utf-8")


def write_metrics(path: Path, snapshot: MetricsSnapshot) -> None:
    """Write `snapshot` to `path` atomically (temporary file in the same folder, then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_to_textfile(str(path), metrics_registry(snapshot))


def _labelled(
    registry: CollectorRegistry,
    name: str,
    documentation: str,
    label: str,
    values: Mapping[str, float],
) -> None:
    gauge = Gauge(name, documentation, [label], registry=registry)
    for value_label, value in sorted(values.items()):
        gauge.labels(value_label).set(value)


def _summed(values: Mapping[str, int]) -> dict[str, float]:
    """Counts keyed by cleaned label; two keys that clean to the same label add up."""
    total: Counter[str] = Counter()
    for key, count in values.items():
        total[_label(key)] += count
    return {key: float(count) for key, count in total.items()}


def _label(value: str) -> str:
    """`value` without control characters but the newline, lone surrogates made U+FFFD."""
    return _SURROGATE.sub("\ufffd", _CONTROL.sub("", value))
