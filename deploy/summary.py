"""Print the "Needs action" part of the newest day report, for a GitHub job summary.

    python deploy/summary.py reports >> "$GITHUB_STEP_SUMMARY"

Used by the repository's `action.yml` after `monitor check`. Reads the newest
`reports/YYYY-MM-DD.md` and prints its first line (the catalog's standing) and
its "## Needs action" section, headed with the report's date; prints a short
note when there is no report yet.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

DAY = re.compile(r"\d{4}-\d{2}-\d{2}\.md")


def summary(reports: Path) -> str:
    days = sorted(p for p in reports.glob("*.md") if DAY.fullmatch(p.name))
    if not days:
        return "monitor: no report yet.\n"
    lines = days[-1].read_text(encoding="utf-8").splitlines()
    standing = next((line for line in lines[1:] if line.strip()), "")
    try:
        start = lines.index("## Needs action")
    except ValueError:
        return f"## monitor, {days[-1].stem}\n\n{standing}\n"
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    body = "\n".join(lines[start + 1 : end]).strip()
    return f"## monitor, {days[-1].stem}: needs action\n\n{standing}\n\n{body}\n"


if __name__ == "__main__":
    sys.stdout.write(summary(Path(sys.argv[1] if len(sys.argv) > 1 else "reports")))
