"""Ingestion: fetch (guarded) -> extract -> chunk -> embed and store. Never imports discord."""
