"""Small values every part of the emulated world uses: UTC timestamps and stable fake ids."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

EPOCH = datetime(2020, 1, 1, tzinfo=UTC)


def utc(value: datetime | str) -> datetime:
    """A timezone-aware UTC datetime from a datetime or an ISO 8601 string."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def fake_sha(*parts: object) -> str:
    """A stable 40-hex id derived from its inputs, like a git object id."""
    return hashlib.sha1("\x00".join(map(str, parts)).encode()).hexdigest()
