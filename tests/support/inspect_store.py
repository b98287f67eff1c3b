"""Print a store's manifest and visible chunks as JSON (run in its own process, like a second reader)."""

import json
import sys

from newsdesk.settings import load_settings
from newsdesk.wiring import Services

services = Services(load_settings(None), store_retries=0)
store = services.store
docs = store.documents()
out = {"raw_chunks": store.raw_chunk_count(), "documents": {}}
for doc_id, doc in docs.items():
    chunks = store.chunks_of(doc_id)
    out["documents"][doc.url] = {"expected": doc.chunks, "texts": [c.text for c in chunks], "version": doc.version}
json.dump(out, sys.stdout)
