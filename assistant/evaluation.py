"""Evaluation: run a question set against the configured pipeline and measure it.

    python evals/run.py                          # seed set, retrieval + answers, settings from env/newsqa.toml
    python evals/run.py --retrieval-only --set xquad --limit 200
    python evals/run.py --mode lexical --k 3 --model qwen2.5-coder-0.5b --label small
    python evals/run.py --compare evals/results/A.json evals/results/B.json

What is measured (every number is in the JSON results file; the Markdown summary shows the main ones):

- retrieval: recall@1/@5/@10 (and the curve k=1..10) and MRR, per language pair (de->de, en->de) and
  per question kind. A retrieved chunk is relevant when it holds at least half of the question's
  gold passage (seed set, XQuAD-R) or belongs to the gold article (XQuAD, MLQA). Follow-ups are
  searched with the previous question in front (the chain's own fallback).
- answers: gold-fact containment (each fact is a list of alternatives, any one counts), token F1
  against the facts, abstention precision/recall with the unanswerable questions as positives
  (abstained == ``answer.abstained``), answer-language match (declared ``answer.language`` and the
  text's detected language), citation validity (every ``[n]`` in the text resolves to a citation),
  sentence support rate (sentence verdicts), cited-gold rate (a cited passage holds the gold passage
  or the gold facts), context recall (a passage the model was shown is relevant), time to first
  token and total time p50/p95.
- the run: models, prompt hashes, all settings, git commit, date, machine.

The corpus of a set is ingested into an index of its own (``<cache_dir>/eval-index/...``, reused
across runs; ingest is incremental), never into the user's index. The question sets, the report
writer and the plots live in ``evals/`` of the checkout.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import re
import sys
import time
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from vectorstore.language import detect_language

from .errors import AssistantError, ConfigError
from .settings import REPO_ROOT, Settings
from .types import Answer, Turn

KS = (1, 5, 10)
CURVE_K = 10
DEFAULT_OUT = REPO_ROOT / "evals" / "results"

# ============================================================================ metrics (pure functions)
_MARKER = re.compile(r"\[\s*(\d{1,3}(?:\s*[,;]\s*\d{1,3})*)\s*\]")
# Articles are dropped before token F1 (SQuAD does this for English; we do it for both languages).
_ARTICLES = {"a", "an", "the", "der", "die", "das", "den", "dem", "des", "ein", "eine", "einen", "einem", "einer", "eines"}


def markers(text: str) -> list[int]:
    """The citation numbers written in ``text``, in order: ``"A [1]. B [2, 3]."`` -> ``[1, 2, 3]``."""
    return [int(n) for m in _MARKER.finditer(text) for n in re.split(r"\s*[,;]\s*", m.group(1))]


def strip_markers(text: str) -> str:
    return re.sub(r"\s+([.!?,;:])", r"\1", _MARKER.sub("", text)).strip()


def dangling_markers(text: str, citation_numbers: Iterable[int]) -> list[int]:
    """Markers in ``text`` that resolve to no citation (sorted, unique)."""
    known = set(citation_numbers)
    return sorted({n for n in markers(text) if n not in known})


def fold(text: str) -> str:
    """Lower case without diacritics (ß -> ss), so 'Weißen' ~ 'weissen' and 'Präsident' ~ 'prasident'."""
    t = unicodedata.normalize("NFKD", text.lower().replace("ß", "ss"))
    return "".join(ch for ch in t if not unicodedata.combining(ch))


def normalize(text: str) -> str:
    """Folded words separated by single spaces; markers and punctuation are gone."""
    return " ".join(re.findall(r"\w+", fold(_MARKER.sub(" ", text))))


def contains_fact(text: str, alternatives: Sequence[str] | str) -> bool:
    """True when ``text`` contains one of the alternatives, starting at a word boundary (so
    'Patriot' matches 'Patriots', 'indirect' matches 'indirectly', but 'Merz' not 'Kommerz')."""
    alts = [alternatives] if isinstance(alternatives, str) else alternatives
    hay = " " + normalize(text)
    return any((" " + normalize(a)) in hay for a in alts if normalize(a))


def fact_recall(text: str, facts: Sequence[Sequence[str]]) -> float | None:
    """Share of the gold facts that ``text`` contains (None when there are no facts)."""
    if not facts:
        return None
    return sum(contains_fact(text, f) for f in facts) / len(facts)


def _tokens(text: str) -> list[str]:
    return [t for t in normalize(text).split() if t not in _ARTICLES]


def token_f1(prediction: str, reference: str) -> float:
    """SQuAD-style token F1 of ``prediction`` against ``reference`` (after ``normalize``)."""
    pred, ref = _tokens(prediction), _tokens(reference)
    if not pred or not ref:
        return float(pred == ref)
    common: dict[str, int] = {}
    ref_counts: dict[str, int] = {}
    for t in ref:
        ref_counts[t] = ref_counts.get(t, 0) + 1
    for t in pred:
        if ref_counts.get(t, 0) > common.get(t, 0):
            common[t] = common.get(t, 0) + 1
    same = sum(common.values())
    if same == 0:
        return 0.0
    p, r = same / len(pred), same / len(ref)
    return 2 * p * r / (p + r)


def facts_f1(text: str, facts: Sequence[Sequence[str]]) -> float | None:
    """Token F1 against the facts: per fact the best alternative, averaged over facts."""
    if not facts:
        return None
    return sum(max(token_f1(text, a) for a in f) for f in facts) / len(facts)


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0..100) with linear interpolation between ranks (numpy's default)."""
    vals = sorted(v for v in values if v is not None)
    if not vals:
        return None
    if not 0 <= q <= 100:
        raise ValueError(f"q must be between 0 and 100, got {q}")
    pos = (len(vals) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(vals) - 1)
    return vals[lo] + (vals[hi] - vals[lo]) * (pos - lo)


def timing_stats(values: Sequence[float | None]) -> dict:
    vals = [v for v in values if v is not None]
    return {
        "n": len(vals), "p50": percentile(vals, 50), "p95": percentile(vals, 95),
        "mean": sum(vals) / len(vals) if vals else None,
    }


def ranking_metrics(ranks: Sequence[int | None], ks: Sequence[int] = KS, curve_k: int = CURVE_K) -> dict:
    """recall@k, MRR and the recall curve from the 1-based rank of the first relevant hit of each
    query (None: none in the results). MRR counts ranks beyond ``curve_k`` as misses."""
    n = len(ranks)
    out: dict = {"n": n}
    if n == 0:
        out.update({f"recall@{k}": None for k in ks})
        out.update({"mrr": None, "curve": []})
        return out
    for k in ks:
        out[f"recall@{k}"] = sum(1 for r in ranks if r is not None and r <= k) / n
    out["mrr"] = sum(1.0 / r for r in ranks if r is not None and r <= curve_k) / n
    out["curve"] = [sum(1 for r in ranks if r is not None and r <= k) / n for k in range(1, curve_k + 1)]
    return out


def abstention_metrics(pairs: Iterable[tuple[bool, bool]]) -> dict:
    """Precision and recall of abstaining, unanswerable questions being the positives.
    ``pairs`` are (answerable, abstained) per question."""
    tp = fp = fn = tn = 0
    for answerable, abstained in pairs:
        if abstained and not answerable:
            tp += 1
        elif abstained:
            fp += 1
        elif not answerable:
            fn += 1
        else:
            tn += 1
    return {
        "precision": tp / (tp + fp) if tp + fp else None,
        "recall": tp / (tp + fn) if tp + fn else None,
        "false_abstention_rate": fp / (fp + tn) if fp + tn else None,
        "tp": tp, "fp": fp, "fn": fn, "tn": tn,
    }


def _mean(values: Iterable[float | bool | None]) -> float | None:
    vals = [float(v) for v in values if v is not None]
    return sum(vals) / len(vals) if vals else None


# ============================================================================ gold passages
@dataclass(frozen=True)
class Gold:
    """Where a question's answer lives: article id -> spans of the gold passage in its text, or None
    when any chunk of that article counts. Empty for unanswerable questions."""

    spans: dict[str, tuple[tuple[int, int], ...] | None] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not self.spans

    def relevant(self, article_id: str, start: int, end: int) -> bool:
        """A chunk [start, end) of an article is relevant when it holds at least half of a gold span."""
        if article_id not in self.spans:
            return False
        spans = self.spans[article_id]
        if spans is None:
            return True
        return any(min(end, e) - max(start, s) >= 0.5 * (e - s) for s, e in spans)

    def relevant_hit(self, hit) -> bool:
        return self.relevant(hit.chunk.article_id, hit.chunk.start, hit.chunk.end)


class GoldResolver:
    """Finds each question's gold in an ingested store (article texts are read once)."""

    def __init__(self, store, eval_set):
        self.store = store
        self.eval_set = eval_set
        self._texts: dict[str, str] | None = None

    def _all_texts(self) -> dict[str, str]:
        if self._texts is None:
            self._texts = {}
            for a in self.store.articles():
                text = self.store.catalog.article_text(a["article_id"])
                if text:
                    self._texts[a["article_id"]] = text
        return self._texts

    def resolve(self, q) -> Gold:
        if not q.answerable:
            return Gold()
        if q.gold_article:
            aid = self.store.catalog.source_article(self.eval_set.source_key(q.gold_article))
            if aid is None:
                return Gold()
            candidates = {aid: self.store.catalog.article_text(aid) or ""}
        else:
            candidates = self._all_texts()
        if not q.gold_passages:
            return Gold({aid: None for aid in candidates})
        found: dict[str, tuple[tuple[int, int], ...] | None] = {}
        for aid, text in candidates.items():
            spans = [(m.start(), m.end()) for p in q.gold_passages for m in re.finditer(re.escape(p), text)]
            if spans:
                found[aid] = tuple(spans)
        if not found and q.gold_article:
            # The passage is the record's headline (it travels with every chunk): any chunk counts.
            found = {aid: None for aid in candidates}
        return Gold(found)


# ============================================================================ scoring one answer
def score_answer(q, answer: Answer, gold: Gold) -> dict:
    """The per-question answer measurements (see the module docstring)."""
    text = answer.text or ""
    body = strip_markers(text)
    numbers = [c.number for c in answer.citations]
    dangling = dangling_markers(text, numbers)
    verdicts = [s.verdict for s in answer.sentences]
    detected = detect_language(body, default=q.language) if body else q.language
    row: dict = {
        "text": text,
        "raw_text": answer.raw_text,  # what the model wrote before the checks (why an answer was dropped)
        "abstained": bool(answer.abstained),
        "model_called": bool(answer.raw_text),  # False: the relevance gate abstained before the model ran
        "grounded": bool(answer.grounded),
        "language": answer.language,
        "language_ok_declared": answer.language == q.language,
        "language_ok_detected": detected == q.language,
        "markers": len(markers(text)),
        "dangling": dangling,
        "citations_valid": not dangling,
        "citations": len(answer.citations),
        "sentences": {v: verdicts.count(v) for v in ("supported", "unsupported", "uncited")},
        "context_hit": None if gold.empty else any(gold.relevant_hit(h) for h in answer.passages),
        "first_token_s": answer.timings.get("first_token_s"),
        "total_s": answer.timings.get("total_s"),
        "standalone_question": answer.standalone_question,
        "model": answer.model,
        "prompt_id": answer.prompt_id,
        "notes": list(answer.notes),
        "error": answer.error,
    }
    row["language_ok"] = row["language_ok_declared"] and row["language_ok_detected"]
    if q.answerable:
        abstained = row["abstained"]
        row["fact_recall"] = 0.0 if abstained else fact_recall(body, q.gold_facts)
        row["facts_all"] = row["fact_recall"] == 1.0
        row["f1"] = 0.0 if abstained else facts_f1(body, q.gold_facts)
        if abstained or not answer.citations:
            row["cited_gold"] = None
        else:
            cited = " \n ".join(c.passage for c in answer.citations)
            row["cited_gold"] = any(gold.relevant(c.article_id, c.start, c.end) for c in answer.citations) or (
                bool(q.gold_facts) and all(contains_fact(cited, f) for f in q.gold_facts)
            )
        row["correct"] = not abstained and row["facts_all"]
    else:
        row["correct"] = row["abstained"]
    return row


def answer_metrics(rows: list[dict]) -> dict:
    """Aggregate per-question answer rows (each carries ``answerable``, ``kind``, ``language``)."""
    errors = [r for r in rows if r.get("error_kind")]
    ok = [r for r in rows if not r.get("error_kind")]
    ans = [r for r in ok if r["answerable"]]
    answered = [r for r in ok if not r["abstained"]]
    sentences = {v: sum(r["sentences"][v] for r in answered) for v in ("supported", "unsupported", "uncited")}
    n_sent = sum(sentences.values())
    return {
        "n": len(rows),
        "errors": len(errors),
        "correct": _mean(r["correct"] for r in ok),
        "fact_recall": _mean(r["fact_recall"] for r in ans),
        "facts_all": _mean(r["facts_all"] for r in ans),
        "token_f1": _mean(r["f1"] for r in ans),
        "abstention": abstention_metrics((r["answerable"], r["abstained"]) for r in ok),
        "language_match": _mean(r["language_ok"] for r in ok),
        "language_match_declared": _mean(r["language_ok_declared"] for r in ok),
        "language_match_detected": _mean(r["language_ok_detected"] for r in ok),
        "citation_validity": _mean(r["citations_valid"] for r in ok),
        "dangling_markers": sum(len(r["dangling"]) for r in ok),
        "sentence_support_rate": sentences["supported"] / n_sent if n_sent else None,
        "sentences": sentences,
        "cited_gold_rate": _mean(r.get("cited_gold") for r in ans),
        "context_recall": _mean(r["context_hit"] for r in ans),
        "grounded_rate": _mean(r["grounded"] for r in answered),
        "abstained_before_model": sum(1 for r in ok if r["abstained"] and not r["model_called"]),
        "first_token_s": timing_stats([r["first_token_s"] for r in ok]),
        "total_s": timing_stats([r["total_s"] for r in ok]),
    }


def _answer_breakdown(rows: list[dict], key: str) -> dict:
    groups: dict[str, list[dict]] = {}
    for r in rows:
        groups.setdefault(r[key], []).append(r)
    out = {}
    for name, rs in sorted(groups.items()):
        ok = [r for r in rs if not r.get("error_kind")]
        ans = [r for r in ok if r["answerable"]]
        out[name] = {
            "n": len(rs),
            "correct": _mean(r["correct"] for r in ok),
            "fact_recall": _mean(r["fact_recall"] for r in ans),
            "token_f1": _mean(r["f1"] for r in ans),
            "abstained": _mean(r["abstained"] for r in ok),
            "language_match": _mean(r["language_ok"] for r in ok),
            "context_recall": _mean(r["context_hit"] for r in ans),
            "cited_gold_rate": _mean(r.get("cited_gold") for r in ans),
        }
    return out


def _retrieval_breakdown(rows: list[dict], key: str) -> dict:
    groups: dict[str, list[int | None]] = {}
    for r in rows:
        groups.setdefault(r[key], []).append(r["rank"])
    return {name: ranking_metrics(ranks) for name, ranks in sorted(groups.items())}


# ============================================================================ running a set
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


def _evals():
    """evals/ of the checkout (question sets, reports). It is not part of the installed package,
    so the checkout's root goes on the import path."""
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    from evals import datasets, report

    return datasets, report


def prompt_hashes(prompts_dir: Path) -> dict[str, str]:
    """sha256 (first 12 hex digits) of every prompt file."""
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()[:12]
        for p in sorted(Path(prompts_dir).glob("*.txt"))
    }


def _retrieval_phase(questions, golds: dict[str, Gold], pairs: dict[str, str], store, mode: str, log) -> tuple[list[dict], dict]:
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
        "by_pair": _retrieval_breakdown(scored, "pair"),
        "by_kind": _retrieval_breakdown(scored, "kind"),
        "search_s": timing_stats([r.get("search_s") for r in scored]),
        "no_gold": [r["id"] for r in rows if r.get("retrieval_note")],
    }
    return rows, metrics


def _answer_phase(questions, golds: dict[str, Gold], rows: list[dict], assistant, k: int | None, log) -> dict:
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
    metrics["by_kind"] = _answer_breakdown(arows, "kind")
    metrics["by_language"] = _answer_breakdown(arows, "language_q")
    metrics["prompt_ids"] = sorted({r["prompt_id"] for r in arows if r.get("prompt_id")})
    metrics["models"] = sorted({r["model"] for r in arows if r.get("model")})
    return metrics


def run_eval(
    opts: EvalOptions,
    settings: Settings | None = None,
    *,
    store=None,
    assistant=None,
    log: Callable[[str], None] = lambda _m: None,
    argv: list[str] | None = None,
) -> dict:
    """Run one evaluation and return the results dict (what ``write_outputs`` stores as JSON).

    ``store`` and ``assistant`` are built from the settings when not given (tests pass their own;
    the corpus is still ingested, which costs nothing when it is already there).
    """
    datasets, report = _evals()
    t_start = time.perf_counter()
    started = dt.datetime.now().astimezone()
    machine = report.machine_info()
    try:
        s = eval_settings(settings, opts)
    except (ValueError, KeyError) as e:  # pydantic's ValidationError is a ValueError
        raise ConfigError("invalid setting: " + " ".join(str(e).split())) from e
    if opts.limit is not None and opts.limit < 1:
        raise ConfigError(f"limit must be at least 1, got {opts.limit}")
    eval_set = datasets.load_set(opts.set, Path(s.paths.index_dir), distractors=opts.distractors, questions=opts.questions)
    questions = datasets.select(eval_set.questions, opts.limit)
    if store is None and assistant is not None:
        store = assistant.store
    if store is None:
        from vectorstore import open_store

        store = open_store(s)
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
        if assistant is None:
            try:
                from .assistant import Assistant
            except ImportError as e:
                raise ConfigError(f"the answering side cannot be imported ({e}); use --retrieval-only") from e
            assistant = Assistant(s, store=store)
        answers = _answer_phase(questions, golds, rows, assistant, opts.k, log)
        try:
            describe = assistant.describe()  # after the answers: the prompt ids are known once the chain is built
        except Exception as e:  # describe is informative only; a broken one must not sink the run
            describe = {"error": f"{type(e).__name__}: {e}"}

    label = "retrieval" if opts.retrieval_only else _slug(s.llm.model)
    run_id = "-".join(x for x in (started.strftime("%Y%m%d-%H%M%S"), opts.set, s.retrieval.mode, label, _slug(opts.label) if opts.label else "") if x)
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
            "prompt_hashes": prompt_hashes(s.paths.prompts_dir),
            "describe": describe,
            "settings": json.loads(s.model_dump_json()),
            "git": {"commit": machine.get("git_commit"), "dirty": machine.get("git_dirty")},
            "machine": machine,
        },
        "retrieval": retrieval,
        "answers": answers,
        "questions": rows,
    }


# ============================================================================ command line
def build_parser(prog: str = "evals/run.py") -> argparse.ArgumentParser:
    """The flags of ``evals/run.py`` and ``assistant eval``."""
    p = argparse.ArgumentParser(prog=prog, description="Evaluate retrieval and answers on a question set.")
    p.add_argument("--set", default="seed", choices=["seed", "xquad", "xquad-r", "mlqa"], help="question set (default: seed)")
    p.add_argument("--questions", type=Path, help="a seed-format JSONL file instead of evals/seed.jsonl")
    p.add_argument("--mode", choices=["dense", "lexical", "hybrid"], help="retrieval mode (default: configured)")
    p.add_argument("--k", type=int, help="passages retrieved for an answer (default: configured)")
    p.add_argument("--model", help="answer model, e.g. qwen2.5-coder-0.5b (default: configured)")
    p.add_argument("--embedding", help="embedding model (default: configured); gets its own eval index")
    p.add_argument("--prompt-variant", help="prompt variant (prompts/answer.<variant>.<lang>.txt)")
    p.add_argument("--retrieval-only", action="store_true", help="measure retrieval only (no answer model)")
    p.add_argument("--limit", type=int, help="ask only N questions (taken round-robin over question kinds)")
    p.add_argument("--distractors", type=int, help="10kGNAD distractor articles (public sets: default all 1028; seed: 0)")
    p.add_argument("--index-dir", type=Path, help="eval index folder (default: <cache_dir>/eval-index/<set>-...)")
    p.add_argument("--rebuild", action="store_true", help="rebuild the eval index from scratch")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"results folder (default: {DEFAULT_OUT})")
    p.add_argument("--label", default="", help="a name for this run (goes into the file names)")
    p.add_argument("--plot-with", type=Path, nargs="+", default=[], metavar="RESULTS.json",
                   help="earlier results to draw in this run's plot")
    p.add_argument("--compare", type=Path, nargs="+", metavar="RESULTS.json",
                   help="print what changed between two (or more) results files and exit")
    p.add_argument("--plot", type=Path, help="with --compare: also draw the runs into this PNG")
    return p


def main(argv: list[str] | None = None, prog: str = "evals/run.py") -> int:
    """Entry point of ``evals/run.py`` and ``assistant eval`` (``prog`` names it in --help). Returns
    the exit code: 0 done, 1 an error (one line on stderr), 2 bad flags."""
    args = build_parser(prog).parse_args(argv)
    try:
        _datasets, report = _evals()
        if args.compare:
            if len(args.compare) < 2:
                raise ConfigError("--compare needs at least two results files")
            runs = [report.load_results(p) for p in args.compare]
            print(report.compare(runs))
            if args.plot:
                report.plot_runs(runs, args.plot)
                print(f"wrote {args.plot}")
            return 0
        for name in ("k", "limit", "distractors"):
            v = getattr(args, name)
            if v is not None and v < (0 if name == "distractors" else 1):
                raise ConfigError(f"--{name} must be at least {0 if name == 'distractors' else 1}, got {v}")
        opts = EvalOptions(
            set=args.set, questions=args.questions, mode=args.mode, k=args.k, model=args.model, embedding=args.embedding,
            prompt_variant=args.prompt_variant, retrieval_only=args.retrieval_only, limit=args.limit,
            distractors=args.distractors, index_dir=args.index_dir, rebuild=args.rebuild, label=args.label,
        )
        results = run_eval(opts, log=lambda m: print(m, file=sys.stderr, flush=True),
                           argv=list(argv if argv is not None else sys.argv[1:]))
        others = [report.load_results(p) for p in args.plot_with]
        paths = report.write_outputs(results, args.out, plot_with=others)
        print(report.headline(results))
        for kind, path in paths.items():
            print(f"wrote {kind}: {path}")
        return 0
    except AssistantError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1


__all__ = [
    "EvalOptions", "Gold", "GoldResolver", "run_eval", "main", "build_parser", "score_answer", "answer_metrics",
    "ranking_metrics", "abstention_metrics", "token_f1", "facts_f1", "fact_recall", "contains_fact", "markers",
    "dangling_markers", "percentile", "timing_stats", "normalize", "eval_settings", "default_index_dir",
]
