"""monitor: a link-and-freshness monitor for curated catalogs of LLM resources.

The package reads like the path of the data: `catalog` (documents -> entries in
sources.toml), then the probes, store, policy and reports that later stages add.
`monitor.cli` is the composition root; everything else is a library.
"""

from __future__ import annotations

from monitor.model import Kind

__version__ = "0.1.0"

__all__ = ["Kind", "__version__"]
