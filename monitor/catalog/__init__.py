"""The catalog: documents in, `sources.toml` out, and `sources.toml` read back as validated entries.

extract (links out of documents) -> kinds (what each URL is) -> importer (merge
into the catalog) -> file (read, validate with line numbers, write atomically).
"""
