"""Follow-ups measured without the answer model, on one half of the XQuAD conversation set:

    python -m evals.follow_ups                 # dev half: confusion table and retrieval of every turn
    python -m evals.follow_ups --no-retrieval  # the confusion table alone (no index, seconds)

1. **Follow-up or new question** (``assistant.stages.condense.is_follow_up``): every turn after the first,
   labelled follow-up when its kind is ``follow_up``, new question otherwise (switches and the
   unanswerable "Und …?" questions, which name their own subject). A switch taken for a follow-up is the
   costly error: it would be searched with the previous topic.
2. **Retrieval**: recall@1 and recall@5 of the turn's paragraph (by article, as XQuAD is scored), per kind, for the
   question searched as the product searches it when no rewrite can be had (``Condenser`` without a
   model: a follow-up becomes the previous question followed by it), with the conversation state
   (``Retriever`` with the previous turn's article: the first hit's article of the previous turn, what
   its answer would most likely cite), as typed, and as written in XQuAD (the upper bound a perfect
   rewrite reaches).

The index is the one ``python -m evals.conversations --set evals/sets/conversations-xquad.jsonl`` uses
(built on first use). Only counts are printed: the test half is reported, never read.
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

from assistant.stages.condense import fallback_query, is_follow_up
from assistant.stages.retrieve import Retriever
from assistant.types import Condensed, Query, Turn
from vectorstore import open_store

from .conversation_set import SET_PATH
from .conversations import Dialogue, _xquad_corpus, load_dialogues
from .runner import EvalOptions, eval_settings

K = 5


def confusion(dialogues: list[Dialogue]) -> dict:
    """(label, predicted) counts over the turns after the first; ``by_kind`` the predicted follow-ups per kind."""
    table: Counter = Counter()
    by_kind: Counter = Counter()
    for d in dialogues:
        history: list[Turn] = []
        for t in d.turns:
            if history:
                predicted = is_follow_up(t.question, history)
                table[(t.kind == "follow_up", predicted)] += 1
                by_kind[(t.kind, predicted)] += 1
            history.append(Turn(t.question, ""))
    return {"table": table, "by_kind": by_kind}


def print_confusion(c: dict) -> None:
    t = c["table"]
    print("                      predicted follow-up   predicted new")
    print(f"follow-up (gold)      {t[(True, True)]:>19}   {t[(True, False)]:>13}")
    print(f"new question (gold)   {t[(False, True)]:>19}   {t[(False, False)]:>13}")
    tp, fn, fp = t[(True, True)], t[(True, False)], t[(False, True)]
    print(f"follow-up recall {tp}/{tp + fn}, precision {tp}/{tp + fp}")
    kinds = sorted({k for k, _ in c["by_kind"]})
    print("taken for follow-ups, per kind: " + ", ".join(
        f"{k} {c['by_kind'][(k, True)]}/{c['by_kind'][(k, True)] + c['by_kind'][(k, False)]}" for k in kinds))


def retrieval(dialogues: list[Dialogue], store, record_file: Path, boost: float) -> dict:
    """Recall@5 per kind and way of searching (see the module docstring)."""
    article_of = lambda rid: store.catalog.source_article(f"{record_file.resolve()}#{rid}")  # noqa: E731
    retriever = Retriever(store, K, follow_up_boost=boost)
    found: Counter = Counter()
    first: Counter = Counter()
    total: Counter = Counter()
    for d in dialogues:
        history: list[Turn] = []
        for t in d.turns:
            gold = article_of(t.article) if t.article else None
            query = Query(t.question, d.language, tuple(history))
            follow = is_follow_up(t.question, history)
            searched = fallback_query(t.question, history) if follow else t.question
            ways = {"as typed": t.question, "product, no model": searched, "as in XQuAD": t.standalone or t.question}
            hits_now = {}
            for way, text in ways.items():
                hits_now[way] = store.search(text, k=K)
            stated = retriever(Condensed(query, searched, follow_up=follow))
            hits_now["with conversation state"] = stated.hits
            if gold:
                for way, hits in hits_now.items():
                    total[(t.kind, way)] += 1
                    found[(t.kind, way)] += any(h.chunk.article_id == gold for h in hits)
                    first[(t.kind, way)] += bool(hits) and hits[0].chunk.article_id == gold
            top = hits_now["with conversation state"]
            history.append(Turn(t.question, "", articles=(top[0].chunk.article_id,) if top else ()))
    return {"found": found, "first": first, "total": total}


def print_retrieval(r: dict) -> None:
    ways = ("as typed", "product, no model", "with conversation state", "as in XQuAD")
    kinds = sorted({k for k, _ in r["total"]})
    print(f"recall@1 / recall@{K} of the turn's paragraph | " + " | ".join(ways))
    for k in kinds:
        print(f"{k:<12} " + " | ".join(f"{r['first'][(k, w)]} / {r['found'][(k, w)]} of {r['total'][(k, w)]}" for w in ways))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m evals.follow_ups", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--set", type=Path, default=SET_PATH)
    ap.add_argument("--split", choices=("dev", "test"), default="dev")
    ap.add_argument("--no-retrieval", action="store_true", help="the confusion table only")
    ap.add_argument("--boost", type=float, help="retrieval.follow_up_boost for this run (default: the setting)")
    args = ap.parse_args(argv)
    dialogues = [d for d in load_dialogues(args.set) if d.split == args.split]
    print(f"{args.split} half: {len(dialogues)} dialogues, {sum(len(d.turns) for d in dialogues)} turns")
    print_confusion(confusion(dialogues))
    if args.no_retrieval:
        return 0
    settings = eval_settings(None, EvalOptions(set="conversations-xquad"))
    store = open_store(settings)
    corpus = _xquad_corpus(args.set, Path(settings.paths.index_dir))
    report = store.ingest(corpus)
    print(f"index {settings.paths.index_dir}: {report.summary()}")
    boost = settings.retrieval.follow_up_boost if args.boost is None else args.boost
    print(f"conversation state: previous article boost {boost}")
    print_retrieval(retrieval(dialogues, store, corpus[0], boost))
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
