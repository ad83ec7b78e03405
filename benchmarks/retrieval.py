"""Retrieval quality: recall@1/5/10 and MRR of dense, lexical and hybrid search, German and English
questions against a German corpus.

Corpus: the 240 German XQuAD paragraphs plus the 1,028 German 10kGNAD news articles as distractors,
ingested once through ``open_store(...).ingest`` into a temporary index. Questions: the 1,190 German
XQuAD questions and their English originals (same ids); the gold is the paragraph the question was
written on, and a hit counts when the retrieved chunk belongs to it. The questions are split by
XQuAD topic into a tuning half (even topics) and a held-out half (odd topics); fusion settings were
chosen on the tuning half only. MLQA de-de (512 questions over 456 native German paragraphs, added
to the same index afterwards) is a check set that played no part in tuning. Finally, dense recall
of the int8-quantised e5 is compared with fp32 e5 (exact cosine search over a corpus subset).

    .venv/bin/python -m benchmarks.retrieval            # full run, writes benchmarks/results/retrieval.*
    .venv/bin/python -m benchmarks.retrieval --quick    # smoke run on a small subset, writes nothing
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from . import common
from .common import Question

MODES = ("dense", "lexical", "hybrid")
KS = (1, 5, 10)
REFERENCE = {  # R@5 (de, en) measured by the CEO on the same question set
    "e5-small alone": (0.969, 0.943),
    "USE multilingual alone": (0.911, 0.913),
    "BM25 alone": (0.935, 0.387),
    "plain RRF e5 + BM25": (0.964, 0.627),
}
TARGET = {"de": 0.98, "en": 0.97}


class QueryMemo:
    """Wraps an embedder and remembers query vectors, so the same question costs one embedding
    across the three search modes. Passages pass straight through."""

    def __init__(self, inner):
        self.inner = inner
        self.name = inner.name
        self._memo: dict[str, np.ndarray] = {}

    def __getattr__(self, attr):  # score_scale, primary_similarity of a fused embedder
        return getattr(self.inner, attr)

    def embed(self, texts, kind="passage"):
        if kind != "query" or len(texts) != 1:
            return self.inner.embed(texts, kind)
        v = self._memo.get(texts[0])
        if v is None:
            v = self._memo[texts[0]] = self.inner.embed(texts, kind)
        return v


def first_gold_rank(hits, gold_article: str) -> int | None:
    for i, h in enumerate(hits, 1):
        if h.chunk.article_id == gold_article:
            return i
    return None


def metrics(ranks: list[int | None]) -> dict:
    n = len(ranks)
    out = {f"recall@{k}": round(sum(1 for r in ranks if r is not None and r <= k) / n, 4) for k in KS}
    out["mrr@10"] = round(sum(1.0 / r for r in ranks if r is not None and r <= 10) / n, 4)
    out["n"] = n
    return out


def evaluate(store, questions: list[Question], gold: dict[str, str], mode: str) -> tuple[list[int | None], float]:
    """Rank of the gold paragraph per question (None if not in the top 10), and mean ms per search."""
    ranks: list[int | None] = []
    t0 = time.perf_counter()
    for q in questions:
        hits = store.search(q.text, k=10, mode=mode)
        ranks.append(first_gold_rank(hits, gold[q.gold]))
    return ranks, 1000 * (time.perf_counter() - t0) / max(1, len(questions))


def fp32_check(store, indexed, settings, questions: dict[str, list[Question]], gold: dict[str, str], keep: set[str], quick: bool) -> dict:
    """Dense recall of int8 vs fp32 e5 by exact cosine search over the chunks of the articles in
    ``keep``: the index's own vectors for the configured variant, fresh ones for the other."""
    from vectorstore.embedder import make_embedder

    e = settings.embedding
    other = make_embedder(e.model, cache_dir=Path(settings.paths.cache_dir), quantize=not e.quantize,
                          batch_size=e.batch_size, threads=e.threads, second_weight=e.second_weight)
    chunks = [c for c in store.catalog.chunks(store.catalog.chunk_ids()).values() if c.article_id in keep]
    ids = [c.id for c in chunks]
    got = store.dense._col.get(ids=ids, include=["embeddings"])
    by_id = dict(zip(got["ids"], np.asarray(got["embeddings"], dtype=np.float32)))
    v_indexed = np.stack([by_id[i] for i in ids])
    t0 = time.perf_counter()
    v_other = other.embed([c.embedding_text() for c in chunks], "passage")
    seconds = time.perf_counter() - t0
    variants = {"int8": (indexed, v_indexed), "fp32": (other, v_other)} if e.quantize else {"int8": (other, v_other), "fp32": (indexed, v_indexed)}
    article_of = np.array([c.article_id for c in chunks])
    out: dict = {"chunks": len(chunks), "articles": len(keep), "other_variant_embed_seconds": round(seconds, 1), "languages": {}}
    for lang, qs in questions.items():
        res = {}
        for name, (emb, vecs) in variants.items():
            q = np.concatenate([emb.embed([x.text], "query") for x in qs])
            top = np.argsort(-(q @ vecs.T), axis=1)[:, :10]
            ranks = []
            for row, x in zip(top, qs):
                hit = np.nonzero(article_of[row] == gold[x.gold])[0]
                ranks.append(int(hit[0]) + 1 if len(hit) else None)
            res[name] = metrics(ranks)
        res["delta_recall@5_points"] = round(100 * (res["int8"]["recall@5"] - res["fp32"]["recall@5"]), 2)
        out["languages"][lang] = res
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.retrieval", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="smoke run: 40 paragraphs, 100 distractors; writes no result files")
    ap.add_argument("--index-dir", type=Path, help="keep the index here (re-runs then skip the ingest); default: a temp dir")
    ap.add_argument("--cache-dir", type=Path, help="model cache (paths.cache_dir); default: from settings")
    ap.add_argument("--no-mlqa", action="store_true", help="skip the MLQA check set")
    ap.add_argument("--no-fp32", action="store_true", help="skip the int8-vs-fp32 comparison")
    args = ap.parse_args(argv)

    from vectorstore import open_store
    from vectorstore.embedder import make_embedder

    t_start = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix="newsqa-bench-"))
    index_dir = args.index_dir or tmp / "index"
    settings = common.settings_for(index_dir, args.cache_dir)
    e = settings.embedding
    embedder = QueryMemo(make_embedder(e.model, cache_dir=Path(settings.paths.cache_dir), quantize=e.quantize,
                                       batch_size=e.batch_size, threads=e.threads, second_weight=e.second_weight))
    store = open_store(settings, embedder=embedder)
    try:
        paragraphs, q_de, q_en = common.xquad()
        news = common.gnad()
        if args.quick:
            paragraphs, news = paragraphs[:40], news[:100]
            keep = {p["id"] for p in paragraphs}
            q_de, q_en = [q for q in q_de if q.gold in keep], [q for q in q_en if q.gold in keep]
        corpus_dir = (args.index_dir or tmp) / "corpus"
        files = [common.write_jsonl(corpus_dir / "xquad.jsonl", paragraphs), common.write_jsonl(corpus_dir / "10kgnad.jsonl", news)]
        mlqa_dir = (args.index_dir or tmp) / "corpus-mlqa"
        if (mlqa_dir / "mlqa.jsonl").exists():
            # A kept index from an earlier run: drop the MLQA paragraphs so XQuAD sees its own corpus.
            (mlqa_dir / "mlqa.jsonl").unlink()
            print("dropped MLQA from the kept index:", store.ingest([mlqa_dir]).summary(), flush=True)
        reused = store.stats()["chunks"] > 0
        report = store.ingest([corpus_dir])
        print("ingest:", report.summary(), flush=True)
        if report.failed:
            raise SystemExit(f"ingest failed for {len(report.failed)} records, e.g. {report.failed[0]}")
        gold = common.article_ids(store, files[0], paragraphs)
        stats = store.stats()

        questions = {"de": q_de, "en": q_en}
        results: dict = {}
        latency: dict = {}
        for lang, qs in questions.items():
            for mode in MODES:
                ranks, ms = evaluate(store, qs, gold, mode)
                tune = [r for r, q in zip(ranks, qs) if q.group % 2 == 0]
                held = [r for r, q in zip(ranks, qs) if q.group % 2 == 1]
                results.setdefault(lang, {})[mode] = {"all": metrics(ranks), "tuning_half": metrics(tune), "held_out_half": metrics(held)}
                latency.setdefault(lang, {})[mode] = round(ms, 1)
                m = results[lang][mode]["all"]
                print(f"{lang} {mode:8s} R@1 {m['recall@1']:.3f} R@5 {m['recall@5']:.3f} R@10 {m['recall@10']:.3f} "
                      f"MRR {m['mrr@10']:.3f}  ({ms:.0f} ms/query)", flush=True)

        mlqa_res: dict | None = None
        if not args.no_mlqa:
            m_pars, m_q = common.mlqa()
            if args.quick:
                m_pars = m_pars[:40]
                keep = {p["id"] for p in m_pars}
                m_q = [q for q in m_q if q.gold in keep]
            mfile = common.write_jsonl(mlqa_dir / "mlqa.jsonl", m_pars)
            print("ingest MLQA:", store.ingest([mlqa_dir]).summary(), flush=True)
            m_gold = common.article_ids(store, mfile, m_pars)
            mlqa_res = {}
            for mode in MODES:
                ranks, _ = evaluate(store, m_q, m_gold, mode)
                mlqa_res[mode] = metrics(ranks)
                m = mlqa_res[mode]
                print(f"mlqa {mode:8s} R@1 {m['recall@1']:.3f} R@5 {m['recall@5']:.3f} R@10 {m['recall@10']:.3f} MRR {m['mrr@10']:.3f}", flush=True)

        quant: dict | None = None
        if not args.no_fp32 and e.model == "e5-small":
            # fp32 over the whole corpus would double the run time; the XQuAD paragraphs plus every
            # fourth news article keep the comparison honest (same chunks, same questions for both).
            keep = set(gold.values()) | set(common.article_ids(store, files[1], news[:: 8 if not args.quick else 10]).values())
            quant = fp32_check(store, embedder, settings, questions, gold, keep, args.quick)
            for lang, r in quant["languages"].items():
                print(f"dense {lang} on {quant['chunks']} chunks: R@5 int8 {r['int8']['recall@5']:.3f} fp32 {r['fp32']['recall@5']:.3f}", flush=True)
    finally:
        store.close()
        shutil.rmtree(tmp, ignore_errors=True)

    total = time.perf_counter() - t_start
    data = {
        "machine": common.machine(settings),
        "corpus": {"xquad_paragraphs": len(paragraphs), "news_distractors": len(news), **stats,
                   "ingest_seconds": round(report.seconds, 1), "index_reused": reused, "title": "first sentence of each record (see common.py)"},
        "questions": {lang: len(qs) for lang, qs in questions.items()},
        "results": results,
        "search_ms_per_query_sequential": latency,
        "mlqa_de": mlqa_res,
        "int8_vs_fp32_dense": quant,
        "reference_recall@5_de_en": REFERENCE,
        "target_recall@5": TARGET,
        "peak_rss_mb": round(common.peak_rss_mb()),
        "seconds": round(total, 1),
        "quick": args.quick,
    }
    md = render(data)
    print(md)
    if args.quick:
        print("(--quick: result files not written)")
    else:
        common.save("retrieval", data, md)
    return 0


def render(d: dict) -> str:
    r = d["results"]
    lines = [
        "# Retrieval benchmark",
        "",
        f"Corpus: {d['corpus']['xquad_paragraphs']} German XQuAD paragraphs + {d['corpus']['news_distractors']} German "
        f"10kGNAD news articles as distractors = {d['corpus']['articles']} articles, {d['corpus']['chunks']} chunks "
        + ("(a kept index from an earlier run of this script, brought up to date by `Store.ingest`). " if d["corpus"].get("index_reused")
           else f"(ingested through `Store.ingest` in {d['corpus']['ingest_seconds']} s). ")
        + f"Questions: {d['questions']['de']} German "
        "(de→de) and the same number of parallel English ones (en→de). A hit is a retrieved chunk of the gold paragraph.",
        "",
        "| questions | mode | R@1 | R@5 | R@10 | MRR@10 | R@5 tuning half | R@5 held-out half |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for lang in r:
        for mode in MODES:
            a, t, h = r[lang][mode]["all"], r[lang][mode]["tuning_half"], r[lang][mode]["held_out_half"]
            lines.append(f"| {lang}→de | {mode} | {a['recall@1']:.3f} | {a['recall@5']:.3f} | {a['recall@10']:.3f} | "
                         f"{a['mrr@10']:.3f} | {t['recall@5']:.3f} | {h['recall@5']:.3f} |")
    lines += ["", f"Target for hybrid: R@5 ≥ {d['target_recall@5']['de']} (de) and ≥ {d['target_recall@5']['en']} (en). "
              "Reference R@5 (de / en) measured earlier on the same questions:"]
    lines += [f"- {name}: {de:.3f} / {en:.3f}" for name, (de, en) in d["reference_recall@5_de_en"].items()]
    if d["mlqa_de"]:
        lines += ["", "## Check set: MLQA de→de (512 questions, 456 paragraphs added to the same index; not used for tuning)", "",
                  "| mode | R@1 | R@5 | R@10 | MRR@10 |", "| --- | ---: | ---: | ---: | ---: |"]
        for mode in MODES:
            m = d["mlqa_de"][mode]
            lines.append(f"| {mode} | {m['recall@1']:.3f} | {m['recall@5']:.3f} | {m['recall@10']:.3f} | {m['mrr@10']:.3f} |")
    q = d["int8_vs_fp32_dense"]
    if q:
        lines += ["", f"## int8 dynamic quantisation vs fp32 (dense only, exact search over {q['chunks']} chunks of "
                  f"{q['articles']} articles: all XQuAD paragraphs + every 8th news article)", "",
                  "| questions | R@1 int8 | R@1 fp32 | R@5 int8 | R@5 fp32 | R@10 int8 | R@10 fp32 | ΔR@5 (points) |",
                  "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for lang, x in q["languages"].items():
            lines.append(f"| {lang}→de | {x['int8']['recall@1']:.3f} | {x['fp32']['recall@1']:.3f} | {x['int8']['recall@5']:.3f} | "
                         f"{x['fp32']['recall@5']:.3f} | {x['int8']['recall@10']:.3f} | {x['fp32']['recall@10']:.3f} | "
                         f"{x['delta_recall@5_points']:+.2f} |")
    lat = d["search_ms_per_query_sequential"]
    lines += ["", "Mean search time per query in this run (sequential, includes the query embedding once per question; "
              "see latency.md for percentiles): " + "; ".join(f"{lang} {m} {ms} ms" for lang in lat for m, ms in lat[lang].items()),
              "", f"Peak RSS {d['peak_rss_mb']} MB; whole run {d['seconds']} s.", "", "## Machine", "", common.machine_md(d["machine"])]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
