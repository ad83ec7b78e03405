"""Running one evaluation: ingest a set's corpus into an index of its own, search every question,
optionally ask every question, and return everything as one results dict (``report`` writes it).

    results = run_eval(EvalOptions(set="seed", retrieval_only=True, limit=5))
    results["retrieval"]["overall"]["recall@5"]

The corpus goes into ``<cache_dir>/eval-index/...`` (reused across runs; ingest is incremental),
never into the user's index.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from assistant.assistant import Assistant
from assistant.errors import AssistantError, ConfigError
from assistant.prompts import prompt_hashes
from assistant.settings import Settings
from assistant.types import Turn
from benchmarks.common import machine
from vectorstore import open_store

from . import datasets
from .datasets import EvalQuestion
from .gold import Gold, GoldResolver
from .metrics import CURVE_K, ranking_metrics, timing_stats
from .scoring import answer_breakdown, answer_metrics, retrieval_breakdown, score_answer

Log = Callable[[str], None]


@dataclass
class EvalOptions:
    """One evaluation run; ``None`` leaves the configured setting."""

    set: str = "seed"
    questions: Path | None = None  # a seed-format JSONL instead of evals/seed.jsonl
    mode: str | None = None
    k: int | None = None
    model: str | None = None
    embedding: str | None = None
    prompt_variant: str | None = None
    retrieval_only: bool = False
    limit: int | None = None
    distractors: int | None = None
    index_dir: Path | None = None
    rebuild: bool = False
    label: str = ""

    def overrides(self) -> dict:
        return {
            "retrieval.mode": self.mode, "retrieval.k": self.k, "llm.model": self.model,
            "embedding.model": self.embedding, "answering.prompt_variant": self.prompt_variant,
        }


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9.]+", "-", text).strip("-").lower() or "x"


def default_index_dir(settings: Settings, opts: EvalOptions) -> Path:
    """An index per corpus, embedding model and chunking (the catalog does not re-chunk unchanged
    articles, so a chunking change needs its own folder). XQuAD and XQuAD-R share their corpus."""
    c = settings.chunking
    corpus = "xquad" if opts.set == "xquad-r" else opts.set
    name = f"{corpus}-{_slug(settings.embedding.model)}-c{c.max_tokens}o{c.overlap_tokens}"
    if opts.distractors is not None:
        name += f"-d{opts.distractors}"
    return Path(settings.paths.cache_dir) / "eval-index" / name


def eval_settings(base: Settings | None, opts: EvalOptions) -> Settings:
    """The run's settings: the configured ones with the ablation flags and the eval index applied."""
    s = (base or Settings()).with_overrides(**opts.overrides())
    index_dir = opts.index_dir or default_index_dir(s, opts)
    return s.with_overrides(**{"paths.index_dir": str(index_dir)})


def _retrieval_phase(questions: list[EvalQuestion], golds: dict[str, Gold], pairs: dict[str, str], store, mode: str,
                     log: Log) -> tuple[list[dict], dict]:
    """Search every answerable question; per-question rows (rank, top hits) and the metrics."""
    rows: list[dict] = []
    for i, q in enumerate(questions, 1):
        row: dict = {**q.to_dict(), "pair": pairs[q.id]}
        rows.append(row)
        gold = golds[q.id]
        if not q.answerable:
            continue
        if gold.empty:
            row["retrieval_note"] = "gold passage not found in the corpus"
            continue
        t0 = time.perf_counter()
        try:
            hits = store.search(q.retrieval_query, k=CURVE_K, mode=mode)
        except AssistantError as e:
            row["retrieval_error"] = str(e)
            hits = []
        row["search_s"] = time.perf_counter() - t0
        flags = [gold.relevant_hit(h) for h in hits]
        row["rank"] = flags.index(True) + 1 if True in flags else None
        row["top"] = [
            {"chunk_id": h.chunk.id, "title": h.title[:80], "ordinal": h.chunk.ordinal, "score": round(h.score, 5), "relevant": f}
            for h, f in zip(hits, flags)
        ]
        log(f"[{i}/{len(questions)}] {q.id}: rank {row['rank']}")
    scored = [r for r in rows if "rank" in r]
    metrics = {
        "mode": mode,
        "overall": ranking_metrics([r["rank"] for r in scored]),
        "by_pair": retrieval_breakdown(scored, "pair"),
        "by_kind": retrieval_breakdown(scored, "kind"),
        "search_s": timing_stats([r.get("search_s") for r in scored]),
        "no_gold": [r["id"] for r in rows if r.get("retrieval_note")],
    }
    return rows, metrics


def _answer_phase(questions: list[EvalQuestion], golds: dict[str, Gold], rows: list[dict], assistant: Assistant,
                  k: int | None, log: Log) -> dict:
    """Ask every question; adds an ``answer`` row to each question row and returns the metrics."""
    for i, (q, row) in enumerate(zip(questions, rows), 1):
        history = [Turn(question=a, answer=b) for a, b in q.history]
        t0 = time.perf_counter()
        try:
            answer = assistant.ask(q.question, history or None, k=k)
        except AssistantError as e:
            row["answer"] = {"error_kind": type(e).__name__, "error": str(e), "total_s": time.perf_counter() - t0}
            log(f"[{i}/{len(questions)}] {q.id}: error {type(e).__name__}: {e}")
            continue
        row["answer"] = a = score_answer(q, answer, golds[q.id])
        if answer.error:  # the model failed and the user got the passages only: not an answer to score
            a["error_kind"] = "LLMUnavailableError"
        log(f"[{i}/{len(questions)}] {q.id}: {'abstained' if a['abstained'] else 'answered'}, "
            f"correct={a['correct']} {a['text'][:70]!r}")
    arows = [{**r["answer"], "answerable": r["answerable"], "kind": r["kind"], "language_q": r["language"]} for r in rows]
    metrics = answer_metrics(arows)
    metrics["by_kind"] = answer_breakdown(arows, "kind")
    metrics["by_language"] = answer_breakdown(arows, "language_q")
    metrics["prompt_ids"] = sorted({r["prompt_id"] for r in arows if r.get("prompt_id")})
    metrics["models"] = sorted({r["model"] for r in arows if r.get("model")})
    return metrics


def run_eval(
    opts: EvalOptions,
    settings: Settings | None = None,
    *,
    store=None,
    assistant: Assistant | None = None,
    log: Log = lambda _m: None,
    argv: list[str] | None = None,
) -> dict:
    """Run one evaluation and return the results dict (what ``report.write_outputs`` stores as JSON).

    ``store`` and ``assistant`` are built from the settings when not given (tests pass their own;
    the corpus is still ingested, which costs nothing when it is already there).
    """
    t_start = time.perf_counter()
    started = dt.datetime.now().astimezone()
    host = machine()
    try:
        s = eval_settings(settings, opts)
    except (ValueError, KeyError) as e:  # pydantic's ValidationError is a ValueError
        raise ConfigError("invalid setting: " + " ".join(str(e).split())) from e
    if opts.limit is not None and opts.limit < 1:
        raise ConfigError(f"limit must be at least 1, got {opts.limit}")
    eval_set = datasets.load_set(opts.set, Path(s.paths.index_dir), distractors=opts.distractors, questions=opts.questions)
    questions = datasets.select(eval_set.questions, opts.limit)
    if store is None:
        store = assistant.store if assistant is not None else open_store(s)
    log(f"ingesting the {opts.set} corpus into {s.paths.index_dir} ...")
    ingest = store.ingest(eval_set.corpus, rebuild=opts.rebuild)
    log(f"  {ingest.summary()}")
    if ingest.failed:
        raise ConfigError(f"the {opts.set} corpus did not ingest cleanly: {ingest.failed[0][0]}: {ingest.failed[0][1]}")
    resolver = GoldResolver(store, eval_set)
    golds = {q.id: resolver.resolve(q) for q in questions}
    pairs = {q.id: f"{q.language}->{eval_set.corpus_language}" for q in questions}

    rows, retrieval = _retrieval_phase(questions, golds, pairs, store, s.retrieval.mode, log)
    answers = None
    describe: dict = {}
    if not opts.retrieval_only:
        assistant = assistant or Assistant(s, store=store)
        answers = _answer_phase(questions, golds, rows, assistant, opts.k, log)
        try:
            describe = assistant.describe()  # after the answers: the prompt ids are known once the chain is built
        except Exception as e:  # describe is informative only; a broken one must not sink the run
            describe = {"error": f"{type(e).__name__}: {e}"}

    label = "retrieval" if opts.retrieval_only else _slug(s.llm.model)
    run_id = "-".join(x for x in (started.strftime("%Y%m%d-%H%M%S"), opts.set, s.retrieval.mode, label,
                                  _slug(opts.label) if opts.label else "") if x)
    stats = store.stats()
    return {
        "schema": 1,
        "run": {
            "id": run_id,
            "label": opts.label,
            "date": started.isoformat(timespec="seconds"),
            "set": opts.set,
            "argv": argv,
            "options": {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(opts).items()},
            "retrieval_only": opts.retrieval_only,
            "n_questions": len(questions),
            "seconds": round(time.perf_counter() - t_start, 2),
            "corpus": {
                "notes": eval_set.notes, "articles": stats.get("articles"), "chunks": stats.get("chunks"),
                "index_dir": str(s.paths.index_dir), "ingest": ingest.summary(),
            },
            "models": {
                "embedding": getattr(store.embedder, "name", s.embedding.model),
                "llm": None if answers is None else (answers["models"] or [s.llm.model]),
            },
            "prompt_hashes": prompt_hashes(s.answering.prompts_dir),
            "describe": describe,
            "settings": json.loads(s.model_dump_json()),
            "git": {"commit": host.get("git_commit"), "dirty": host.get("git_dirty")},
            "machine": host,
        },
        "retrieval": retrieval,
        "answers": answers,
        "questions": rows,
    }


__all__ = ["EvalOptions", "default_index_dir", "eval_settings", "run_eval"]
