"""A tape of a question set's dev half: what answering read from the index and the answer model, so
that today's condense, context, yes/no and check stages run again on it without the model or the index.

Recording replays an earlier run's model text (``evals.replay``) through the full product and writes
down every search's hits, every whole article read, the model's text and every P(yes) the judges and
the yes/no decision asked for. Playing it back asks nothing that is not on the tape, so the dev
metrics are pinned in the test suite (``tests/evals/test_tape.py``) on CPU in about a minute:

    python -m evals.tape record --replay evals/results/<news dev run>.json --out tests/evals/data/news-dev.tape.json
    python -m evals.tape play tests/evals/data/news-dev.tape.json       # today's metrics on it

A change that alters what a judge is shown misses the tape (``Tape.misses``): record it again.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from dataclasses import asdict
from pathlib import Path

from assistant.assistant import Assistant
from assistant.backends.llm import make_chat_model
from assistant.settings import Settings
from assistant.stages.prompts import load_prompt
from vectorstore.types import Chunk, Hit

from . import datasets
from .datasets import EvalQuestion
from .gold import Gold
from .replay import ReplayChatModel, recorded_replies
from .runner import EvalOptions, _answer_phase, eval_settings, run_eval

FIELDS = ("correct", "abstained")


def _key(value) -> str:
    return hashlib.sha256(json.dumps(value, ensure_ascii=False, sort_keys=True).encode()).hexdigest()[:24]


def _loose_key(messages) -> str:
    """The prompt as a bag of words: the same sentences shown in another order (two near-equal
    similarities that another CPU ranks the other way) find their recorded P(yes)."""
    return "~" + _key(sorted(" ".join(m["content"] for m in messages).split()))


def _hit(d: dict) -> Hit:
    return Hit(Chunk(**d["chunk"]), d["score"], d.get("dense_score"), d.get("lexical_rank"))


class Tape:
    """What a run read: ``search`` (query -> hits), ``articles`` (id -> text) and ``p_yes``
    (prompt -> P). Recording wraps the real store and model; playing answers from the dicts."""

    def __init__(self, data: dict | None = None):
        data = data or {}
        self.search_hits: dict[str, list[dict]] = data.get("search", {})
        self.articles: dict[str, str] = data.get("articles", {})
        self.p_yes: dict[str, float | None] = data.get("p_yes", {})
        self.texts: dict[str, str] = data.get("texts", {})  # text the model wrote live (no recorded reply)
        self.misses: list[str] = []

    def to_dict(self) -> dict:
        return {"search": self.search_hits, "articles": self.articles, "p_yes": self.p_yes, "texts": self.texts}


class TapedStore:
    """The store as answering sees it: ``search``, ``article_text``, the embedder, the counts. With
    ``real`` it records what the real store gives; without, it plays the tape."""

    def __init__(self, tape: Tape, embedder, real=None):
        self.tape, self.embedder, self.real = tape, embedder, real
        self.catalog = real.catalog if real is not None else self

    def counts(self):
        return (len(self.tape.articles) or 1, 0)

    def stats(self) -> dict:
        return self.real.stats() if self.real is not None else {"articles": len(self.tape.articles)}

    def search(self, query: str, k=None, filters=None, mode=None) -> list[Hit]:
        key = _key([query, k, asdict(filters) if filters else None, mode])
        if self.real is not None:
            hits = self.real.search(query, k=k, filters=filters, mode=mode)
            self.tape.search_hits[key] = [{**asdict(h), "chunk": asdict(h.chunk)} for h in hits]
            return hits
        if key not in self.tape.search_hits:
            self.tape.misses.append(f"search {query[:60]!r}")
            return []
        return [_hit(d) for d in self.tape.search_hits[key]]

    def article_text(self, article_id: str) -> str | None:
        if self.real is not None:
            self.tape.articles[article_id] = self.real.article_text(article_id) or ""
        return self.tape.articles.get(article_id) or None

    def __getattr__(self, name):  # ingest, stats and the like during recording
        return getattr(self.real, name)


class TapedModel:
    """The answer model's token probabilities: recorded from ``real``, or played from the tape."""

    def __init__(self, tape: Tape, real=None, name: str = "tape", model_path: str | None = None):
        self.tape, self.real, self.name = tape, real, getattr(real, "name", name)
        self.model_path = getattr(real, "model_path", None) or model_path

    def yes_probability(self, messages) -> float | None:
        key, loose = _key(messages), _loose_key(messages)
        if self.real is not None:
            self.tape.p_yes[key] = self.tape.p_yes[loose] = self.real.yes_probability(messages)
        elif key not in self.tape.p_yes:
            key = loose
            if key not in self.tape.p_yes:
                self.tape.misses.append(f"P(yes) {messages[-1]['content'][:80]!r}")
                return None
        return self.tape.p_yes[key]

    def stream(self, messages, **kwargs):
        key = _key(messages)
        if self.real is not None:
            self.tape.texts[key] = "".join(self.real.stream(messages, **kwargs))
        elif key not in self.tape.texts:
            self.tape.misses.append(f"model text {messages[-1]['content'][-80:]!r}")
            return iter(["…"])
        return iter([self.tape.texts[key]])

    def __getattr__(self, name):
        if self.real is None:
            raise AttributeError(name)
        return getattr(self.real, name)


def _replaying(settings: Settings, inner, replies: dict[str, str]) -> ReplayChatModel:
    a = settings.answering
    systems = {load_prompt("answer", lang, a.prompt_variant, a.prompts_dir).system for lang in ("de", "en")}
    return ReplayChatModel(inner, replies, systems)


def record(results: Path, out: Path, set_name: str = "news", log=print) -> dict:
    """Replay ``results`` (dev questions only) through the product, recording what it read."""
    from vectorstore import open_store

    opts = EvalOptions(set=set_name, replay=results)
    settings = eval_settings(None, opts)
    tape, store = Tape(), open_store(settings)
    taped_store = TapedStore(tape, store.embedder, store)
    model = TapedModel(tape, make_chat_model(settings))
    assistant = Assistant(settings, store=taped_store, llm=_replaying(settings, model, recorded_replies(results)))
    token = datasets.SPLIT.set("dev")
    try:
        run = run_eval(opts, settings, store=taped_store, assistant=assistant, log=log)
    finally:
        datasets.SPLIT.reset(token)
    questions = [r for r in run["questions"] if "answer" in r]
    data = {
        "recorded_from": results.name, "set": set_name, "model": settings.llm.model,
        "replies": recorded_replies(results), "metrics": metrics_of([r["answer"] | r for r in questions]),
        "model_path": str(getattr(model, "model_path", "") or ""),
        "questions": [asdict(_question(r)) for r in questions],
        **tape.to_dict(),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    return data


def _question(row: dict) -> EvalQuestion:
    names = EvalQuestion.__dataclass_fields__
    fields = {k: v for k, v in row.items() if k in names}
    fields["gold_facts"] = tuple(map(tuple, fields.get("gold_facts") or ()))
    return EvalQuestion(**fields)


def metrics_of(rows: list[dict]) -> dict:
    """The pinned counts: right answers, false abstentions, unanswerable questions refused."""
    answerable = [r for r in rows if r["answerable"]]
    return {"n": len(rows), "correct": sum(bool(r["correct"]) for r in rows),
            "false_abstentions": sum(bool(r["abstained"]) for r in answerable),
            "unanswerable_refused": sum(bool(r["abstained"]) for r in rows if not r["answerable"]),
            "unanswerable": len(rows) - len(answerable)}


def play(data: dict, settings: Settings, embedder) -> tuple[dict, list[str]]:
    """Today's stages on the tape: (the metrics, what was asked that the tape does not have)."""
    tape = Tape(data)
    store = TapedStore(tape, embedder)
    model = TapedModel(tape, model_path=data.get("model_path"))
    assistant = Assistant(settings, store=store, llm=_replaying(settings, model, data["replies"]))
    questions = [EvalQuestion(**{**q, "gold_facts": tuple(map(tuple, q["gold_facts"]))}) for q in data["questions"]]
    golds = {q.id: Gold() for q in questions}  # correctness reads the answer text alone
    rows = [{"id": q.id, "answerable": q.answerable, "kind": q.kind, "language": q.language} for q in questions]
    _answer_phase(questions, golds, rows, assistant, None, lambda _m: None)
    return metrics_of([r["answer"] | r for r in rows if "answer" in r]), tape.misses


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m evals.tape", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="command", required=True)
    rec = sub.add_parser("record", help="replay a run's dev questions and write the tape")
    rec.add_argument("--replay", type=Path, required=True)
    rec.add_argument("--out", type=Path, required=True)
    rec.add_argument("--set", default="news")
    pl = sub.add_parser("play", help="today's metrics on a tape")
    pl.add_argument("tape", type=Path)
    args = ap.parse_args(argv)
    if args.command == "record":
        print(json.dumps(record(args.replay, args.out, args.set)["metrics"]))
        return 0
    from vectorstore.embedder import make_embedder

    data = json.loads(args.tape.read_text(encoding="utf-8"))
    s = Settings()
    e = s.embedding
    embedder = make_embedder(e.model, cache_dir=Path(s.paths.cache_dir), quantize=e.quantize, batch_size=e.batch_size,
                             second_weight=e.second_weight)
    metrics, misses = play(data, s, embedder)
    print(json.dumps({"recorded": data["metrics"], "today": metrics, "misses": misses}, ensure_ascii=False, indent=1))
    return 0 if not misses else 1


if __name__ == "__main__":
    raise SystemExit(main())
