"""One settings object for the whole product: the store layer's sections (``vectorstore.settings``)
composed with the answering layer's (llm, answering, ui).

Precedence (highest first): values passed in code or by CLI flags, environment variables with the
prefix ``NEWSQA_`` (nested with ``__``, e.g. ``NEWSQA_LLM__BACKEND=openai``), a TOML config file
(``NEWSQA_CONFIG`` or ``./newsqa.toml``), then the defaults below. This is the only module that reads
the environment.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from vectorstore.settings import Chunking, Embedding, Paths, Retrieval, Section, Store


class LLM(Section):
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
    structured_output: Literal["json_schema", "json_object", "off"] = Field(
        default="json_schema",
        description="openai back end: how the evidence-first reply's JSON schema is sent. 'json_schema': "
        "response_format type json_schema (OpenAI, vLLM, llama.cpp's server, Ollama); 'json_object': type "
        "json_object with a 'schema' (llama-cpp-python's server); 'off': not sent. A server that fails on it "
        "(HTTP 400/422/500) is asked again without it; its replies are parsed leniently and checked as usual.",
    )


class Answering(Section):
    context_passages: int = Field(default=2, ge=1, le=10, description="Passages put into the prompt.")
    passage_max_tokens: int = Field(default=70, ge=20, le=1000, description="Longest passage text in the prompt (cl100k tokens).")
    evidence_selection: Literal["sentences", "passages"] = Field(
        default="sentences",
        description="What the model is shown, in context_passages x passage_max_tokens tokens of article text. "
        "'sentences': the sentences of all retrieval.k hits ranked against the question (similarity plus "
        "their hit's retrieval score), the best taken while the budget lasts (passage headers paid from it "
        "beyond the old ones), consecutive ones of a chunk as one passage. 'passages': the first "
        "context_passages hits, each cut around its sentence closest to the question (the old way). "
        "See benchmarks/results/evidence.md.",
    )
    min_relevance: float = Field(
        default=0.72,
        ge=0.0,
        le=1.0,
        description="Abstain when the best passage's dense similarity is below this (e5 cosine; with a "
        "fused 'e5+USE' embedder still e5's own). fp32 e5 puts English questions about a German article "
        "at 0.73-0.80 and unrelated ones below 0.72 (evals/seed.jsonl).",
    )
    prompt_variant: str = Field(default="default", description="Prompt file variant (prompts/answer.<variant>.<lang>.txt).")
    prompts_dir: Path | None = Field(
        default=None,
        description="A folder of prompt files to use instead of the ones installed with the package "
        "(same names: answer.<variant>.<lang>.txt, condense.<lang>.txt).",
    )
    decide_yes_no: bool = Field(
        default=True,
        description="Answer a yes/no question with Ja/Nein and the sentence it rests on, decided from the answer "
        "model's P(yes) over the chosen sentences (prompts/yesno.en.txt); undecided ones are answered as others. "
        "Needs verify.with_model and token probabilities.",
    )
    max_question_chars: int = Field(default=2000, ge=10, description="Longest question accepted.")
    history_turns: int = Field(default=3, ge=0, le=20, description="Earlier turns used to resolve follow-ups.")
    follow_up_rewrite: Literal["model", "rules"] = Field(
        default="model",
        description="How a follow-up becomes a question that stands alone. 'model': one short call of the chat model "
        "(prompts/condense.<lang>.txt), the previous question + the follow-up when the rewrite is unusable; 'rules': "
        "the previous question + the follow-up without a model call (a follow-up then costs no more calls than a "
        "first question). Measured by python -m evals.conversations and assistant bench answer.",
    )
    rewrite_max_tokens: int = Field(
        default=40, ge=10, le=200,
        description="Longest model rewrite of a follow-up (tokens); rewrites of the conversation set take 11-21, "
        "and the rewrite also stops at its first line break (only the first line is used).",
    )
    follow_up_boost: float = Field(
        default=0.0, ge=0.0, le=1.0,
        description="A follow-up's search favours the articles the previous answer cited: their hits gain this "
        "much score when the hits are ranked (0 = off). Measured by python -m evals.follow_ups.",
    )


class Verify(Section):
    """The verifier's knobs, all in one place (``assistant/verify/``)."""

    with_model: bool = Field(
        default=True,
        description="Ask the answer model whether the evidence states each claim (P(yes) from its token "
        "probabilities, prompts/verify.en.txt), a feature of the combiner's 'judge' fit. Not asked of the bundled "
        "0.5B model (assistant/backends/models.py) nor of back ends without token probabilities: the 'plain' fit decides.",
    )
    threshold: float | None = Field(
        default=None, ge=0.0, le=1.0,
        description="P(supported) from the learned combiner at which a claim is supported; empty: the threshold "
        "calibrated with the weights (false-accept <= 0.10 on the hand-written dev pairs, cross-validated). 0 accepts every "
        "aligned claim (tests with the hash embedder).",
    )
    weights: Path | None = Field(default=None, description="Another combiner.json (python -m evals.combiner writes one).")
    fixed_similarity: float | None = Field(
        default=None, ge=0.0, le=1.0,
        description="The similarity seam: every alignment scores this instead of its e5/USE cosine, so the "
        "findings decide (tests with the hash embedder, whose similarities mean nothing). Empty in use.",
    )
    judge_floor: float = Field(
        default=0.05, ge=0.0, le=1.0,
        description="The judge is not asked when the combiner without it gives P(supported) below this (it costs "
        "0.2-0.5 s a claim).",
    )
    neighbour_margin: float = Field(
        default=0.04, ge=0.0, le=1.0,
        description="An adjacent sentence this close in e5 similarity to the best one joins the evidence.",
    )
    alternative_margin: float = Field(
        default=0.03, ge=0.0, le=1.0,
        description="Other sentences this close to the best are tried too; the one with the fewest findings is the evidence.",
    )
    alternatives: int = Field(default=2, ge=0, le=10, description="How many other sentences are tried at most.")
    translation_similarity: float = Field(
        default=0.75, ge=0.0, le=1.0,
        description="USE cosine at which two words are one name in two languages ('Germany' / 'Deutschland' 0.90).",
    )
    check_answers_question: bool = Field(
        default=True,
        description="After the support check, ask the answer model whether the supported sentences give what the "
        "question asks (prompts/answers.en.txt); refuse when they do not. Needs with_model and token probabilities.",
    )
    min_answers_question: float = Field(
        default=0.6, ge=0.0, le=1.0,
        description="Refuse when the model's P(the answer answers the question) is below this.",
    )
    same_matter_similarity: float = Field(
        default=0.75, ge=0.0, le=1.0,
        description="A passage sentence that contradicts a yes/no answer is quoted instead when at least this "
        "similar to it (about the same matter).",
    )


class UI(Section):
    host: str = Field(default="127.0.0.1", description="Address the UI binds to.")
    port: int = Field(default=7860, ge=0, le=65535, description="Port of the UI (0 = any free port).")
    concurrency: int = Field(default=1, ge=1, le=16, description="Answers generated at once; the rest queue.")
    no_auth: bool = Field(
        default=False,
        description="Serve on a non-loopback address without sign-in (trusted networks only; a warning is "
        "printed). Without it, serving beyond 127.0.0.1 with no accounts refuses to start.",
    )
    accounts_file: Path | None = Field(
        default=None,
        description="Accounts (names, roles, argon2 password hashes, hashed API tokens), a JSON file kept at "
        "mode 0600 and managed with `assistant users`. Empty: users.json in paths.index_dir. Unused when "
        "store.catalog_url is set (the accounts are in PostgreSQL).",
    )
    audit_log: Path | None = Field(
        default=None,
        description="Append-only JSON Lines record of who ingested, removed, managed users or was refused. "
        "Empty: audit.jsonl in paths.index_dir. Unused when store.catalog_url is set (a table in PostgreSQL).",
    )
    ingest_roots: list[Path] = Field(
        default_factory=list,
        description="Folders on the server whose files editors may ingest by path from the UI. Empty: server "
        "paths are off (uploads still work). A path counts only if it resolves, symlinks followed, inside one.",
    )
    max_upload_files: int = Field(default=20, ge=0, le=10_000, description="Most files in one UI upload (0: uploads off).")
    max_upload_mb: float = Field(default=10.0, gt=0, le=1000, description="Largest uploaded file, in MB.")
    questions_per_minute: int = Field(
        default=30, ge=0, le=10_000, description="Questions one user may ask per minute, UI and /ask together (0: no limit)."
    )
    failed_sign_ins_per_minute: int = Field(
        default=10, ge=0, le=10_000,
        description="Wrong passwords accepted per user name and minute (sign-in form and HTTP Basic); after that "
        "every attempt for that name is refused until the minute is over, right password or not (0: no limit).",
    )
    answers_per_user: int = Field(
        default=2, ge=0, le=64, description="Answers one user may have in progress at once (0: no limit)."
    )


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
    verify: Verify = Field(default_factory=Verify)
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

