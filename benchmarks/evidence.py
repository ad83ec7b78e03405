"""Evidence shown to the model: is the sentence that answers the question among the sentences the
context stage puts into the prompt?

Corpus: the 240 German XQuAD paragraphs + the 1,028 German 10kGNAD news articles as distractors
(``benchmarks/common.py``), ingested once through ``Store.ingest`` into a kept index (a re-run
skips the ingest). Questions: the 1,190 German XQuAD questions and their English originals, over the
German corpus. Gold: XQuAD-R's ``sentence_breaks`` give the sentence(s) of the paragraph covering the
answer span, plus any other sentence that repeats the answer (as ``evals.datasets`` reads them).

For each question the product's retriever returns ``retrieval.k`` hits and ``ContextBuilder``
chooses what the model sees, once per ``answering.evidence_selection``. A question counts when a
retrieved chunk holds a gold sentence; it is a success when a shown passage holds one too. Both
halves by XQuAD topic (``evals.splits``: dev to tune, test reported once).

    assistant bench evidence                      # old vs new on dev and test, variants on dev; writes results/evidence.*
    assistant bench evidence --sweep              # only the variants, on the dev half; writes nothing
    assistant bench evidence --limit 30 --split dev   # a quick run: 30 paragraphs, 150 distractors, own index
"""

from __future__ import annotations

import argparse
import json
import pickle
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from . import common, splits

SPLITS = ("dev", "test")
LANGS = ("de", "en")
XQUAD_R_DE = common.DATA / "xquad-r" / "de.json"
TARGET = 0.95


def split_of(topic: str) -> str:
    """The half of an XQuAD topic."""
    return splits.split_of("xquad", topic)


def answer_sentences(path: Path = XQUAD_R_DE) -> dict[str, tuple[str, ...]]:
    """question id -> the sentence(s) covering its answer span, then other sentences repeating the
    answer (the rule of ``evals.datasets._xquad_r_sentences``; the tests check they agree)."""
    out: dict[str, tuple[str, ...]] = {}
    for art in json.loads(path.read_text(encoding="utf-8"))["data"]:
        for par in art["paragraphs"]:
            ctx, breaks = par["context"], par["sentence_breaks"]
            for qa in par["qas"]:
                a = qa["answers"][0]
                first, last = a["answer_start"], a["answer_start"] + max(len(a["text"]), 1) - 1
                covering = [(s, e) for s, e in breaks if s <= last and first < e]
                if not covering:
                    continue
                spans = [ctx[covering[0][0] : covering[-1][1]].strip()]
                spans += [ctx[s:e].strip() for s, e in breaks if a["text"] in ctx[s:e] and (s, e) not in covering]
                out[qa["id"]] = tuple(dict.fromkeys(sp for sp in spans if sp))
    return out


def german_answers(path: Path = XQUAD_R_DE) -> dict[str, str]:
    return {qa["id"]: qa["answers"][0]["text"] for art in json.loads(path.read_text(encoding="utf-8"))["data"]
            for par in art["paragraphs"] for qa in par["qas"]}


def norm(text: str) -> str:
    return " ".join(text.split())


@dataclass
class Item:
    """One question with what the retriever found for it."""

    lang: str
    qid: str
    text: str
    topic: str
    split: str
    golds: tuple[str, ...]
    answer: str
    hits: list = field(default_factory=list, repr=False)
    article: str = ""  # the product's id of the gold paragraph's article
    title: str = ""  # the gold paragraph's headline (its first sentence, common.py)

    @property
    def eligible(self) -> bool:
        """A retrieved chunk holds a gold sentence."""
        return any(g in norm(h.text) for h in self.hits for g in self.golds)

    @property
    def why_not(self) -> str:
        """Why a question is not eligible: its answer sentence is the headline, another chunk of its
        article was retrieved (``retrieval.per_article``), or its article was not retrieved."""
        if self.eligible:
            return ""
        if any(g in norm(self.title) or norm(self.title).rstrip(".") in g for g in self.golds):
            return "headline"
        if any(h.chunk.article_id == self.article for h in self.hits):
            return "other_chunk"
        return "article_missed"


class Memo:
    """An embedder that remembers every vector it made (kept on disk between runs); ``view`` keeps
    only the first model's part of a fused vector (e5 alone)."""

    def __init__(self, inner, path: Path | None = None):
        self.inner, self.path, self.name = inner, path, inner.name
        self.vectors: dict[tuple[str, str], np.ndarray] = {}
        if path is not None and path.exists():
            self.vectors = pickle.loads(path.read_bytes())
        self.saved = len(self.vectors)

    def __getattr__(self, attr):  # score_scale, primary_similarity of a fused embedder
        return getattr(self.inner, attr)

    def embed(self, texts, kind="passage"):
        todo = list(dict.fromkeys(t for t in texts if (kind, t) not in self.vectors))
        if todo:
            for t, v in zip(todo, self.inner.embed(todo, kind)):
                self.vectors[(kind, t)] = np.asarray(v, dtype=np.float32)
        return np.stack([self.vectors[(kind, t)] for t in texts]) if texts else self.inner.embed([], kind)

    def prefetch(self, texts: list[str], kind: str = "passage", batch: int = 256) -> None:
        """Embed the texts not yet remembered, in large batches, saving after each."""
        todo = list(dict.fromkeys(t for t in texts if (kind, t) not in self.vectors))
        for i in range(0, len(todo), batch):
            self.embed(todo[i : i + batch], kind)
            self.save()
            print(f"  embedded {min(i + batch, len(todo))}/{len(todo)} {kind} texts", flush=True)

    def save(self) -> None:
        if self.path is not None and len(self.vectors) > self.saved:
            self.path.write_bytes(pickle.dumps(self.vectors))
            self.saved = len(self.vectors)


class FirstModel:
    """Scores by the first model of a fused embedder alone (e5's cosine)."""

    def __init__(self, memo: Memo, dim: int = 384):
        self.memo, self.dim, self.name = memo, dim, memo.name + "[first]"

    def embed(self, texts, kind="passage"):
        v = self.memo.embed(texts, kind)[:, : self.dim]
        return v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)


def open_index(args):
    """(store, settings, memo, records, questions by language, XQuAD topic titles) over the kept index."""
    from vectorstore import open_store
    from vectorstore.embedder import make_embedder

    paragraphs, q_de, q_en = common.xquad()
    news = common.gnad()
    if args.limit:
        paragraphs, news = paragraphs[: args.limit], news[: 5 * args.limit]
    default = Path(args.cache_dir or common.settings_for(Path("."), None).paths.cache_dir) / "bench-evidence-index"
    index_dir = args.index_dir or (default.with_name(default.name + f"-limit{args.limit}") if args.limit else default)
    settings = common.settings_for(index_dir, args.cache_dir)
    e = settings.embedding
    inner = make_embedder(e.model, cache_dir=Path(settings.paths.cache_dir), quantize=e.quantize,
                          batch_size=e.batch_size, threads=e.threads, second_weight=e.second_weight)
    memo = Memo(inner, index_dir / "evidence-vectors.pkl")
    store = open_store(settings, embedder=memo)
    corpus = index_dir / "corpus"
    common.write_jsonl(corpus / "xquad.jsonl", paragraphs)
    common.write_jsonl(corpus / "10kgnad.jsonl", news)
    t0 = time.perf_counter()
    report = store.ingest([corpus])
    print(f"ingest ({time.perf_counter() - t0:.0f} s): {report.summary()}", flush=True)
    if report.failed:
        raise SystemExit(f"ingest failed for {len(report.failed)} records, e.g. {report.failed[0]}")
    memo.save()
    keep = {p["id"] for p in paragraphs}
    questions = {"de": [q for q in q_de if q.gold in keep], "en": [q for q in q_en if q.gold in keep]}
    topics = [a["title"] for a in json.loads(common.XQUAD_EN.read_text(encoding="utf-8"))["data"]]
    articles = common.article_ids(store, corpus / "xquad.jsonl", paragraphs)
    titles = {p["id"]: p["title"] for p in paragraphs}
    return store, settings, memo, index_dir, questions, topics, (articles, titles)


def retrieve(store, settings, index_dir: Path, questions, topics, splits: tuple[str, ...], gold: tuple[dict, dict]) -> list[Item]:
    """Every question of the wanted halves with its ``retrieval.k`` hits (cached beside the index)."""
    golds, answers = answer_sentences(), german_answers()
    k = settings.retrieval.k
    cache_path = index_dir / f"evidence-hits-k{k}.pkl"
    cache = pickle.loads(cache_path.read_bytes()) if cache_path.exists() else {}
    key = (store.stats()["chunks"], json.dumps(settings.retrieval.model_dump(), sort_keys=True))
    if cache.get("key") != key:
        cache = {"key": key, "hits": {}}
    items = []
    for lang in LANGS:
        for q in questions[lang]:
            topic = topics[q.group]
            if split_of(topic) not in splits or q.id not in golds:
                continue
            hits = cache["hits"].get((lang, q.id))
            if hits is None:
                hits = cache["hits"][(lang, q.id)] = store.search(q.text, k=k)
            items.append(Item(lang, q.id, q.text, topic, split_of(topic), tuple(norm(g) for g in golds[q.id]),
                              norm(answers[q.id]), hits, gold[0][q.gold], gold[1][q.gold]))
    cache_path.write_bytes(pickle.dumps(cache))
    return items


@dataclass
class Outcome:
    eligible: bool
    shown: bool
    answer_shown: bool
    text_tokens: int
    context_tokens: int
    passages: int
    shared_chunk: bool  # two passages cut from one chunk (they share its id)


def run(builder, items: list[Item]) -> list[Outcome]:
    from assistant.types import Condensed, Query, Retrieved
    from vectorstore.chunker import count_tokens

    out = []
    for it in items:
        ctx = builder(Retrieved(Condensed(Query(it.text, it.lang), it.text), it.hits))
        shown = [norm(p.text) for p in ctx.passages]
        out.append(Outcome(
            eligible=it.eligible, shown=any(g in t for g in it.golds for t in shown),
            answer_shown=any(it.answer in t for t in shown) or any(it.answer in norm(p.title) for p in ctx.passages),
            text_tokens=sum(count_tokens(p.text) for p in ctx.passages), context_tokens=count_tokens(ctx.text),
            passages=len(ctx.passages), shared_chunk=len({p.chunk.id for p in ctx.passages}) < len(ctx.passages),
        ))
    return out


def summary(outcomes: list[Outcome], items: list[Item]) -> dict:
    """Per language and half: eligible questions, answer sentence shown among them, and costs."""
    out: dict = {}
    for lang in LANGS:
        for split in SPLITS:
            rows = [o for o, it in zip(outcomes, items) if it.lang == lang and it.split == split]
            if not rows:
                continue
            el = [o for o in rows if o.eligible]
            why = [it.why_not for it in items if it.lang == lang and it.split == split]
            out.setdefault(lang, {})[split] = {
                "questions": len(rows), "eligible": len(el),
                "not_eligible": {w: why.count(w) for w in ("headline", "other_chunk", "article_missed")}, "shown": sum(o.shown for o in el),
                "ratio": round(sum(o.shown for o in el) / max(1, len(el)), 4),
                "answer_text_shown_all": round(sum(o.answer_shown for o in rows) / len(rows), 4),
                "mean_text_tokens": round(float(np.mean([o.text_tokens for o in rows])), 1),
                "mean_context_tokens": round(float(np.mean([o.context_tokens for o in rows])), 1),
                "max_text_tokens": max(o.text_tokens for o in rows),
                "mean_passages": round(float(np.mean([o.passages for o in rows])), 2),
                "shared_chunk": sum(o.shared_chunk for o in rows),
            }
    return out


def timing(memo: Memo, settings, items: list[Item], n: int) -> dict:
    """Seconds the context stage takes per question with the real embedder (no memo): sentences are
    embedded afresh, the question's vector comes from the embedder's cache as after a search."""
    from assistant.types import Condensed, Query, Retrieved

    out = {}
    sample = items[:: max(1, len(items) // n)][:n]
    for selection in ("passages", "sentences"):
        builder = builder_for(memo, settings, selection, embedder=memo.inner)
        seconds = []
        for it in sample:
            memo.inner.embed([it.text], "query")
            t0 = time.perf_counter()
            builder(Retrieved(Condensed(Query(it.text, it.lang), it.text), it.hits))
            seconds.append(time.perf_counter() - t0)
        out[selection] = {"n": len(seconds), "p50_s": round(float(np.percentile(seconds, 50)), 3),
                          "p95_s": round(float(np.percentile(seconds, 95)), 3)}
    return out


def builder_for(memo: Memo, settings, selection: str, params=None, embedder=None):
    from assistant.stages.context import ContextBuilder

    a = settings.answering
    return ContextBuilder(embedder or memo, a.context_passages, a.passage_max_tokens, selection=selection, params=params)


def sweep_variants(memo: Memo) -> dict:
    """The variants the dev half compares: name -> (selection, Params, embedder). The defaults of
    ``assistant.stages.select.Params`` were chosen from these (and an earlier, wider sweep: a bonus by hit rank
    instead of hit score, and a score margin that stops filling the budget, both measured lower)."""
    from dataclasses import replace

    from assistant.stages.select import Params

    base = Params()
    out = {"passages (old)": ("passages", None, None), "sentences (default)": ("sentences", base, None)}
    for hw in (0.0, 0.5, 1.5, 2.0):
        out[f"hit_weight {hw}"] = ("sentences", replace(base, hit_weight=hw), None)
    for w in (0.2, 0.5):
        for prev in (False, True):
            out[f"neighbour {w}, bring_previous {prev}"] = ("sentences", replace(base, neighbour=w, bring_previous=prev), None)
    out["bring_previous True"] = ("sentences", replace(base, bring_previous=True), None)
    out["hit_weight 0, neighbour 0.5"] = ("sentences", replace(base, hit_weight=0.0, neighbour=0.5), None)
    out["headers not counted (text budget only)"] = ("sentences", replace(base, headers=False), None)
    out["e5 alone (no USE)"] = ("sentences", base, FirstModel(memo))
    return out


def coverage(rows: dict[str, dict]) -> str:
    """Which questions count: the answer sentence in a retrieved chunk, or why not."""
    lines = ["| lang | half | questions | answer sentence in a retrieved chunk | it is the headline | another chunk of its "
             "article was retrieved | its article was not retrieved |", "| --- | --- | ---: | ---: | ---: | ---: | ---: |"]
    for lang, halves in next(iter(rows.values())).items():
        for split, m in halves.items():
            w = m["not_eligible"]
            lines.append(f"| {lang} | {split} | {m['questions']} | {m['eligible']} ({m['eligible'] / m['questions']:.3f}) | "
                         f"{w['headline']} | {w['other_chunk']} | {w['article_missed']} |")
    return "\n".join(lines)


def table(rows: dict[str, dict]) -> str:
    lines = ["| selection | lang | half | eligible | shown | ratio | answer text shown (all) | text tokens | context tokens | passages |",
             "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for name, s in rows.items():
        for lang, halves in s.items():
            for split, m in halves.items():
                lines.append(f"| {name} | {lang} | {split} | {m['eligible']} | {m['shown']} | {m['ratio']:.3f} | "
                             f"{m['answer_text_shown_all']:.3f} | {m['mean_text_tokens']} (max {m['max_text_tokens']}) | "
                             f"{m['mean_context_tokens']} | {m['mean_passages']} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="assistant bench evidence", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--limit", type=int, default=0, help="only the first N XQuAD paragraphs and 5N distractors (own index); writes nothing")
    ap.add_argument("--split", choices=("dev", "test", "both"), default="both", help="which half (default both)")
    ap.add_argument("--sweep", action="store_true", help="only the selection variants, on the dev half; writes nothing")
    ap.add_argument("--no-sweep", action="store_true", help="skip the variants on the dev half")
    ap.add_argument("--timing", type=int, default=40, help="dev questions whose context stage is timed with the real embedder (0: none)")
    ap.add_argument("--index-dir", type=Path, help="the kept index (default: <cache_dir>/bench-evidence-index)")
    ap.add_argument("--cache-dir", type=Path, help="model cache (paths.cache_dir); default: from settings")
    ap.add_argument("--no-write", action="store_true", help="print, do not write results/evidence.*")
    args = ap.parse_args(argv)
    splits = ("dev",) if args.sweep or args.split == "dev" else ("test",) if args.split == "test" else SPLITS
    t0 = time.perf_counter()
    store, settings, memo, index_dir, questions, topics, gold = open_index(args)
    try:
        items = retrieve(store, settings, index_dir, questions, topics, splits, gold)
        dev = [it for it in items if it.split == "dev"]
        print(f"{len(items)} questions, {sum(it.eligible for it in items)} with a gold sentence in the top "
              f"{settings.retrieval.k} ({time.perf_counter() - t0:.0f} s)", flush=True)
        from vectorstore.text import sentence_spans

        memo.prefetch([it.text for it in items], "query")
        memo.prefetch([h.text[sp.start : sp.end] for it in items for h in it.hits for sp in sentence_spans(h.text)])
        compare = {"passages": ("passages", None, None), "sentences": ("sentences", None, None)}
        rows = {} if args.sweep else evaluate(memo, settings, compare, items)
        sweep = evaluate(memo, settings, sweep_variants(memo), dev) if (args.sweep or not args.no_sweep) and dev else {}
        times = timing(memo, settings, dev, args.timing) if args.timing and dev and not args.sweep else None
    finally:
        memo.save()
        store.close()
    for title, r in (("old and new", rows), ("variants, dev half", sweep)):
        if r:
            print(f"\n{title}\n" + coverage(r) + "\n\n" + table(r))
    if times:
        print("context stage seconds per question:", json.dumps(times))
    if args.sweep or args.no_write or args.limit:
        return 0
    write(argv, settings, rows, sweep, times, seconds=time.perf_counter() - t0)
    return 0


def evaluate(memo: Memo, settings, variants: dict, items: list[Item]) -> dict:
    rows = {}
    for name, (selection, params, embedder) in variants.items():
        rows[name] = summary(run(builder_for(memo, settings, selection, params, embedder), items), items)
        print(f"{name}: " + "; ".join(f"{lang} {sp} {m['ratio']:.3f} ({m['shown']}/{m['eligible']}), {m['mean_context_tokens']} tok"
                                     for lang, h in rows[name].items() for sp, m in h.items()), flush=True)
    return rows


def write(argv, settings, rows: dict, sweep: dict, times: dict | None, seconds: float) -> None:
    from assistant.stages.select import Params

    data = {
        "machine": common.machine(settings),
        "command": "assistant bench evidence " + " ".join(argv or []),
        "answering": {k: v for k, v in settings.answering.model_dump(mode="json").items()
                      if k in ("context_passages", "passage_max_tokens", "evidence_selection")},
        "retrieval": {k: v for k, v in settings.retrieval.model_dump(mode="json").items() if k in ("k", "mode", "per_article")},
        "selection_params": asdict(Params()),
        "target": TARGET,
        "results": rows,
        "sweep_dev": sweep,
        "context_stage_seconds": times,
        "seconds": round(seconds, 1),
    }
    common.save("evidence", data, render(data))


def headline(rows: dict) -> str:
    lines = ["| questions | half | eligible | `passages` (old) | `sentences` (new) |", "| --- | --- | ---: | ---: | ---: |"]
    for lang, halves in rows["sentences"].items():
        for split, m in halves.items():
            o = rows["passages"][lang][split]
            lines.append(f"| {lang}→de | {split} | {m['eligible']} | {o['ratio']:.3f} ({o['shown']}) | **{m['ratio']:.3f}** ({m['shown']}) |")
    return "\n".join(lines)


def verdict(rows: dict, target: float) -> str:
    cells = [(f"{lang} {split}", m["ratio"]) for lang, halves in rows.items() for split, m in halves.items()]
    met = [c for c, r in cells if r >= target]
    missed = [c for c, r in cells if r < target]
    return (f"met for {', '.join(met)}" if met else "met nowhere") + (f"; not met for {', '.join(missed)}." if missed else ".")


def render(d: dict) -> str:
    a, r = d["answering"], d["retrieval"]
    budget = a["context_passages"] * a["passage_max_tokens"]
    lines = [
        "# Evidence shown to the model (XQuAD-R)",
        "",
        f"Command: `{d['command'].strip()}`. Corpus: the 240 German XQuAD paragraphs + 1,028 German 10kGNAD "
        "news articles as distractors (`benchmarks/common.py`: a record's first sentence is its title); the "
        "German questions and their English originals, over that German corpus. The retriever returns "
        f"k = {r['k']} hits ({r['mode']}, at most {r['per_article']} chunk per article); the context stage may show "
        f"{budget} tokens of article text ({a['context_passages']} × {a['passage_max_tokens']}, cl100k). A question is "
        "*eligible* when a retrieved chunk holds its answer sentence (XQuAD-R `sentence_breaks` covering the answer "
        "span, or another sentence repeating the answer, as `evals.datasets` reads them); the *ratio* is the share of "
        "eligible questions whose answer sentence is inside a passage shown to the model.",
        "",
        "- `passages` (old): the first 2 hits, each cut to ≤ 70 tokens around its sentence closest to the question.",
        f"- `sentences` (new, `answering.evidence_selection` default): the sentences of all {r['k']} hits ranked by "
        "similarity to the question (the store's e5 + USE vectors) plus the hit's retrieval score, taken best first "
        "while text ≤ the budget and text + headers ≤ the budget + the old 2 passages' headers (`assistant/stages/select.py`, "
        f"`{json.dumps(d['selection_params'])}`).",
        "",
        "Halves by XQuAD topic (`evals.splits`): every choice was made on dev; test was computed once, in this run.",
        "",
        headline(d["results"]),
        "",
        f"Target: ratio ≥ {d['target']} with `sentences`: " + verdict(d["results"]["sentences"], d["target"]),
        "",
        "## Which questions count",
        "",
        coverage(d["results"]),
        "",
        "## Costs and a looser measure",
        "",
        "Text tokens: article text shown (the budget); context tokens: the whole context block with its `[n] (title, "
        "date)` headers; answer text shown (all): the German gold answer string is in a shown passage or its title, "
        "over all questions (eligible or not).",
        "",
        table(d["results"]),
        "",
        context_times(d["context_stage_seconds"]),
    ]
    if d["sweep_dev"]:
        lines += ["", "## Variants on the dev half (how the defaults were chosen)", "",
                  "Each row changes one thing against the default (`hit_weight` 1.0, `neighbour` 0, `bring_previous` "
                  "off, headers counted). Earlier, wider sweeps on dev also tried a bonus by hit rank instead of hit "
                  "score (best 0.942 / 0.915 de / en) and a score margin that stops filling the budget (fewer tokens, "
                  "ratio 0.89-0.92); a first sentence longer than the budget is shown alone, as a trimmed passage was.",
                  "", table(d["sweep_dev"])]
    lines += ["", f"Whole run {d['seconds']} s.", "", "## Machine", "", common.machine_md(d["machine"])]
    return "\n".join(lines)


def context_times(t: dict | None) -> str:
    if not t:
        return ""
    return ("Context stage per question with the real embedder (its sentences embedded afresh, the question's "
            "vector cached as after the search), p50 / p95: " + "; ".join(
                f"`{k}` {v['p50_s']} / {v['p95_s']} s (n = {v['n']})" for k, v in t.items())
            + ". The machine was shared with other jobs; see the load average below.")


if __name__ == "__main__":
    raise SystemExit(main())
