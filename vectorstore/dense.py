"""The dense side: a thin adapter over a Chroma collection (embedded on disk, or a Chroma server).

We always pass embeddings ourselves; Chroma's default embedding function (which downloads a model)
is never used, and telemetry is off.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlparse

import numpy as np

from .errors import StoreUnavailableError

from .types import Chunk, Filters


def _date_int(date: str | None) -> int:
    return int(date.replace("-", "")) if date else 0


class DenseIndex:
    def __init__(self, *, path: Path | None = None, url: str | None = None, collection: str = "news"):
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
        self.where = url or str(path)
        try:
            if url:
                u = urlparse(url if "://" in url else f"http://{url}")
                self._client = chromadb.HttpClient(
                    host=u.hostname or "localhost", port=u.port or (443 if u.scheme == "https" else 8000), ssl=u.scheme == "https", settings=settings
                )
            else:
                assert path is not None
                path.mkdir(parents=True, exist_ok=True)
                self._client = chromadb.PersistentClient(path=str(path), settings=settings)
            self._name = collection
            self._col = self._open_collection()
        except Exception as e:  # chromadb raises plain ValueError/ConnectionError subclasses here
            raise StoreUnavailableError(f"cannot open Chroma at {self.where}: {type(e).__name__}: {e}") from e

    def _open_collection(self):
        return self._client.get_or_create_collection(self._name, embedding_function=None, configuration={"hnsw": {"space": "cosine"}})

    def _call(self, what: str, method: str, *args, **kwargs):
        from chromadb.errors import NotFoundError

        try:
            try:
                return getattr(self._col, method)(*args, **kwargs)
            except NotFoundError:
                # Another Store (or process) rebuilt the index and replaced the collection: follow it.
                self._col = self._open_collection()
                return getattr(self._col, method)(*args, **kwargs)
        except Exception as e:
            msg = str(e).splitlines()[0] if str(e) else type(e).__name__
            raise StoreUnavailableError(f"Chroma at {self.where} failed to {what}: {msg}") from e

    def reset(self) -> None:
        """Drop every chunk by replacing the collection with an empty one. Deleting the ids is not
        enough for a rebuild: an emptied collection keeps its embedding dimension."""
        from chromadb.errors import NotFoundError

        try:
            try:
                self._client.delete_collection(self._name)
            except NotFoundError:
                pass
            self._col = self._open_collection()
        except Exception as e:
            raise StoreUnavailableError(f"Chroma at {self.where} failed to reset the collection: {e}") from e

    @property
    def model_tag(self) -> str | None:
        return (self._col.metadata or {}).get("embedding_model")

    def set_model_tag(self, name: str, dim: int) -> None:
        meta = dict(self._col.metadata or {})
        meta.update({"embedding_model": name, "embedding_dim": dim})
        self._call("record the embedding model", "modify", metadata=meta)

    def count(self) -> int:
        return self._call("count", "count")

    def ids(self) -> set[str]:
        out: set[str] = set()
        offset, page = 0, 10000
        while True:
            got = self._call("list ids", "get", include=[], limit=page, offset=offset)["ids"]
            out.update(got)
            if len(got) < page:
                return out
            offset += page

    def upsert(self, chunks: Sequence[Chunk], vectors: np.ndarray) -> None:
        if not chunks:
            return
        metas = [
            {
                "article_id": c.article_id, "ordinal": c.ordinal, "start": c.start, "end": c.end,
                "title": c.meta.get("title", ""), "date": c.meta.get("date", ""), "date_int": _date_int(c.meta.get("date")),
                "source": c.meta.get("source", ""), "url": c.meta.get("url", ""), "language": c.meta.get("language", ""),
            }
            for c in chunks
        ]
        for i in range(0, len(chunks), 1000):
            part = slice(i, i + 1000)
            self._call(
                "store chunks", "upsert", ids=[c.id for c in chunks[part]], embeddings=vectors[part],
                documents=[c.text for c in chunks[part]], metadatas=metas[part],
            )

    def delete(self, ids: Sequence[str]) -> None:
        ids = list(ids)
        for i in range(0, len(ids), 1000):
            self._call("delete chunks", "delete", ids=ids[i : i + 1000])

    def vectors(self, ids: Sequence[str]) -> np.ndarray:
        """The stored vectors of ``ids``, in that order."""
        got = self._call("fetch vectors", "get", ids=list(ids), include=["embeddings"])
        by_id = dict(zip(got["ids"], got["embeddings"]))
        return np.asarray([by_id[i] for i in ids], dtype=np.float32)

    def query(self, vector: np.ndarray, n: int, filters: Filters | None = None) -> list[tuple[str, float]]:
        """(chunk_id, cosine similarity), best first."""
        where = _where(filters)
        res = self._call(
            "search", "query", query_embeddings=[vector], n_results=n, where=where, include=["distances"]
        )
        return [(i, 1.0 - float(d)) for i, d in zip(res["ids"][0], res["distances"][0])]


def _where(f: Filters | None) -> dict | None:
    if f is None or f.is_empty():
        return None
    clauses: list[dict] = []
    if f.source:
        clauses.append({"source": f.source})
    if f.language:
        clauses.append({"language": f.language})
    if f.date_from:
        clauses.append({"date_int": {"$gte": _date_int(f.date_from)}})
    if f.date_to:
        clauses.append({"date_int": {"$lte": _date_int(f.date_to)}})
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}
