"""The one facade over a data folder: `Library` (catalog, indexer, vectors, searcher, model)."""
