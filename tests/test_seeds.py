"""The committed sources.toml is exactly what the importer makes of the five seed documents."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from monitor.catalog.file import load_catalog
from monitor.catalog.kinds import identify
from monitor.model import Kind
from tests.conftest import ROOT

CATALOG = ROOT / "sources.toml"

# Where a naive reading of the seeds is wrong, and what the catalog rightly holds instead.
NAIVE_MISREADINGS = {
    # `<https://github.com/OpenLM Lab/MOSS>`: the naive regex stops at the space.
    "https://github.com/OpenLM": "https://github.com/OpenLM%20Lab/MOSS",
    # `…transformerhuggingface平台https://…`: "huggingface平台" labels the next link.
    "https://github.com/google-research/text-to-text-transfer-transformerhuggingface": "https://github.com/google-research/text-to-text-transfer-transformer",
    # A query value in Chinese (`openSource=是`): the naive regex stops at it.
    "http://rank.chinaz.comm.datalearner.com/ai-models/pretrained-models?aiArea=-1&openSource=": "http://rank.chinaz.comm.datalearner.com/ai-models/pretrained-models"
    "?aiArea=-1&openSource=是&publisher=-1",
}


def test_import_reproduces_the_committed_catalog(seeds: list[Path], tmp_path: Path) -> None:
    """Importing ../shared/seeds/*.txt gives the committed sources.toml, byte for byte."""
    # Beside the committed catalog: documents are named relative to the catalog's folder.
    target = ROOT / f".test-seeds-{os.getpid()}.toml"
    relative = [os.path.relpath(p, ROOT) for p in seeds]
    try:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "monitor",
                "catalog",
                "import",
                *relative,
                "--into",
                str(target),
                "--no-record",
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        assert target.read_text() == CATALOG.read_text()
    finally:
        target.unlink(missing_ok=True)


def test_committed_catalog_is_valid() -> None:
    """`monitor catalog check sources.toml` passes on the committed catalog."""
    done = subprocess.run(
        [sys.executable, "-m", "monitor", "catalog", "check", "sources.toml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_resources_the_mission_names_are_there() -> None:
    """GPTrillion is an hf_model, and the decapoda-research weights and owner are listed."""
    kinds = {e.url: e.kind for e in load_catalog(CATALOG).entries}
    assert kinds["https://huggingface.co/banana-dev/GPTrillion"] is Kind.HF_MODEL
    assert kinds["https://huggingface.co/decapoda-research"] is Kind.HF_OWNER
    assert kinds["https://huggingface.co/decapoda-research/llama-7b-hf"] is Kind.HF_MODEL
    assert kinds["https://huggingface.co/decapoda-research/llama-13b-hf"] is Kind.HF_MODEL
    assert kinds["https://github.com/Significant-Gravitas/Auto-GPT"] is Kind.GITHUB_REPO
    assert kinds["https://github.com/lvwerra/trl"] is Kind.GITHUB_REPO


def naive_links(text: str) -> list[str]:
    """Every http(s) URL outside code fences, found the blunt way, glued ones split."""
    outside = re.sub(r"```.*?```", "", text, flags=re.DOTALL)
    outside = re.sub(r"\[[^\]]*\]\(", "(", outside)  # link texts are not links
    found = []
    for run in re.findall(r"https?://[^\s<>()\[\]\"'`，。）（、：；]+", outside):
        for part in re.split(r"(?=https?://)", run):
            part = re.sub(r"[^\x21-\x7e].*$", "", part).rstrip(".,;:!?*_")
            if re.match(r"https?://[^/]+\.", part):
                found.append(part)
    return found


def test_every_distinct_link_of_the_seeds_is_in_the_catalog(seeds: list[Path]) -> None:
    """Every link a blunt regex finds in the seeds has its resource in the catalog."""
    keys = {e.key for e in load_catalog(CATALOG).entries}
    naive = [url for seed in seeds for url in naive_links(seed.read_text())]
    assert len(naive) > 200
    missing = []
    for url in naive:
        expected = NAIVE_MISREADINGS.get(url.rstrip("/"), url)
        if identify(expected).key not in keys:
            missing.append(url)
    assert missing == []
