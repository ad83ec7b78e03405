"""Verifier pairs in the form the answer model writes them (``evals/sets/answer-pairs.jsonl``).

The generated corpus (``evals/corpus.py``) edits article sentences, so its true claims keep the
article's words; the model's answers do not ("Abbas traf Kerry in Jordanien" for a sentence that
says it another way, English answers to German passages). The verifier refused 0.27-0.33 of true
answer-like claims on dev for that reason. This set is the recipe against it:

1. Dev XQuAD-R questions (split by topic, ``benchmarks/splits.py``; never the test half), German
   and English, each shown the product's answer prompt with two German excerpts: the answer
   sentence with its neighbour, and a window of another paragraph of the same topic, in random
   order.
2. The answer model (``--model``) answers. A sentence that holds a gold answer and cites the gold
   excerpt is a ``supported`` pair with that excerpt: ``answer`` (claims in the question's language,
   so half are cross-lingual).
3. The same sentence against the other excerpt alone is ``not_found`` (``answer-other-passage``), and
   general edits of it are contradicted or not found (``answer-figure``, ``answer-negated``,
   ``answer-quantifier``, ``answer-state-as-fact``), the edits of ``evals/perturb.py``.

Labels are from the gold answers, so they are noisy where the model adds a detail; read a sample
(``--show N``). Rebuild: ``python -m evals.answer_pairs --model qwen2.5-coder-1.5b --n 320``.
"""

from __future__ import annotations

import argparse
import json
import random
import re
from pathlib import Path

from evals.datasets import _xquad_questions
from evals.metrics import contains_fact
from evals.perturb import change_figure, flip_quantifier, negate_clean, state_as_fact_more
from vectorstore.text import MARKER, fold, marker_numbers, names, numbers, split_sentences, strip_markers

OUT = Path(__file__).with_name("sets") / "answer-pairs.jsonl"
SEED = 0


def _window(sentences: list[str], at: int) -> str:
    """The answer sentence and the one after it (before it, at the end): a trimmed passage."""
    other = at + 1 if at + 1 < len(sentences) else at - 1
    lo, hi = sorted((at, max(other, 0)))
    return " ".join(sentences[lo : hi + 1])


def excerpts(q, paragraphs: dict[str, str], same_topic: dict[str, list[str]], rng: random.Random):
    """(gold excerpt, other excerpt) for a question, or None when its answer sentence is not found."""
    text = paragraphs[q.gold_article]
    sentences = split_sentences(text)
    gold = next((i for i, s in enumerate(sentences) for g in q.gold_passages if g[:40] in s or s[:40] in g), None)
    others = [p for p in same_topic[q.topic] if p != q.gold_article]
    if gold is None or not others:
        return None
    other_sentences = split_sentences(paragraphs[rng.choice(others)])
    return _window(sentences, gold), _window(other_sentences, rng.randrange(len(other_sentences)))


def ask(llm, generator, q, shown: list[str]) -> str:
    context = "\n\n".join(f"[{n}] ({q.topic.replace('_', ' ')}) {t}" for n, t in enumerate(shown, 1))
    messages = generator.messages(q.language, context=context, question=q.question)
    return "".join(llm.stream(messages, max_tokens=120, temperature=0.0))


def swap_answer(claim: str, alternatives, passage: str, rng: random.Random) -> str | None:
    """The gold answer in the claim replaced by another name or figure of the same excerpt: the
    wrong pick from the right passage, the small model's most common error."""
    said = next((a for a in alternatives if a and a in claim), None)
    if said is None:
        return None
    figure = bool(re.search(r"\d", said))
    pool = [str(n) for n in numbers(passage)] if figure else names(passage)
    pool = [w for w in dict.fromkeys(pool) if fold(w) not in fold(said) and fold(said) not in fold(w) and w not in claim]
    return claim.replace(said, rng.choice(pool), 1) if pool else None


def pairs_of(q, raw: str, shown: list[str], gold_n: int, rng: random.Random) -> list[dict]:
    """The labelled pairs of one answer (see the module docstring)."""
    out = []
    base = {"source": "xquad", "article": q.topic, "split": q.split, "question": q.question,
            "passage_language": "de", "claim_language": q.language, "passage_title": q.topic.replace("_", " ")}
    for sent in split_sentences(raw):
        cited = [n for m in MARKER.finditer(sent) for n in marker_numbers(m)]
        claim = " ".join(strip_markers(sent).split())
        if gold_n not in cited or not any(contains_fact(claim, alts) for alts in q.gold_facts):
            continue
        gold, other = shown[gold_n - 1], shown[2 - gold_n]
        out.append({**base, "claim": claim, "passage": gold, "label": "supported", "kind": "answer"})
        out.append({**base, "claim": claim, "passage": other, "label": "not_found", "kind": "answer-other-passage"})
        edits = {
            "answer-swapped": ("contradicted", swap_answer(claim, [a for alts in q.gold_facts for a in alts], gold, rng)),
            "answer-figure": ("contradicted", change_figure(claim, q.language, gold, rng)),
            "answer-negated": ("contradicted", negate_clean(claim, q.language)),
            "answer-quantifier": ("contradicted", flip_quantifier(claim, q.language, rng)),
            "answer-state-as-fact": ("not_found", state_as_fact_more(claim, q.language)),
        }
        out += [{**base, "claim": c, "passage": gold, "label": label, "kind": kind}
                for kind, (label, c) in edits.items() if c and c != claim]
    return out


def build(model: str, n: int, out_path: Path, seed: int = SEED) -> list[dict]:
    """Ask, label and append to ``out_path`` question by question (a stopped run keeps its pairs)."""
    from assistant.stages.generate import Generator
    from assistant.backends.llm import make_chat_model
    from assistant.stages.prompts import load_prompt
    from assistant.settings import Settings

    records, questions = _xquad_questions("xquad-r", None)
    paragraphs = {r["id"]: r["text"] for r in records}
    topic_of = {q.gold_article: q.topic for q in questions}
    same_topic: dict[str, list[str]] = {}
    for pid, topic in topic_of.items():
        same_topic.setdefault(topic, []).append(pid)
    rng = random.Random(seed)
    dev = [q for q in questions if q.split == "dev" and q.answerable]
    rng.shuffle(dev)
    settings = Settings().with_overrides(**{"llm.model": model})
    llm = make_chat_model(settings)
    generator = Generator(llm, {lang: load_prompt("answer", lang) for lang in ("de", "en")})
    out: list[dict] = []
    out_path.write_text("", encoding="utf-8")
    for i, q in enumerate(dev[:n]):
        got = excerpts(q, paragraphs, same_topic, rng)
        if got is None:
            continue
        gold_n = rng.choice((1, 2))
        shown = [got[0], got[1]] if gold_n == 1 else [got[1], got[0]]
        raw = ask(llm, generator, q, shown)
        new = pairs_of(q, raw, shown, gold_n, rng)
        for k, r in enumerate(new, len(out)):
            r["id"] = f"ap-{r['kind']}-{k:04d}"
        out += new
        with out_path.open("a", encoding="utf-8") as f:
            f.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in new)
        print(f"[{i + 1}/{min(n, len(dev))}] {len(out)} pairs", flush=True)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m evals.answer_pairs", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="qwen2.5-coder-1.5b")
    ap.add_argument("--n", type=int, default=320, help="dev questions asked")
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--show", type=int, default=0, help="print N random pairs of the written set to read their labels")
    args = ap.parse_args(argv)
    if args.show:
        rows = [json.loads(x) for x in args.out.read_text(encoding="utf-8").splitlines()]
        for r in random.Random(1).sample(rows, min(args.show, len(rows))):
            print(f"{r['id']} {r['label']}\n  Q: {r['question']}\n  C: {r['claim']}\n  P: {r['passage']}\n")
        return 0
    rows = build(args.model, args.n, args.out)
    kinds: dict[str, int] = {}
    for r in rows:
        kinds[r["kind"]] = kinds.get(r["kind"], 0) + 1
    print(f"wrote {len(rows)} pairs to {args.out}: {kinds}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
