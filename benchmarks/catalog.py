"""The catalog on PostgreSQL against the SQLite one: retrieval quality, search latency and write
throughput, in one run.

Quality: the retrieval benchmark's corpus (240 German XQuAD paragraphs + 1,028 10kGNAD distractors)
and its 1,190 German and English questions; recall@1/5/10 and MRR of lexical and hybrid search with
either catalog. Both stores share one Chroma index (the dense side is the same object), so every
difference comes from the lexical side. Latency: p50/p95 of hybrid and lexical search on that corpus,
and again after both catalogs grew to ``--chunks`` chunks with synthetic articles (real 10kGNAD
sentences, shuffled) and Chroma with vectors for them (noisy copies of real news vectors: see
``synthetic_vectors``); there also PostgreSQL's rank budget against ranking every match. Throughput:
chunks written per second into each catalog (``add_pending`` + ``mark_done``, as an ingest writes
them), while copying the corpus and while growing.

PostgreSQL is not started here: give an empty database (``--catalog-url``), e.g. a throw-away cluster
as tests/servers.py makes one. ``--from-index`` copies a kept index of the same corpus (e.g. the one
``benchmarks.evidence`` keeps) instead of embedding it again (~10 minutes on 2 cores).

    .venv/bin/python -m benchmarks.catalog --catalog-url postgresql://newsqa@127.0.0.1:5432/bench
    .venv/bin/python -m benchmarks.catalog --catalog-url URL --quick   # 40 paragraphs, 5,000 chunks; writes nothing
"""

from __future__ import annotations

import argparse
import random
import shutil
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from . import common
from .retrieval import QueryMemo, evaluate, metrics

MODES = ("lexical", "hybrid")


def copy_catalog(src, dst) -> dict:
    """Write every done article of catalog ``src`` into catalog ``dst`` as an ingest would; the rate."""
    from vectorstore.types import Article

    chunks = src.chunks(src.chunk_ids())
    by_article: dict[str, list] = defaultdict(list)
    for c in chunks.values():
        by_article[c.article_id].append(c)
    for key in ("embedding_model", "embedding_dim"):
        if src.get_meta(key):
            dst.set_meta(key, src.get_meta(key))
    t0 = time.perf_counter()
    for a in src.articles():
        keys = a["sources"].split("\n")
        art = Article(keys[0], a["title"], src.article_text(a["article_id"]), a["date"], a["source"], a["url"], a["language"])
        assert art.id == a["article_id"], a["article_id"]
        dst.add_pending(art, sorted(by_article[art.id], key=lambda c: c.ordinal))
        dst.mark_done(art.id, keys[0], keys[0])
        for k in keys[1:]:
            dst.link_source(k, art.id, k)
    seconds = time.perf_counter() - t0
    return {"chunks": len(chunks), "seconds": round(seconds, 2), "chunks_per_s": round(len(chunks) / seconds)}


def synthetic_articles(rng: random.Random, start: int, n_chunks: int):
    """(Article, chunks) of synthetic German articles, six chunks each, from shuffled 10kGNAD sentences."""
    from vectorstore.chunker import sentence_spans
    from vectorstore.types import Article, Chunk

    texts = [r["text"] for r in common.gnad()]
    made, n = 0, start
    while made < n_chunks:
        pieces = []
        for _ in range(min(6, n_chunks - made)):
            t = rng.choice(texts)
            sents = [t[s.start : s.end] for s in sentence_spans(t)]
            rng.shuffle(sents)
            pieces.append(" ".join(sents[:5]))
        body = "\n\n".join(pieces)
        art = Article(f"synthetic#{n}", f"Synthetischer Artikel {n}", body, f"20{10 + n % 15:02d}-{1 + n % 12:02d}-01", "synthetic", None, "de")
        chunks, pos = [], 0
        for i, p in enumerate(pieces):
            begin = body.index(p, pos)
            pos = begin + len(p)
            chunks.append(Chunk(id=f"syn{n}-{i}", article_id=art.id, ordinal=i, text=p, start=begin, end=pos, meta=art.meta))
        yield art, chunks
        made += len(pieces)
        n += 1


def grow(catalogs: dict, target: int) -> dict:
    """Add the same synthetic articles to each catalog until it holds ``target`` chunks; write rates."""
    have = next(iter(catalogs.values())).counts()[1]
    batch = list(synthetic_articles(random.Random(11), 0, max(0, target - have)))
    out = {}
    for name, cat in catalogs.items():
        t0 = time.perf_counter()
        for art, chunks in batch:
            cat.add_pending(art, chunks)
            cat.mark_done(art.id, art.source_key, "synthetic")
        seconds = time.perf_counter() - t0
        n = sum(len(c) for _, c in batch)
        out[name] = {"chunks": n, "seconds": round(seconds, 1), "chunks_per_s": round(n / seconds) if seconds else None}
        print(f"grew {name} by {n} chunks in {seconds:.1f} s", flush=True)
    return out, batch


def synthetic_vectors(dense, like: list[str], n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` vectors near stored news vectors: each that of a random chunk of ``like`` plus Gaussian
    noise of half its length, scaled back to its length (cosine ~0.9 to it). Embedding 93k chunks
    would take hours here; these give Chroma's HNSW news-like neighbourhoods, not a uniform cloud."""
    base = np.concatenate([dense.vectors(like[i : i + 1000]) for i in range(0, len(like), 1000)])
    pick = base[rng.integers(0, len(base), n)]
    length = np.linalg.norm(pick, axis=1, keepdims=True)
    out = pick + rng.standard_normal(pick.shape).astype(np.float32) * (0.5 * length / np.sqrt(pick.shape[1]))
    return out * (length / np.linalg.norm(out, axis=1, keepdims=True))


def latencies(searches: dict, questions: list[str]) -> dict:
    """p50/p95 ms of each named search, taking turns question by question (one warm-up each), so
    that the shared machine's load falls on all of them alike."""
    times: dict = {name: [] for name in searches}
    for name, search in searches.items():
        search(questions[0])
    for q in questions:
        for name, search in searches.items():
            t0 = time.perf_counter()
            search(q)
            times[name].append(1000 * (time.perf_counter() - t0))
    return {name: {"p50_ms": round(float(np.percentile(t, 50)), 1), "p95_ms": round(float(np.percentile(t, 95)), 1), "n": len(t)}
            for name, t in times.items()}


def search_latencies(stores: dict, questions: list[str], scale: str) -> dict:
    """{store: {hybrid_<scale>, lexical_<scale>}}: k=5 hybrid searches and 100 lexical candidates."""
    lat = latencies({(name, kind): (lambda q, s=s: s.search(q, k=5)) if kind == "hybrid" else (lambda q, s=s: s.catalog.search(q, 100))
                     for name, s in stores.items() for kind in ("hybrid", "lexical")}, questions)
    return {name: {f"{kind}_{scale}": lat[(name, kind)] for kind in ("hybrid", "lexical")} for name in stores}


def budget_agreement(bounded, exact, questions: list[str]) -> dict:
    """How the PostgreSQL ranking within its budget compares with ranking every match: questions
    with the same top 5 (in order), and the share of the top 100 both return."""
    same, overlap = 0, []
    for q in questions:
        a, b = [c for c, _ in bounded.search(q, 100)], [c for c, _ in exact.search(q, 100)]
        same += a[:5] == b[:5]
        overlap.append(len(set(a) & set(b)) / max(1, len(b)))
    return {"same_top5": same, "questions": len(questions), "top100_overlap": round(float(np.mean(overlap)), 3)}


def at_scale(lite, pgs, fresh, like: list[str], target: int, questions: list[str], url: str) -> dict:
    """Grow both catalogs and Chroma to ``target`` chunks; lexical and hybrid latency there, and
    the PostgreSQL ranking's budget against ranking every match."""
    from vectorstore.catalog_pg import PgCatalog
    from vectorstore.store import Store

    grown, batch = grow({"sqlite": fresh, "postgres": pgs.catalog}, target)
    chunks = [c for _, cs in batch for c in cs]
    t0 = time.perf_counter()
    if chunks:
        lite.dense.upsert(chunks, synthetic_vectors(lite.dense, like, len(chunks), np.random.default_rng(11)))
    dense = {"chunks": len(chunks), "seconds": round(time.perf_counter() - t0, 1), "total": lite.dense.count()}
    print("Chroma grew:", dense, flush=True)
    out = search_latencies({"sqlite": Store(lite.settings, lite.embedder, lite.dense, fresh), "postgres": pgs}, questions, "scaled")
    exact = PgCatalog(url, rank_budget=10**9)
    every = latencies({"every": lambda q: exact.search(q, 100)}, questions)["every"]
    agreement = budget_agreement(pgs.catalog, exact, questions)
    exact.close()
    out["postgres"]["lexical_scaled_every_match"] = every
    return {"latency": out, "writes_growing": grown, "dense_growing": dense, "budget_agreement": agreement,
            "rank_budget": pgs.catalog.rank_budget}


def open_stores(args, tmp: Path):
    """(settings, the SQLite store, the PostgreSQL store sharing its Chroma index, corpus files, records)."""
    from vectorstore import open_store
    from vectorstore.catalog_pg import PgCatalog
    from vectorstore.embedder import make_embedder
    from vectorstore.store import Store

    index_dir = tmp / "index"
    if args.from_index:
        shutil.copytree(args.from_index, index_dir, ignore=shutil.ignore_patterns("ingest.lock", "corpus", "*.pkl"))
    settings = common.settings_for(index_dir, args.cache_dir)
    e = settings.embedding
    embedder = QueryMemo(make_embedder(e.model, cache_dir=Path(settings.paths.cache_dir), quantize=e.quantize,
                                       batch_size=e.batch_size, threads=e.threads, second_weight=e.second_weight))
    lite = open_store(settings, embedder=embedder)
    paragraphs, q_de, q_en = common.xquad()
    news = common.gnad()
    if args.quick:
        paragraphs, news = paragraphs[:40], news[:100]
        keep = {p["id"] for p in paragraphs}
        q_de, q_en = [q for q in q_de if q.gold in keep], [q for q in q_en if q.gold in keep]
    files = [common.write_jsonl(tmp / "corpus" / "xquad.jsonl", paragraphs), common.write_jsonl(tmp / "corpus" / "10kgnad.jsonl", news)]
    report = lite.ingest([tmp / "corpus"])
    print("ingest (SQLite):", report.summary(), flush=True)
    drop_other_sources(lite, tmp / "corpus")
    pg = PgCatalog(args.catalog_url, rank_budget=settings.store.catalog_rank_budget)
    pg.clear()
    return settings, lite, Store(settings, embedder, lite.dense, pg), files, paragraphs, {"de": q_de, "en": q_en}, report


def drop_other_sources(store, corpus: Path) -> None:
    """Forget the kept index's records under their old file names, and the articles only they named."""
    store.catalog.set_meta("dirty", "1")
    for key, _ in store.catalog.sources_under("/", exact_file=False):
        if not key.startswith(str(corpus.resolve()) + "/"):
            store.catalog.unlink_source(key)
    doomed = [cid for aid in store.catalog.orphan_articles() for cid in store.catalog.delete_article(aid)]
    store.dense.delete(doomed)
    store.catalog.set_meta("dirty", "0")


def quality(stores: dict, questions: dict, gold: dict) -> dict:
    """recall@k and ms per search, per catalog, language and mode."""
    results: dict = {}
    for name, store in stores.items():
        for lang, qs in questions.items():
            for mode in MODES:
                ranks, ms = evaluate(store, qs, gold, mode)
                m = results.setdefault(name, {}).setdefault(lang, {})[mode] = {**metrics(ranks), "ms_per_query": round(ms, 1)}
                print(f"{name:10s} {lang} {mode:8s} R@1 {m['recall@1']:.3f} R@5 {m['recall@5']:.3f} MRR {m['mrr@10']:.3f} ({ms:.0f} ms)", flush=True)
    return results


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.catalog", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--catalog-url", required=True, help="an empty PostgreSQL database (its tables are created, then emptied)")
    ap.add_argument("--from-index", type=Path, help="copy this kept index of the same corpus instead of embedding it")
    ap.add_argument("--chunks", type=int, default=100_000, help="chunks in each catalog for the lexical latency at scale")
    ap.add_argument("--queries", type=int, default=200, help="questions timed per latency measurement")
    ap.add_argument("--cache-dir", type=Path, help="model cache (paths.cache_dir); default: from settings")
    ap.add_argument("--quick", action="store_true", help="40 paragraphs, 100 distractors, 5,000 chunks, 40 questions; writes nothing")
    args = ap.parse_args(argv)
    from vectorstore.catalog import Catalog

    t_start = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix="newsqa-catalog-bench-"))
    try:
        settings, lite, pgs, files, paragraphs, questions, report = open_stores(args, tmp)
        writes = {"postgres": copy_catalog(lite.catalog, pgs.catalog)}
        fresh = Catalog(tmp / "copy" / "catalog.sqlite3")
        writes["sqlite"] = copy_catalog(lite.catalog, fresh)
        print("corpus copy:", writes, flush=True)
        gold = common.article_ids(lite, files[0], paragraphs)
        stores = {"sqlite": lite, "postgres": pgs}
        results = quality(stores, questions, gold)
        n_q = 40 if args.quick else args.queries
        mixed = [q.text for pair in zip(questions["de"], questions["en"]) for q in pair][:: max(1, 2 * len(questions["de"]) // n_q)][:n_q]
        corpus_chunks = lite.catalog.counts()[1]
        lat = search_latencies(stores, mixed, "corpus")
        target = 5_000 if args.quick else args.chunks
        gold_articles = set(gold.values())
        like = [c.id for c in lite.catalog.chunks(lite.catalog.chunk_ids()).values() if c.article_id not in gold_articles]
        scaled = at_scale(lite, pgs, fresh, like, max(target, corpus_chunks), mixed, args.catalog_url)
        for name, more in scaled.pop("latency").items():
            lat[name].update(more)
        scaled_chunks = fresh.counts()[1]
        fresh.close()
        lite.close()
        pgs.catalog.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    data = {
        "machine": common.machine(settings), "corpus": {"xquad_paragraphs": len(paragraphs), "chunks": corpus_chunks,
        "ingest": report.summary(), "from_index": str(args.from_index) if args.from_index else None},
        "questions": {lang: len(qs) for lang, qs in questions.items()}, "results": results, "latency": lat,
        "latency_questions": len(mixed), "scaled_chunks": scaled_chunks, "writes_corpus": writes, **scaled,
        "seconds": round(time.perf_counter() - t_start, 1), "quick": args.quick,
    }
    md = render(data)
    print(md)
    if args.quick:
        print("(--quick: result files not written)")
    else:
        common.save("catalog-postgres", data, md)
    return 0


def render(d: dict) -> str:
    r = d["results"]
    lines = ["# The catalog on PostgreSQL against SQLite", "",
             f"Corpus: {d['corpus']['xquad_paragraphs']} XQuAD paragraphs among news distractors, {d['corpus']['chunks']:,} chunks; "
             f"{d['questions']['de']} German and {d['questions']['en']} English questions. One Chroma index serves both stores.", "",
             "| questions | mode | R@1 SQLite | R@1 PostgreSQL | R@5 SQLite | R@5 PostgreSQL | MRR SQLite | MRR PostgreSQL |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for lang in ("de", "en"):
        for mode in MODES:
            a, b = r["sqlite"][lang][mode], r["postgres"][lang][mode]
            lines.append(f"| {lang} | {mode} | {a['recall@1']:.3f} | {b['recall@1']:.3f} | {a['recall@5']:.3f} | {b['recall@5']:.3f} | "
                         f"{a['mrr@10']:.3f} | {b['mrr@10']:.3f} |")
    lat = d["latency"]
    lines += ["", f"Latency, {d['latency_questions']} questions (de and en alternating), one client, p50 / p95 ms, the back ends "
              "taking turns question by question; the questions' vectors are cached from the recall runs, so hybrid times are "
              "Chroma + catalog:", "", "| search | SQLite | PostgreSQL | PostgreSQL / SQLite, p50 |", "| --- | ---: | ---: | ---: |"]
    for key, label in (("hybrid_corpus", f"hybrid, k=5, {d['corpus']['chunks']:,} chunks"),
                       ("lexical_corpus", f"lexical alone (100 candidates), {d['corpus']['chunks']:,} chunks"),
                       ("hybrid_scaled", f"**hybrid, k=5, {d['scaled_chunks']:,} chunks**"),
                       ("lexical_scaled", f"lexical alone (100 candidates), {d['scaled_chunks']:,} chunks")):
        a, b = lat["sqlite"][key], lat["postgres"][key]
        lines.append(f"| {label} | {a['p50_ms']} / {a['p95_ms']} | {b['p50_ms']} / {b['p95_ms']} | {b['p50_ms'] / a['p50_ms']:.2f} |")
    every, agree, dense = lat["postgres"]["lexical_scaled_every_match"], d["budget_agreement"], d["dense_growing"]
    lines += ["", f"At {d['scaled_chunks']:,} chunks PostgreSQL ranks at most {d['rank_budget']:,} chunks brought in by a question's "
              "commoner words (`store.catalog_rank_budget`; the rarest word's chunks always). Ranking every match instead takes "
              f"{every['p50_ms']} / {every['p95_ms']} ms; the budget keeps the same top 5 (in order) for {agree['same_top5']} of "
              f"{agree['questions']} questions and {agree['top100_overlap']:.0%} of the top 100 (recall above is at "
              f"{d['corpus']['chunks']:,} chunks, where it rarely binds).", "",
              f"Chroma at scale: the {dense['chunks']:,} synthetic chunks carry no embeddings of their own text (hours on 2 cores) but "
              "the vector of a random real news chunk of the corpus (not a gold paragraph) plus Gaussian noise of half its length, "
              f"scaled back to its length (cosine ~0.9 to it); Chroma then held {dense['total']:,} vectors (written in {dense['seconds']} s)."]
    w, g = d["writes_corpus"], d["writes_growing"]
    lines += ["", "Catalog writes (add_pending + mark_done per article, as an ingest writes them; embedding excluded), chunks/s:", "",
              "| writes | SQLite | PostgreSQL |", "| --- | ---: | ---: |",
              f"| the corpus ({w['sqlite']['chunks']:,} chunks) | {w['sqlite']['chunks_per_s']:,} | {w['postgres']['chunks_per_s']:,} |",
              f"| growing to {d['scaled_chunks']:,} chunks ({g['sqlite']['chunks']:,} synthetic) | {g['sqlite']['chunks_per_s'] or '-'} | "
              f"{g['postgres']['chunks_per_s'] or '-'} |",
              "", f"PostgreSQL 15 ran on the same machine (fsync off, a throw-away cluster). Whole run {d['seconds']} s.",
              "", "## Machine", "", common.machine_md(d["machine"])]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
