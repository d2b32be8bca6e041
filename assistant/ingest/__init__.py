"""Ingest: the corpus manifest, file loaders, chunking, download (sync), isolated parsing."""
