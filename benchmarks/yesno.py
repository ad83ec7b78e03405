"""Yes/no decisions (``assistant.stages.yesno``): how often "Ja"/"Nein" is right, given the gold sentences and
given the sentences the assistant's own retrieval puts in front of the model.

    python -m benchmarks.yesno                          # seed + xquad (+ news when the set exists), 1.5B
    python -m benchmarks.yesno --sets seed --model qwen2.5-coder-0.5b --name yesno-0.5b

Sets (all dev data):
- ``seed``: the yes/no questions of ``evals/seed.jsonl`` (kind ``yesno``); the gold answer is "no" when
  the gold statement is a negation ("nicht aus", "not the case"), else "yes".
- ``xquad``: ``benchmarks/yesno_xquad.jsonl``, yes/no questions written for XQuAD paragraphs of the
  dev topics (``evals.splits``), half answered yes, half no, German and English; the gold sentence is
  the German XQuAD-R sentence that holds the original question's answer.
- ``news``: ``evals/sets/news.jsonl`` items with a ``yes_no`` answer, ``split`` dev only.

The retrieved setting runs the product's condense → retrieve → context stages (default settings) over
``seeds/`` for ``seed`` and over the 240 XQuAD paragraphs + 200 10kGNAD articles + the news set's dev
articles for the others; the model
then sees the sentences of the passages it would be shown. Undecided counts as wrong.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from . import common

XQUAD_YESNO = Path(__file__).with_name("yesno_xquad.jsonl")
NEWS = common.REPO / "evals" / "sets" / "news.jsonl"
NEGATION = ("nicht", "kein", "not", "n't", "never", "niemals")
SETS = ("seed", "xquad", "news")
DISTRACTORS = 200  # 10kGNAD articles (rows 0-199) in the public corpus besides the gold ones


@dataclass(frozen=True)
class Item:
    id: str
    set: str
    question: str
    language: str
    answer: str  # "yes" | "no"
    gold: tuple[str, ...]  # the sentences that decide it


def _sentences_with(text: str, fragments: list[str]) -> tuple[str, ...]:
    from vectorstore.text import split_sentences

    found = [s for s in split_sentences(text) if any(f in s for f in fragments)]
    return tuple(dict.fromkeys(found)) or tuple(fragments)


def seed_items() -> list[Item]:
    text = "\n".join(p.read_text(encoding="utf-8").split("---", 2)[-1] for p in sorted(common.SEEDS.glob("*.md")))
    out = []
    for line in (common.REPO / "evals" / "seed.jsonl").read_text(encoding="utf-8").splitlines():
        r = json.loads(line)
        if r["kind"] != "yesno":
            continue
        statement = r["gold_facts"][0][0].lower()
        answer = "no" if any(n in statement.split() or n in statement for n in NEGATION) else "yes"
        gold = r["gold_passage"] if isinstance(r["gold_passage"], list) else [r["gold_passage"]]
        out.append(Item(r["id"], "seed", r["question"], r["language"], answer, _sentences_with(text, gold)))
    return out


def xquad_items() -> list[Item]:
    from .splits import split_of

    data = json.loads((common.DATA / "xquad-r" / "de.json").read_text(encoding="utf-8"))["data"]
    gold: dict[str, str] = {}
    for article in data:
        if split_of("xquad", article["title"]) != "dev":
            continue
        for par in article["paragraphs"]:
            for qa in par["qas"]:
                start = qa["answers"][0]["answer_start"]
                gold[qa["id"]] = next(s for (a, b), s in zip(par["sentence_breaks"], par["sentences"]) if a <= start < b)
    out = []
    for line in XQUAD_YESNO.read_text(encoding="utf-8").splitlines():
        r = json.loads(line)
        out.append(Item(r["id"], "xquad", r["question"], r["language"], r["answer"], (gold[r["xquad_id"]],)))
    return out


def news_items() -> list[Item]:
    """The dev half of the news set's yes/no questions (the test half is never read); the gold
    sentences are those of the gold article that hold its ``gold_passage``."""
    if not NEWS.is_file():
        return []
    rows = [r for r in map(json.loads, NEWS.read_text(encoding="utf-8").splitlines()) if r.get("split") == "dev"]
    rows = [r for r in rows if r.get("yes_no") in ("yes", "no")]
    articles = {a["id"]: f"{a['title']}\n{a['text']}" for a in common.gnad()}
    out = []
    for r in rows:
        gold = r["gold_passage"] if isinstance(r["gold_passage"], list) else [r["gold_passage"]]
        sentences = _sentences_with(articles[r["gold_article"]], gold)
        out.append(Item(r["id"], "news", r["question"], r["language"], r["yes_no"], sentences))
    return out


def open_index(name: str, cache_dir: Path, settings_overrides: dict):
    """A store over ``seeds/`` (``seed``) or the XQuAD paragraphs, the first ``DISTRACTORS`` 10kGNAD
    articles and the news set's dev articles (``public``), kept in the cache between runs (an
    unchanged corpus is not embedded again)."""
    from vectorstore import open_store

    settings = common.settings_for(cache_dir / f"bench-yesno-{name}", **settings_overrides)
    store = open_store(settings)
    if name == "seed":
        store.ingest([common.SEEDS])
    else:
        news = {r["gold_article"] for r in map(json.loads, NEWS.read_text(encoding="utf-8").splitlines())
                if r.get("split") == "dev" and r.get("gold_article")} if NEWS.is_file() else set()
        gnad = [a for i, a in enumerate(common.gnad()) if i < DISTRACTORS or a["id"] in news]
        store.ingest([common.write_jsonl(cache_dir / "bench-yesno-public.jsonl", common.xquad()[0] + gnad)])
    return settings, store


def retrieved_sentences(assistant, item: Item) -> tuple[list[str], bool]:
    """The sentences the answer model would be shown: each context passage's title (unless cut
    short with "…") and its trimmed text; and whether a gold sentence is among them."""
    from assistant.types import Query
    from vectorstore.text import split_sentences

    context = assistant.chain.prepare.invoke(Query(item.question, item.language))
    sentences: list[str] = []
    for p in context.passages:
        title = [p.title] if p.title and not p.title.rstrip().endswith("…") else []
        sentences += [s for s in title + split_sentences(p.text) if s not in sentences]
    shown = " ".join(sentences)
    return sentences, any(g[:60] in shown for g in item.gold)


def run_set(items: list[Item], assistant, decider) -> list[dict]:
    rows = []
    for it in items:
        row = {"id": it.id, "set": it.set, "language": it.language, "question": it.question, "expected": it.answer}
        for mode in ("gold", "retrieved"):
            if mode == "gold":
                sentences, hit = list(it.gold), True
            else:
                sentences, hit = retrieved_sentences(assistant, it)
            t0 = time.perf_counter()
            d = decider(it.question, sentences, it.language)
            row[mode] = {"p_yes": d.p_yes, "answer": d.answer, "evidence": d.evidence, "gold_shown": hit,
                         "seconds": round(time.perf_counter() - t0, 3)}
        p = [row[m]["p_yes"] for m in ("gold", "retrieved")]
        print(f"{it.id} [{it.answer}] P(yes) gold sentences {p[0]}, retrieved {p[1]}"
              f"{'' if row['retrieved']['gold_shown'] else ' (gold not retrieved)'}  {it.question}", flush=True)
        rows.append(row)
    return rows


def decide_at(p: float | None, hi: float, lo: float) -> str | None:
    if p is None:
        return None
    return "yes" if p >= hi else "no" if p <= lo else None


def summary(rows: list[dict], mode: str, hi: float, lo: float) -> dict:
    n = len(rows)
    answers = [decide_at(r[mode]["p_yes"], hi, lo) for r in rows]
    right = sum(a == r["expected"] for a, r in zip(answers, rows))
    undecided = sum(a is None for a in answers)
    secs = sorted(r[mode]["seconds"] for r in rows)
    return {"n": n, "right": right, "accuracy": round(right / n, 3) if n else None,
            "undecided": undecided, "undecided_rate": round(undecided / n, 3) if n else None,
            "wrong": n - right - undecided, "seconds_p50": secs[n // 2] if n else None,
            "seconds_mean": round(sum(secs) / n, 3) if n else None}


def sweep(rows: list[dict], mode: str) -> list[dict]:
    """Accuracy (undecided = wrong) for single thresholds and symmetric bands around them."""
    out = []
    for hi, lo in [(t / 100, t / 100) for t in range(20, 100, 5)] + [(0.6, 0.4), (0.7, 0.3), (0.8, 0.2)]:
        s = summary(rows, mode, hi, lo)
        out.append({"hi": hi, "lo": lo, "accuracy": s["accuracy"], "undecided": s["undecided"]})
    return out


def markdown(results: dict) -> str:
    hi, lo = results["hi"], results["lo"]
    lines = [
        "# Yes/no decisions (`assistant.stages.yesno`)", "",
        f"Model {results['model']}; thresholds hi={hi}, lo={lo} (P(yes) ≥ hi: yes, ≤ lo: no, between: undecided, "
        "counted as wrong). *gold*: the model sees the gold sentences; *retrieved*: the sentences of the passages "
        "the product's condense → retrieve → context stages would show it. All sets are dev data.", "",
        f"Command: `{results['command']}`", "",
        "| set | evidence | n | right | accuracy | undecided | wrong | gold sentence shown | s/decision p50 |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, s in results["sets"].items():
        for mode in ("gold", "retrieved"):
            m = s[mode]
            shown = s.get("gold_shown", "") if mode == "retrieved" else ""
            lines.append(f"| {name} | {mode} | {m['n']} | {m['right']} | {m['accuracy']} | {m['undecided']} | "
                         f"{m['wrong']} | {shown} | {m['seconds_p50']} |")
    lines += ["", "Accuracy of other thresholds on all items (undecided = wrong):", "",
              "| hi | lo | gold | retrieved |", "| ---: | ---: | ---: | ---: |"]
    for g, r in zip(results["sweep"]["gold"], results["sweep"]["retrieved"]):
        lines.append(f"| {g['hi']} | {g['lo']} | {g['accuracy']} ({g['undecided']} und.) | "
                     f"{r['accuracy']} ({r['undecided']} und.) |")
    wrong = [r for r in results["rows"] if decide_at(r["retrieved"]["p_yes"], hi, lo) != r["expected"]]
    lines += ["", "Wrong or undecided with retrieved sentences:", ""]
    lines += [f"- {r['id']} (expected {r['expected']}, P(yes) {r['retrieved']['p_yes']}"
              f"{'' if r['retrieved']['gold_shown'] else ', gold sentence not retrieved'}): {r['question']}"
              for r in wrong] or ["- none"]
    lines += ["", "## Machine", "", common.machine_md(results["machine"])]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.yesno", description=__doc__.split("\n\n")[0])
    ap.add_argument("--sets", nargs="+", default=list(SETS), choices=SETS)
    ap.add_argument("--model", default=None, help="llm.model (default: the settings' default, the 1.5B GGUF)")
    ap.add_argument("--hi", type=float, default=None, help="P(yes) at or above: yes (default: assistant.stages.yesno.HI)")
    ap.add_argument("--lo", type=float, default=None, help="P(yes) at or below: no (default: assistant.stages.yesno.LO)")
    ap.add_argument("--cache-dir", default=None, help="model and index cache (default: the settings')")
    ap.add_argument("--limit", type=int, default=None, help="at most this many questions per set; writes nothing")
    ap.add_argument("--name", default="yesno", help="results file name (default: yesno)")
    args = ap.parse_args(argv)

    from assistant import Assistant
    from assistant.settings import Settings
    from assistant.stages.yesno import HI, LO, YesNoDecider, embedder_similarity

    hi, lo = args.hi if args.hi is not None else HI, args.lo if args.lo is not None else LO
    over = {"llm.model": args.model} if args.model else {}
    cache = Path(args.cache_dir or Settings().paths.cache_dir).expanduser()
    if args.cache_dir:
        over["paths.cache_dir"] = str(cache)
    loaders = {"seed": seed_items, "xquad": xquad_items, "news": news_items}
    results: dict = {"command": " ".join(["python -m benchmarks.yesno", *(argv if argv is not None else sys.argv[1:])]),
                     "hi": hi, "lo": lo, "sets": {}, "rows": []}
    llm = None
    for name in args.sets:
        items = loaders[name]()[: args.limit]
        if not items:
            print(f"[{name}] no items, skipped", flush=True)
            continue
        settings, store = open_index("seed" if name == "seed" else "public", cache, over)
        assistant = Assistant(settings, store=store, llm=llm)
        llm = assistant.llm
        results["model"] = settings.llm.model
        decider = YesNoDecider(llm, hi=hi, lo=lo, similarity=embedder_similarity(store.embedder))
        decider.warm_up()
        print(f"[{name}] {len(items)} questions", flush=True)
        rows = run_set(items, assistant, decider)
        results["rows"] += rows
        results["sets"][name] = {mode: summary(rows, mode, hi, lo) for mode in ("gold", "retrieved")}
        results["sets"][name]["gold_shown"] = sum(r["retrieved"]["gold_shown"] for r in rows)
        results["machine"] = common.machine(settings)
    rows = results["rows"]
    results["sets"]["all"] = {mode: summary(rows, mode, hi, lo) for mode in ("gold", "retrieved")}
    results["sets"]["all"]["gold_shown"] = sum(r["retrieved"]["gold_shown"] for r in rows)
    results["sweep"] = {mode: sweep(rows, mode) for mode in ("gold", "retrieved")}
    md = markdown(results)
    if args.limit:
        print(md)
        return 0
    common.save(args.name, results, md)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
