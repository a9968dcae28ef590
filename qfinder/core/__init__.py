"""qfinder's pure core: embedding, extraction, catalog, vector index, search. Never imports Qt."""
