"""Synthetic catalogs of any size with the mix of a real curated list, the same every time.

    python bench/catalogs.py 10000 /tmp/sources.toml

The mix: GitHub repositories 60 %, Hugging Face models and datasets 20 % (three
models to one dataset), arXiv papers 5 %, web pages 15 % spread evenly over 50
hosts (`blog0.example` … `blog49.example`, sent to the emulator's web port with
`MONITOR_CONNECT_TO`). Owners repeat as they do in real lists: both GitHub and
Hugging Face owners are drawn from a Zipf-like distribution (a few owners with
hundreds of entries, a long tail with one or two). Names are built from the
words such lists are made of (`llama-factory`, `Qwen-7B-chat-GGUF`), made unique
with a number where two draws collide; arXiv ids are well-formed (`2305.01234`)
and unique. Everything is drawn from one seeded generator, so a size always
gives the same file.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from monitor.catalog.kinds import GITHUB_RESERVED, HF_RESERVED

WEB_HOSTS = 50
#: Zipf exponent of owner popularity (1.0: the k-th owner has 1/k of the first one's entries)
ZIPF = 1.0

_SYLLABLES = (
    "ai ba chen da deep fu gen hai hu ji kai lab lin lu ma mind neo nova open qi ran sen "
    "shi tao tech wang wei xin yan yi yu zhi zhou"
).split()
_ORG_SUFFIX = ("", "", "", "-ai", "-lab", "-research", "-nlp", "hq", "-org", "-team")
_REPO_HEADS = (
    "llama alpaca vicuna chat gpt lora rag agent prompt bert mistral qwen baichuan moss "
    "tiny open fast awesome mini nano mega chinese medical legal code math vision speech "
    "retrieval instruct self-instruct reward rlhf dpo quant gguf flash long multi"
).split()
_REPO_TAILS = (
    "llm chat factory server eval bench tuning cpp zh kit hub api ui studio engine "
    "toolkit dataset papers tutorial demo lab pipeline infer serve rs js sdk"
).split()
_HF_FAMILIES = (
    "Llama-2 Llama-3 Mistral Mixtral Qwen Qwen2 Baichuan2 ChatGLM3 Yi falcon phi-2 "
    "gemma bloom opt gpt2 t5 flan-t5 bert roberta deberta-v3 whisper stablelm pythia "
    "internlm deepseek-coder CodeLlama starcoder vicuna zephyr"
).split()
_HF_SIZES = ("0.5B", "1.8B", "3B", "7B", "8B", "13B", "14B", "34B", "70B", "base", "large")
_HF_VARIANTS = (
    "",
    "chat",
    "instruct",
    "GGUF",
    "GPTQ",
    "AWQ",
    "hf",
    "sft",
    "dpo",
    "lora",
    "zh",
    "v0.1",
    "v2",
    "4bit",
)
_DATASET_WORDS = (
    "alpaca belle sharegpt oasst dolly gsm8k mmlu ceval cmmlu math code wiki news "
    "medical legal dialog instruct preference pretrain corpus qa summarization"
).split()
_TITLE_WORDS = (
    "efficient scalable instruction tuning language models retrieval augmented generation "
    "alignment reasoning chain of thought reward preference optimization sparse mixture "
    "experts quantization long context evaluation benchmark multilingual agents"
).split()
_SECTIONS = (
    "Foundation models",
    "Fine-tuning",
    "Inference and serving",
    "Quantization",
    "Retrieval and RAG",
    "Agents",
    "Evaluation",
    "Datasets",
    "Chinese LLMs",
    "Multimodal",
    "Papers",
    "Tutorials and blogs",
)


@dataclass(frozen=True, slots=True)
class Spec:
    """One catalog entry: its URL, name and section."""

    url: str
    name: str
    section: str


def mix(size: int) -> dict[str, int]:
    """How many entries of each kind a catalog of `size` holds."""
    github = round(size * 0.60)
    hf = round(size * 0.20)
    models = round(hf * 0.75)
    arxiv = round(size * 0.05)
    web = size - github - hf - arxiv
    return {
        "github_repo": github,
        "hf_model": models,
        "hf_dataset": hf - models,
        "arxiv": arxiv,
        "web": web,
    }


def _owner_names(rng: random.Random, count: int, reserved: frozenset[str]) -> list[str]:
    names: list[str] = []
    taken: set[str] = set(reserved)
    while len(names) < count:
        parts = rng.randint(1, 3)
        name = "".join(rng.choice(_SYLLABLES) for _ in range(parts)) + rng.choice(_ORG_SUFFIX)
        if rng.random() < 0.2:
            name = name.capitalize()
        if name.lower() in taken:
            name = f"{name}{len(names)}"
        if name.lower() in taken:
            continue
        taken.add(name.lower())
        names.append(name)
    return names


def _zipf(rng: random.Random, owners: list[str], count: int) -> list[str]:
    weights = list(itertools.accumulate(1 / (k + 1) ** ZIPF for k in range(len(owners))))
    return rng.choices(owners, cum_weights=weights, k=count)


def _unique(name: str, owner: str, taken: set[str]) -> str:
    candidate, n = name, 2
    while f"{owner}/{candidate}".lower() in taken:
        candidate, n = f"{name}-{n}", n + 1
    taken.add(f"{owner}/{candidate}".lower())
    return candidate


def generate(size: int, seed: int = 20261121) -> list[Spec]:
    """The catalog of `size` entries, interleaved by kind as a hand-written list would be."""
    rng = random.Random(f"{seed}:{size}")
    counts = mix(size)
    by_kind: dict[str, list[Spec]] = {}

    github_owners = _owner_names(rng, max(1, counts["github_repo"] // 4), GITHUB_RESERVED)
    taken: set[str] = set()
    repos = []
    for owner in _zipf(rng, github_owners, counts["github_repo"]):
        name = f"{rng.choice(_REPO_HEADS)}-{rng.choice(_REPO_TAILS)}"
        if rng.random() < 0.3:
            name = name.replace("-", "_") if rng.random() < 0.5 else name.title().replace("-", "")
        name = _unique(name, owner, taken)
        repos.append(Spec(f"https://github.com/{owner}/{name}", name, rng.choice(_SECTIONS)))
    by_kind["github_repo"] = repos

    hf_owners = _owner_names(
        rng, max(1, (counts["hf_model"] + counts["hf_dataset"]) // 5), HF_RESERVED
    )
    models = []
    for owner in _zipf(rng, hf_owners, counts["hf_model"]):
        parts = [rng.choice(_HF_FAMILIES), rng.choice(_HF_SIZES), rng.choice(_HF_VARIANTS)]
        name = _unique("-".join(p for p in parts if p), owner, taken)
        models.append(Spec(f"https://huggingface.co/{owner}/{name}", name, "Models"))
    by_kind["hf_model"] = models
    datasets = []
    for owner in _zipf(rng, hf_owners, counts["hf_dataset"]):
        words = rng.sample(_DATASET_WORDS, rng.randint(1, 3))
        name = _unique("_".join(words) if rng.random() < 0.5 else "-".join(words), owner, taken)
        datasets.append(Spec(f"https://huggingface.co/datasets/{owner}/{name}", name, "Datasets"))
    by_kind["hf_dataset"] = datasets

    ids: set[str] = set()
    papers: list[Spec] = []
    while len(papers) < counts["arxiv"]:
        year, month = rng.randint(18, 25), rng.randint(1, 12)
        paper = f"{year:02d}{month:02d}.{rng.randint(1, 29999):05d}"
        if paper in ids:
            continue
        ids.add(paper)
        title = " ".join(rng.sample(_TITLE_WORDS, 6)).capitalize()
        papers.append(Spec(f"https://arxiv.org/abs/{paper}", title, "Papers"))
    by_kind["arxiv"] = papers

    pages = []
    for i in range(counts["web"]):
        words = rng.sample(_TITLE_WORDS, 4)
        path = f"{rng.randint(2019, 2026)}/{rng.randint(1, 12):02d}/{'-'.join(words)}-{i}"
        pages.append(
            Spec(
                f"https://blog{i % WEB_HOSTS}.example/{path}",
                " ".join(words).capitalize(),
                "Tutorials and blogs",
            )
        )
    by_kind["web"] = pages

    return list(_interleave(rng, by_kind))


def _interleave(rng: random.Random, by_kind: dict[str, list[Spec]]) -> Iterator[Spec]:
    """Every entry once, kinds mixed in random order (each kind keeps its own order)."""
    order = [kind for kind, specs in by_kind.items() for _ in specs]
    rng.shuffle(order)
    positions = dict.fromkeys(by_kind, 0)
    for kind in order:
        yield by_kind[kind][positions[kind]]
        positions[kind] += 1


def _string(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def write_catalog(specs: list[Spec], path: Path) -> None:
    """Write `sources.toml` plainly: one `[[source]]` block per entry."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:  # entry by entry, not one string
        out.write(f"# A synthetic catalog of {len(specs)} sources, written by bench/catalogs.py\n")
        for spec in specs:
            out.write(
                f"\n[[source]]\nurl = {_string(spec.url)}\nname = {_string(spec.name)}\n"
                f"section = {_string(spec.section)}\n"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("size", type=int)
    parser.add_argument("path", type=Path)
    args = parser.parse_args()
    specs = generate(args.size)
    write_catalog(specs, args.path)
    print(f"{args.path}: {len(specs)} entries {mix(args.size)}")


if __name__ == "__main__":
    main()
