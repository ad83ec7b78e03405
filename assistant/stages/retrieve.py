"""Stage 2, retrieve: the condensed question is searched in the store (hybrid by default).

``StoreRetriever`` is the public adapter for LangChain users (a ``BaseRetriever`` over the store);
the answering pipeline calls the store directly and keeps our own ``Hit`` values.
"""

from __future__ import annotations

import time
from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever

from vectorstore import Store

from ..types import Condensed, Retrieved


#: How many more hits a follow-up's search takes, so that a chunk of the previous article below the k
#: best can still move up.
FOLLOW_UP_DEPTH = 4


class Retriever:
    """Condensed -> Retrieved. A follow-up's hits of the articles the previous answer cited gain
    ``follow_up_boost`` (the conversation's state): a soft preference, so that a question the article
    does not answer still finds another one."""

    def __init__(self, store: Store, default_k: int, follow_up_boost: float = 0.0):
        self.store = store
        self.default_k = default_k
        self.follow_up_boost = follow_up_boost

    def __call__(self, condensed: Condensed) -> Retrieved:
        q = condensed.query
        t0 = time.perf_counter()
        k = q.k or self.default_k
        previous = set(q.history[-1].articles) if q.history and condensed.follow_up else set()
        if not previous or self.follow_up_boost <= 0:
            hits = self.store.search(condensed.search_text, k=k, filters=q.filters)
            return Retrieved(condensed, hits, time.perf_counter() - t0)
        hits = self.store.search(condensed.search_text, k=k * FOLLOW_UP_DEPTH, filters=q.filters)
        bonus = lambda h: h.score + (self.follow_up_boost if h.chunk.article_id in previous else 0.0)  # noqa: E731
        return Retrieved(condensed, sorted(hits, key=bonus, reverse=True)[:k], time.perf_counter() - t0)


class StoreRetriever(BaseRetriever):
    """LangChain retriever over a ``Store``, for LangChain users:

        StoreRetriever(store=open_store(), k=5).invoke("Wo traf Trump Putin?")

    Each Document carries the passage text; metadata has title, date, url, source, language, score,
    chunk and article ids and the passage's offsets in its article."""

    store: Any
    k: int = 5
    filters: Any = None

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        hits = self.store.search(query, k=self.k, filters=self.filters)
        return [
            Document(
                page_content=h.text, id=h.chunk.id,
                metadata={
                    "title": h.title, "date": h.date, "url": h.url, "source": h.source, "language": h.language,
                    "score": h.score, "chunk_id": h.chunk.id, "article_id": h.chunk.article_id,
                    "start": h.chunk.start, "end": h.chunk.end,
                },
            )
            for h in hits
        ]
