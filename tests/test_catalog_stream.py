"""The catalog read a block at a time: the same entries and problems, a digest, flat memory."""

from __future__ import annotations

import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.catalog.file import load_catalog, parse_catalog
from monitor.catalog.importer import import_documents
from monitor.catalog.stream import open_catalog
from monitor.errors import CatalogError
from monitor.model import Entry
from monitor.store import Store
from tests.conftest import DATA

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT.parent / "shared" / "seeds"
NOW = datetime(2026, 12, 2, 12, tzinfo=UTC)

HAND_WRITTEN = """# a catalog kept by hand
[settings]
reports_dir = "out"

[[source]]
url = "https://github.com/a/b"
tags = ["x", "y"]
ignore = true

[alerts]
urls = []

[[source]]   # a comment after the header
url = "https://huggingface.co/gpt2"
kind = "hf_model"
snooze_until = 2027-01-31
accept = [999]
seen = [
  {document = "d.md", line = 3, section = "S", text = "T"},
]

[[source]]
url = "https://arxiv.org/abs/2305.01234"
previous_urls = ["https://arxiv.org/abs/2305.01233"]
maintenance = "finished"
"""


def both(text: str, tmp_path: Path) -> tuple[list[Entry], list[Entry], bool]:
    """The entries read whole and streamed, and whether the stream cut the file in blocks."""
    path = tmp_path / "sources.toml"
    path.write_text(text)
    streamed = open_catalog(path)
    entries = list(streamed.entries())
    return list(load_catalog(path).entries), entries, streamed.whole is None


def test_a_hand_written_catalog_streams_into_the_same_entries(tmp_path: Path) -> None:
    """Tables between entries, comments on headers, judgement and seen: entries as read whole."""
    whole, streamed, cut = both(HAND_WRITTEN, tmp_path)
    assert cut and streamed == whole and len(whole) == 3
    catalog = open_catalog(tmp_path / "sources.toml")
    assert catalog.tables == load_catalog(tmp_path / "sources.toml").tables
    assert catalog.line_of("settings", "reports_dir") == 3
    assert catalog.line_of("alerts", "urls") == 11


def test_the_committed_catalog_streams_into_the_same_entries() -> None:
    """The repository's own sources.toml: the same entries, cut in blocks."""
    whole = load_catalog(ROOT / "sources.toml")
    streamed = open_catalog(ROOT / "sources.toml")
    assert list(streamed.entries()) == list(whole.entries) and streamed.whole is None


def test_the_seeds_imported_stream_into_the_same_entries(tmp_path: Path) -> None:
    """Every seed document imported into one catalog: the same entries either way."""
    if not SEEDS.is_dir():
        pytest.skip(f"no seed documents at {SEEDS}")
    catalog = tmp_path / "sources.toml"
    import_documents(sorted(SEEDS.iterdir()), catalog, record=False)
    whole = load_catalog(catalog)
    assert len(whole.entries) > 200
    assert list(open_catalog(catalog).entries()) == list(whole.entries)


@pytest.mark.parametrize(
    "text",
    [
        '[[source]]\nurl = "https://a.org/x"\nnotes = """two\n[lines]"""\n',
        '[[source]]\nurl = "https://a.org/x"\n\n[policy.hosts."a.org"]\naccept = [403]\n',
        '[[source]]\nurl = "https://a.org/x"\n\n[ "settings" ]\nreports_dir = "out"\n',
    ],
    ids=["multi-line string", "dotted header", "quoted header"],
)
def test_layouts_the_blocks_cannot_promise_are_read_whole(text: str, tmp_path: Path) -> None:
    """A multi-line string, a dotted or quoted header: read whole, to the same entries."""
    whole, streamed, cut = both(text, tmp_path)
    assert not cut and streamed == whole and len(whole) == 1


def test_a_dotted_key_before_the_first_header_is_a_table(tmp_path: Path) -> None:
    """`settings.reports_dir = …` at the top: cut in blocks, the same table and entries."""
    text = 'settings.reports_dir = "out"\n\n[[source]]\nurl = "https://a.org/x"\n'
    whole, streamed, cut = both(text, tmp_path)
    assert cut and streamed == whole
    assert open_catalog(tmp_path / "sources.toml").tables == {"settings": {"reports_dir": "out"}}


def test_problems_are_the_same_with_the_same_lines() -> None:
    """The five-mistakes catalog: every problem, on its line, as when read whole."""
    text = (DATA / "five-mistakes.toml").read_text()
    with pytest.raises(CatalogError) as whole:
        parse_catalog(text, DATA / "five-mistakes.toml")
    with pytest.raises(CatalogError) as streamed:
        open_catalog(DATA / "five-mistakes.toml").validate()
    assert streamed.value.problems == whole.value.problems


def test_problems_in_cut_blocks_name_their_lines(tmp_path: Path) -> None:
    """An unknown key, a bad kind and a duplicate, found block by block, on their lines."""
    path = tmp_path / "sources.toml"
    path.write_text(
        '[[source]]\nurl = "https://github.com/a/b"\n\n'
        '[[source]]\nurl = "https://x.org/p"\nnmae = "typo"\n\n'
        '[[source]]\nurl = "https://x.org/q"\nkind = "webb"\n\n'
        '[[source]]\nurl = "http://github.com/A/B/"\n'
    )
    catalog = open_catalog(path)
    assert catalog.whole is None
    with pytest.raises(CatalogError) as caught:
        catalog.validate()
    found = [(p.line, p.message.split(":")[0]) for p in caught.value.problems]
    assert found == [(6, "unknown key 'nmae' in [[source]]"), (10, "unknown kind 'webb'"),
                     (12, "duplicate entry")]  # fmt: skip
    assert "(line 1)" in caught.value.problems[2].message
    with pytest.raises(CatalogError) as whole:
        load_catalog(path)
    assert caught.value.problems == whole.value.problems


def test_a_syntax_error_is_reported_as_when_read_whole(tmp_path: Path) -> None:
    """A block that is not TOML: the whole file's parser names the line, as before."""
    path = tmp_path / "sources.toml"
    path.write_text('[[source]]\nurl = "https://a.org"\n\n[[source]]\nurl = https://b.org\n')
    with pytest.raises(CatalogError) as streamed:
        open_catalog(path).validate()
    with pytest.raises(CatalogError) as whole:
        load_catalog(path)
    assert streamed.value.problems == whole.value.problems
    assert streamed.value.problems[0].line == 5


def test_the_digest_follows_the_text_and_the_filter(tmp_path: Path) -> None:
    """Same text, same digest; an edit or another document filter, another digest."""
    path = tmp_path / "sources.toml"
    path.write_text(HAND_WRITTEN)
    first = open_catalog(path)
    assert open_catalog(path).digest == first.digest
    assert first.filtered(lambda e: True, "a").digest != first.digest
    assert first.filtered(lambda e: True, "a").digest != first.filtered(lambda e: True, "b").digest
    path.write_text(HAND_WRITTEN.replace('"x", "y"', '"x"'))
    assert open_catalog(path).digest != first.digest


def untouchable() -> Iterator[Entry]:
    """Entries that must never be read."""
    raise AssertionError("the entries were read although the digest matched")
    yield  # pragma: no cover


def test_a_catalog_the_store_holds_is_not_read_again(tmp_path: Path) -> None:
    """Sync with a digest once; the same digest again reads no entry and writes nothing."""
    path = tmp_path / "sources.toml"
    path.write_text(HAND_WRITTEN)
    catalog = open_catalog(path)
    store = Store.connect(f"sqlite:///{tmp_path / 'monitor.db'}")
    assert store.sync_catalog(catalog.entries(), NOW, digest=catalog.digest)
    assert store.synced_catalog() == (catalog.digest, 3)
    assert not store.sync_catalog(untouchable(), NOW, digest=catalog.digest)
    assert store.sync_catalog(iter([]), NOW, digest="another")
    assert store.synced_catalog() == ("another", 0)
    assert store.sources() == []  # the empty catalog retired all three
    # Without a digest the entries are always taken in, and no digest is trusted after.
    assert store.sync_catalog(catalog.entries(), NOW)
    assert store.synced_catalog() is None and len(store.sources()) == 3


def test_streaming_holds_a_block_not_the_catalog(tmp_path: Path) -> None:
    """Reading 20,000 entries streamed peaks at a fraction of what reading them whole holds."""
    path = tmp_path / "sources.toml"
    path.write_text(
        "".join(
            f'[[source]]\nurl = "https://github.com/owner{i % 97}/repo-{i}"\nname = "Repo {i}"\n'
            f'section = "S{i % 7}"\n\n'
            for i in range(20_000)
        )
    )
    tracemalloc.start()
    whole = load_catalog(path)
    _, whole_peak = tracemalloc.get_traced_memory()
    del whole
    tracemalloc.reset_peak()
    catalog = open_catalog(path)
    count = sum(len(batch) for batch in catalog.batches())
    _, streamed_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert count == 20_000
    # What remains is the text itself and validation's one key per entry (for duplicates).
    assert streamed_peak < whole_peak / 3, (streamed_peak, whole_peak)
