"""Typed values that flow between the stages: Article -> Chunk -> Hit."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field


def content_hash(*parts: str, length: int = 16) -> str:
    """A short, stable hex digest of the given strings (ids are content hashes)."""
    h = hashlib.sha256()
    for p in parts:
        h.update(p.encode("utf-8"))
        h.update(b"\x1f")
    return h.hexdigest()[:length]


@dataclass(frozen=True)
class Article:
    """One news article as parsed from a file.

    ``source_key`` says where it came from (file path, plus ``#n`` for a record in a JSONL/JSON file);
    ``id`` is a hash of its content and metadata, so the same article always gets the same id.
    """

    source_key: str
    title: str
    text: str
    date: str | None = None  # ISO date, YYYY-MM-DD
    source: str | None = None
    url: str | None = None
    language: str | None = None

    @property
    def id(self) -> str:
        return content_hash(self.title, self.text, self.date or "", self.source or "", self.url or "", self.language or "")

    @property
    def meta(self) -> dict[str, str]:
        return {
            "title": self.title,
            "date": self.date or "",
            "source": self.source or "",
            "url": self.url or "",
            "language": self.language or "",
        }


@dataclass(frozen=True)
class Chunk:
    """A passage of an article: ``article.text[start:end] == text``."""

    id: str
    article_id: str
    ordinal: int
    text: str
    start: int
    end: int
    meta: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    @property
    def title(self) -> str:
        return self.meta.get("title", "")

    def embedding_text(self) -> str:
        """What the embedder and the lexical index see: the title travels with each chunk."""
        return f"{self.title}\n{self.text}" if self.title else self.text


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk with its fused score and the per-side evidence."""

    chunk: Chunk
    score: float
    dense_score: float | None = None  # cosine similarity, if the dense side found it
    lexical_rank: int | None = None  # 1-based rank on the lexical side, if found there

    @property
    def text(self) -> str:
        return self.chunk.text

    @property
    def title(self) -> str:
        return self.chunk.meta.get("title", "")

    @property
    def date(self) -> str:
        return self.chunk.meta.get("date", "")

    @property
    def url(self) -> str:
        return self.chunk.meta.get("url", "")

    @property
    def source(self) -> str:
        return self.chunk.meta.get("source", "")

    @property
    def language(self) -> str:
        return self.chunk.meta.get("language", "")


@dataclass(frozen=True)
class Filters:
    """Metadata filters for a search. Dates are ISO strings compared inclusively."""

    source: str | None = None
    language: str | None = None
    date_from: str | None = None
    date_to: str | None = None

    def is_empty(self) -> bool:
        return not (self.source or self.language or self.date_from or self.date_to)

    def matches(self, meta: dict[str, str]) -> bool:
        if self.source and meta.get("source") != self.source:
            return False
        if self.language and meta.get("language") != self.language:
            return False
        date = meta.get("date") or ""
        if self.date_from and (not date or date < self.date_from):
            return False
        if self.date_to and (not date or date > self.date_to):
            return False
        return True


@dataclass
class IngestReport:
    """What one ingest run did."""

    added: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    duplicates: list[tuple[str, str]] = field(default_factory=list)  # (source_key, duplicate of)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (source, one-line reason)
    warnings: list[str] = field(default_factory=list)
    chunks_added: int = 0
    chunks_removed: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        return (
            f"added {len(self.added)}, unchanged {len(self.unchanged)}, replaced {len(self.replaced)}, "
            f"removed {len(self.removed)}, duplicates {len(self.duplicates)}, failed {len(self.failed)} "
            f"({self.chunks_added} chunks added, {self.chunks_removed} removed, {self.seconds:.1f}s)"
        )
