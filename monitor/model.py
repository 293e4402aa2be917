"""The values that flow through monitor, from the kind of a catalog entry onwards.

Everything here is an immutable value (frozen dataclasses, `StrEnum`s) with no
I/O, so every stage can pass them around and tests can build them by hand.
"""

from __future__ import annotations

from enum import StrEnum


class Kind(StrEnum):
    """What a catalog URL points at; decides which probe checks it."""

    GITHUB_REPO = "github_repo"
    GITHUB_PATH = "github_path"
    GITHUB_OWNER = "github_owner"
    GITHUB_ISSUE = "github_issue"
    HF_MODEL = "hf_model"
    HF_DATASET = "hf_dataset"
    HF_SPACE = "hf_space"
    HF_OWNER = "hf_owner"
    ARXIV = "arxiv"
    WEB = "web"
