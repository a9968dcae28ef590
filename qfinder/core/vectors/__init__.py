"""Vector search at any Matryoshka dimension: graphs, exact matrices, the re-score store, their files."""
