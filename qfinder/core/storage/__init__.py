"""The catalog: qfinder's source of truth in one SQLite file (files, chunks, vectors, full text)."""
