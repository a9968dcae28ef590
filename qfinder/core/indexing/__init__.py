"""Indexing: walking roots, planning what changed, extracting and chunking, stepping the work."""
