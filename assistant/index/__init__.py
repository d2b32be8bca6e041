"""Index: embedders, the Chroma store with its registry, BM25 and sentence side files, retrieval."""
