"""Answering a search: semantic, keyword and filename hits, fused, with snippets."""
