"""The command line: help everywhere, exit statuses, clear errors, nothing written on bad input."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from monitor.cli import main, redact
from tests.conftest import DATA, ROOT

DOC = "# L\n\n## S\n\n- [Alpaca](https://github.com/tatsu-lab/stanford_alpaca)\n"


def invoke(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def all_commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [prefix]
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            found += all_commands(command, (*prefix, name))
        else:
            found.append((*prefix, name))
    return found


@pytest.mark.parametrize("path", all_commands(main), ids=lambda p: " ".join(p) or "monitor")
def test_every_command_has_help(path: tuple[str, ...]) -> None:
    """`monitor … --help` works for every command and shows its own description."""
    result = invoke(*path, "--help")
    assert result.exit_code == 0
    command: click.Command = main
    for name in path:
        assert isinstance(command, click.Group)
        command = command.commands[name]
    assert command.help
    first_line = " ".join(command.help.split("\n")[0].split())
    assert first_line in " ".join(result.output.split())
    assert "Usage:" in result.output


def test_python_dash_m() -> None:
    """`python -m monitor` is the monitor command."""
    done = subprocess.run(
        [sys.executable, "-m", "monitor", "--help"],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert done.returncode == 0 and "catalog" in done.stdout


def test_import_then_check(tmp_path: Path) -> None:
    """Import writes a valid catalog; importing again leaves it untouched; check passes."""
    doc, catalog = tmp_path / "list.md", tmp_path / "sources.toml"
    doc.write_text(DOC)
    first = invoke("catalog", "import", doc, "--into", catalog)
    assert first.exit_code == 0 and "1 new" in first.output
    before = catalog.read_bytes()
    again = invoke("catalog", "import", doc, "--into", catalog)
    assert again.exit_code == 0 and "already up to date" in again.output
    assert catalog.read_bytes() == before
    checked = invoke("catalog", "check", catalog)
    assert checked.exit_code == 0 and "1 entries, no problems" in checked.output


def test_catalog_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """MONITOR_CATALOG names the catalog when no path is given."""
    doc, catalog = tmp_path / "list.md", tmp_path / "elsewhere.toml"
    doc.write_text(DOC)
    monkeypatch.setenv("MONITOR_CATALOG", str(catalog))
    assert invoke("catalog", "import", doc).exit_code == 0
    assert catalog.exists()
    assert invoke("catalog", "check").exit_code == 0


def test_dry_run_writes_nothing(tmp_path: Path) -> None:
    """--dry-run reports but does not create the catalog."""
    doc = tmp_path / "list.md"
    doc.write_text(DOC)
    result = invoke("catalog", "import", doc, "--into", tmp_path / "s.toml", "--dry-run")
    assert result.exit_code == 0 and "Would write" in result.output
    assert not (tmp_path / "s.toml").exists()


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (None, "no such file"),
        (b"", "is empty"),
        (bytes(range(256)) * 64, "binary"),
        (b"x" * (50 * 1024 * 1024), "more than the 32 MB limit"),
    ],
    ids=["missing", "empty", "binary", "50MB"],
)
def test_bad_documents_exit_2_and_write_nothing(
    tmp_path: Path, content: bytes | None, words: str
) -> None:
    """A missing, empty, binary or 50 MB document: one clear message each, exit 2, no catalog."""
    good, bad, catalog = tmp_path / "good.md", tmp_path / "bad.md", tmp_path / "s.toml"
    good.write_text(DOC)
    if content is not None:
        bad.write_bytes(content)
    result = CliRunner().invoke(
        main, ["catalog", "import", str(good), str(bad), "--into", str(catalog)]
    )
    assert result.exit_code == 2
    assert words in result.output and str(bad) in result.output
    assert "Traceback" not in result.output
    assert not catalog.exists()


def test_huge_document_imports_with_raised_limit(tmp_path: Path) -> None:
    """A document over the default limit imports when --max-size allows it."""
    doc = tmp_path / "big.md"
    doc.write_text(DOC + "x" * 2048)
    result = invoke("catalog", "import", doc, "--into", tmp_path / "s.toml", "--max-size", "1KB")
    assert result.exit_code == 2
    assert (
        invoke(
            "catalog", "import", doc, "--into", tmp_path / "s.toml", "--max-size", "1MB"
        ).exit_code
        == 0
    )


def test_ten_thousand_links_import(tmp_path: Path) -> None:
    """A document with 10,000 links imports into 10,000 entries."""
    doc = tmp_path / "big.md"
    doc.write_text("\n".join(f"- [r{i}](https://github.com/o{i}/r{i})" for i in range(10_000)))
    result = invoke("catalog", "import", doc, "--into", tmp_path / "s.toml")
    assert result.exit_code == 0 and "10000 new" in result.output
    assert invoke("catalog", "check", tmp_path / "s.toml").exit_code == 0


def test_import_into_invalid_catalog_leaves_it_alone(tmp_path: Path) -> None:
    """Importing into a catalog with mistakes exits 2 and leaves it byte-for-byte unchanged."""
    doc, catalog = tmp_path / "list.md", tmp_path / "s.toml"
    doc.write_text(DOC)
    catalog.write_bytes((DATA / "five-mistakes.toml").read_bytes())
    result = invoke("catalog", "import", doc, "--into", catalog)
    assert result.exit_code == 2
    assert catalog.read_bytes() == (DATA / "five-mistakes.toml").read_bytes()


def test_check_reports_every_mistake_with_its_line() -> None:
    """`catalog check` on a catalog with six mistakes prints six located errors and exits 2."""
    path = DATA / "five-mistakes.toml"
    result = CliRunner().invoke(main, ["catalog", "check", str(path)])
    assert result.exit_code == 2
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert [e.split(":")[2] for e in errors] == ["5", "7", "11", "15", "17", "22"]
    assert "6 problems; nothing was changed." in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("content", "words"),
    [(None, "no such catalog file"), (b"\x00garbage\xff", "binary"), (b"", "0 entries")],
    ids=["missing", "binary", "empty"],
)
def test_check_unreadable_catalog(tmp_path: Path, content: bytes | None, words: str) -> None:
    """A missing or binary catalog is a clear error (exit 2); an empty one is valid and empty."""
    path = tmp_path / "s.toml"
    if content is not None:
        path.write_bytes(content)
    result = CliRunner().invoke(main, ["catalog", "check", str(path)])
    assert words in result.output
    assert result.exit_code == (0 if content == b"" else 2)


def test_check_includes_environment_problems(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bad MONITOR_* variable is reported together with the catalog's own problems."""
    monkeypatch.setenv("MONITOR_NOW", "tomorrow")
    result = CliRunner().invoke(main, ["catalog", "check", str(DATA / "five-mistakes.toml")])
    assert result.exit_code == 2
    assert "MONITOR_NOW" in result.output and "7 problems" in result.output


def test_redact_hides_tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    """Anything the CLI prints has token values replaced by ***."""
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_abcdefghijklmnop")
    assert redact("Authorization: token ghp_abcdefghijklmnop") == "Authorization: token ***"
