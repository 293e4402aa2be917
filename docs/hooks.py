"""MkDocs hook: the docs' links to the repository's own files work in the built site too.

A page links to files outside docs/ relatively (`../Dockerfile`, `../deploy/monitor.cron`), as
GitHub renders them. MkDocs would call such a link broken, and `strict: true` would fail the
build; so each target that exists in the repository is copied into the site at its repository
path, as it is (never rendered), and the link is checked and rewritten like any other. A link to
a file that does not exist is still reported, and fails the strict build.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files, InclusionLevel

#: A markdown link's destination that leaves docs/: `](../path)` or `](../path#anchor)`.
OUTSIDE = re.compile(r"\]\((\.\./[^)\s#]+)")


class RepositoryFile(File):
    """A file of the repository outside docs/, copied into the site as it is."""

    def is_documentation_page(self) -> bool:
        """Never rendered, even a .md: it is the repository's file, shown as it is."""
        return False


def on_files(files: Files, config: Any) -> Files:
    """Add every repository file a page links to, at its repository path in the site."""
    docs = Path(config.docs_dir).resolve()
    root = Path(config.config_file_path).resolve().parent
    for page in list(files.documentation_pages()):
        for target in OUTSIDE.findall(Path(page.abs_src_path).read_text()):
            uri = posixpath.normpath(posixpath.join(posixpath.dirname(page.src_uri), target))
            path = (docs / uri).resolve()
            if files.get_file_from_path(uri) or not path.is_file():
                continue  # already added, or missing: MkDocs reports it
            if path.is_relative_to(root) and not path.is_relative_to(docs):
                dest = path.relative_to(root).as_posix()
                site = (config.site_dir, config.use_directory_urls)
                included = InclusionLevel.INCLUDED  # MkDocs would exclude a path with `..`
                files.append(
                    RepositoryFile(uri, config.docs_dir, *site, dest_uri=dest, inclusion=included)
                )
    return files
