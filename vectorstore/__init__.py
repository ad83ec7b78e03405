"""Article ingestion and hybrid retrieval: Chroma (dense) + SQLite FTS5 (lexical).

    from vectorstore import open_store, Filters
    store = open_store()
    store.ingest(["seeds/"])
    hits = store.search("Wer nahm an den Gesprächen teil?", k=5, filters=Filters(language="de"))
"""

from .store import Store, open_store
from .types import Article, Chunk, Filters, Hit, IngestReport

__all__ = ["Article", "Chunk", "Filters", "Hit", "IngestReport", "Store", "open_store"]
