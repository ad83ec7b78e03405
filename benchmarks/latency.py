"""Retrieval latency: p50/p95 of ``Store.search`` (hybrid, the default) one query at a time and
under 8 concurrent client threads, on the seed corpus and on a corpus scaled to 100,000 chunks;
the time split between query embedding, Chroma, BM25 and fusion; the peak RSS of serving.

The large corpus is built without embedding 100,000 chunks: 80 XQuAD paragraphs and 10 news
articles are ingested for real, then synthetic articles are written straight through
``store.dense.upsert`` and ``store.catalog.add_pending``/``mark_done``. Their texts are real
10kGNAD chunks with sentences dropped and reordered (so BM25 sees real German posting lists), their
vectors are real chunk vectors plus Gaussian noise (cosine ~0.9 to the original, so the HNSW graph
sees clustered, realistic data). Each measurement runs in a fresh child process, so its peak RSS
is that of a process serving the index, not of the one that built it.

    .venv/bin/python -m benchmarks.latency           # seeds + 100k chunks, writes benchmarks/results/latency.*
    .venv/bin/python -m benchmarks.latency --quick   # seeds + 5k chunks, writes nothing
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from . import common

CLIENTS = 8


def questions(n: int) -> list[str]:
    """A fixed mix of German and English XQuAD questions plus questions about the seed article."""
    _, de, en = common.xquad()
    rng = random.Random(7)
    picked = rng.sample(range(len(de)), n // 2)
    seeds = ["Wer nahm an den Gesprächen im Weißen Haus teil?", "What security guarantees did Trump promise Ukraine?",
             "Schließt Trump US-Truppen in der Ukraine aus?", "Where did Trump meet Putin?"]
    qs = [x for i in picked for x in (de[i].text, en[i].text)]
    return seeds + qs[: n - len(seeds)]


def pct(xs: list[float], p: float) -> float:
    return round(float(np.percentile(xs, p)), 1)


def serve(index_dir: Path, cache_dir: Path | None, n: int, backend: str = "onnx", gold_file: Path | None = None) -> dict:
    """Child process: open the index like the app does, warm up, then time searches. ``backend``
    ``torch`` embeds questions the way the product did before ONNX Runtime (the baseline);
    ``gold_file`` holds XQuAD questions with their gold article, for recall@5 in the same process."""
    from vectorstore import open_store

    settings = common.settings_for(index_dir, cache_dir)
    store = open_store(settings)
    if backend == "torch":
        store.embedder.first.query_encoder = None
    qs = questions(n)
    store.search("warm up", k=5)
    for q in qs[:5]:
        store.search(q)

    # The fused embedder keeps recent query vectors: every timed search below starts without them (a
    # new question), and repeated questions are timed on their own.
    recent = getattr(store.embedder, "_queries", None)

    def forget() -> None:
        if recent is not None:
            recent.clear()

    # Where a query's time goes (sequential), measured on the parts Store.search calls.
    parts: dict[str, list[float]] = {"embed": [], "chroma": [], "bm25": [], "search_total": [], "repeated": []}
    for q in qs:
        forget()
        t0 = time.perf_counter()
        store.search(q)
        t1 = time.perf_counter()
        store.search(q)  # the same question again: its vector comes from the cache
        t2 = time.perf_counter()
        forget()
        t3 = time.perf_counter()
        vec = store.embedder.embed([q], "query")[0]
        t4 = time.perf_counter()
        store.dense.query(vec, settings.retrieval.candidates)
        t5 = time.perf_counter()
        store.catalog.search(q, settings.retrieval.candidates)
        t6 = time.perf_counter()
        for key, dt in zip(("search_total", "repeated", "embed", "chroma", "bm25"), (t1 - t0, t2 - t1, t4 - t3, t5 - t4, t6 - t5)):
            parts[key].append(1000 * dt)
    single = parts.pop("search_total")
    repeated = parts.pop("repeated")
    forget()

    lat: list[float] = []
    lock = threading.Lock()
    work = list(qs)  # distinct questions, none cached
    cursor = iter(range(len(work)))

    def client():
        while True:
            with lock:
                i = next(cursor, None)
            if i is None:
                return
            t = time.perf_counter()
            store.search(work[i])
            dt = 1000 * (time.perf_counter() - t)
            with lock:
                lat.append(dt)

    t0 = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    recall = {}
    if gold_file is not None:
        for lang, pairs in json.loads(gold_file.read_text(encoding="utf-8")).items():
            hits = [any(h.chunk.article_id == gold for h in store.search(q, k=5)) for q, gold in pairs]
            recall[lang] = {"recall@5": round(sum(hits) / len(hits), 4), "n": len(hits)}
    stats = store.stats()
    store.close()
    import os

    return {
        "backend": backend, "recall": recall,
        "chunks": stats["chunks"], "articles": stats["articles"], "queries": len(qs),
        "single": {"p50_ms": pct(single, 50), "p95_ms": pct(single, 95), "mean_ms": round(float(np.mean(single)), 1)},
        "repeated": {"p50_ms": pct(repeated, 50), "p95_ms": pct(repeated, 95)},
        "parts_p50_ms": {k: pct(v, 50) for k, v in parts.items()},
        "parts_p95_ms": {k: pct(v, 95) for k, v in parts.items()},
        "concurrent": {"clients": CLIENTS, "queries": len(work), "p50_ms": pct(lat, 50), "p95_ms": pct(lat, 95),
                       "throughput_qps": round(len(work) / wall, 1)},
        "peak_rss_mb": round(common.peak_rss_mb()),
        "load_avg": [round(x, 2) for x in os.getloadavg()],
    }


def measure(index_dir: Path, cache_dir: Path | None, n: int, backend: str = "onnx", gold_file: Path | None = None) -> dict:
    cmd = [sys.executable, "-m", "benchmarks.latency", "--serve", str(index_dir), "--queries", str(n), "--query-backend", backend]
    if cache_dir:
        cmd += ["--cache-dir", str(cache_dir)]
    if gold_file:
        cmd += ["--gold", str(gold_file)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if out.returncode:
        raise SystemExit(f"serving child failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def scale(store, target: int, rng: np.random.Generator) -> float:
    """Add synthetic articles until the index holds ``target`` chunks; returns the seconds spent."""
    from vectorstore.chunker import chunk_article
    from vectorstore.chunker import sentence_spans
    from vectorstore.types import Article, Chunk

    t0 = time.perf_counter()
    real = list(store.catalog.chunks(store.catalog.chunk_ids()).values())
    got = store.dense._col.get(ids=[c.id for c in real], include=["embeddings"])
    base = np.asarray(got["embeddings"], dtype=np.float32)
    # Real German news texts for the lexical side (chunked only: chunking is cheap, embedding is not).
    texts: list[str] = []
    for r in common.gnad():
        art = Article(source_key=r["id"], title=r["title"], text=r["text"], language="de")
        texts += [c.text for c in chunk_article(art, 160, 32)]
    have = store.catalog.counts()[1]
    n = 0
    per_article = 6
    batch_chunks: list = []
    batch_arts: list = []
    while have + n < target:
        k = min(per_article, target - have - n)
        pieces = []
        for _ in range(k):
            t = texts[int(rng.integers(len(texts)))]
            sents = [t[s.start : s.end] for s in sentence_spans(t)]
            if len(sents) > 2:
                sents.pop(int(rng.integers(len(sents))))
                rng.shuffle(sents)
            pieces.append(" ".join(sents))
        body = "\n\n".join(pieces)
        art = Article(source_key=f"synthetic#{n}", title=f"Synthetischer Artikel {n}", text=body,
                      date=f"20{10 + n % 15:02d}-{1 + n % 12:02d}-{1 + n % 28:02d}", source="synthetic", language="de")
        chunks = []
        pos = 0
        for i, p in enumerate(pieces):
            start = body.index(p, pos)
            pos = start + len(p)
            chunks.append(Chunk(id=f"syn{n}-{i}", article_id=art.id, ordinal=i, text=p, start=start, end=pos, meta=art.meta))
        batch_arts.append((art, chunks))
        batch_chunks += chunks
        n += k
        if len(batch_chunks) >= 5000 or have + n >= target:
            src = base[rng.integers(len(base), size=len(batch_chunks))]
            noise = rng.normal(0, 0.35 / np.sqrt(base.shape[1]), size=src.shape).astype(np.float32)
            vecs = src + noise
            vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
            for a, cs in batch_arts:
                store.catalog.add_pending(a, cs)
            store.dense.upsert(batch_chunks, vecs)
            for a, _ in batch_arts:
                store.catalog.mark_done(a.id, a.source_key, "synthetic")
            print(f"  {have + n} chunks ({time.perf_counter() - t0:.0f} s)", flush=True)
            batch_chunks, batch_arts = [], []
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.latency", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="seeds + 5,000 chunks, 40 queries; writes no result files")
    ap.add_argument("--chunks", type=int, default=100_000, help="size of the scaled corpus")
    ap.add_argument("--cache-dir", type=Path, help="model cache (paths.cache_dir); default: from settings")
    ap.add_argument("--serve", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--queries", type=int, default=200, help="distinct questions per measurement")
    ap.add_argument("--query-backend", choices=("onnx", "torch"), default="onnx", help=argparse.SUPPRESS)
    ap.add_argument("--gold", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.serve:
        print(json.dumps(serve(args.serve, args.cache_dir, args.queries, args.query_backend, args.gold)))
        return 0

    from vectorstore import open_store

    n_q = 40 if args.quick else args.queries
    target = 5_000 if args.quick else args.chunks
    tmp = Path(tempfile.mkdtemp(prefix="newsqa-latency-"))
    t_start = time.perf_counter()
    try:
        settings = common.settings_for(tmp / "index", args.cache_dir)
        store = open_store(settings)
        rep = store.ingest([common.SEEDS])
        print("seeds:", rep.summary(), flush=True)
        store.close()
        seeds = measure(tmp / "index", args.cache_dir, n_q)
        print("seeds:", json.dumps(seeds), flush=True)

        store = open_store(settings)
        paragraphs, de, en = common.xquad()
        real = paragraphs[:80]
        base = common.write_jsonl(tmp / "base" / "base.jsonl", real + common.gnad()[:10])
        rep = store.ingest([base])
        print("real base:", rep.summary(), flush=True)
        # recall@5 of the questions on the 80 real paragraphs, among the 100k chunks, per backend
        ids = common.article_ids(store, base, real)
        gold_file = tmp / "gold.json"
        gold_file.write_text(json.dumps({lang: [(q.text, ids[q.gold]) for q in qs if q.gold in ids][: 60 if args.quick else None]
                                         for lang, qs in (("de", de), ("en", en))}), encoding="utf-8")
        build = scale(store, target, np.random.default_rng(11))
        store.close()
        before = measure(tmp / "index", args.cache_dir, n_q, "torch", gold_file)
        print("scaled, questions by torch:", json.dumps(before), flush=True)
        big = measure(tmp / "index", args.cache_dir, n_q, "onnx", gold_file)
        print("scaled:", json.dumps(big), flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    data = {"machine": common.machine(settings), "seeds": seeds, "scaled": big, "scaled_torch_questions": before, "scaled_build_seconds": round(build, 1),
            "targets_at_100k": {"p50_ms": 50, "p95_ms": 80}, "seconds": round(time.perf_counter() - t_start, 1), "quick": args.quick}
    md = render(data)
    print(md)
    if args.quick:
        print("(--quick: result files not written)")
    else:
        common.save("latency", data, md)
    return 0


def render(d: dict) -> str:
    lines = ["# Retrieval latency (hybrid search, k=5)", "",
             "| corpus | chunks | p50 ms | p95 ms | p50 ms, 8 clients | p95 ms, 8 clients | queries/s, 8 clients | peak RSS MB |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    rows = [("seeds/", d["seeds"]), ("scaled (synthetic)", d["scaled"])]
    if "scaled_torch_questions" in d:
        rows.append(("scaled, questions embedded by torch (before)", d["scaled_torch_questions"]))
    for name, x in rows:
        lines.append(f"| {name} | {x['chunks']:,} | {x['single']['p50_ms']} | {x['single']['p95_ms']} | {x['concurrent']['p50_ms']} | "
                     f"{x['concurrent']['p95_ms']} | {x['concurrent']['throughput_qps']} | {x['peak_rss_mb']} |")
    lines += ["", "Where a single query's time goes (p50 / p95 ms):", "",
              "| corpus | query embedding | Chroma top-k | BM25 (FTS5) |", "| --- | ---: | ---: | ---: |"]
    for name, x in [(n.split(" (")[0], x) for n, x in rows]:
        a, b = x["parts_p50_ms"], x["parts_p95_ms"]
        lines.append(f"| {name} | {a['embed']} / {b['embed']} | {a['chroma']} / {b['chroma']} | {a['bm25']} / {b['bm25']} |")
    s = d["scaled"]["single"]
    lines += ["", f"Target at 100k chunks: p50 ≤ {d['targets_at_100k']['p50_ms']} ms, p95 ≤ {d['targets_at_100k']['p95_ms']} ms "
              f"(measured single-query: p50 {s['p50_ms']} ms, p95 {s['p95_ms']} ms). Every timed search is a new question: the "
              "embedder's cache of recent query vectors is cleared before it. A repeated question, served from that cache: p50 "
              f"{d['scaled']['repeated']['p50_ms']} ms, p95 {d['scaled']['repeated']['p95_ms']} ms. With 8 clients on 2 cores, "
              "queries queue for the CPU, so their latency grows with the queue while throughput stays flat.",
              f"Building the scaled index took {d['scaled_build_seconds']} s; whole run {d['seconds']} s. "
              f"Load average during the measurements: seeds {d['seeds']['load_avg']}, scaled {d['scaled']['load_avg']}.",
              ]
    if d.get("scaled_torch_questions", {}).get("recall"):
        now, before = d["scaled"]["recall"], d["scaled_torch_questions"]["recall"]
        lines += ["", "Recall@5 in the same run, XQuAD questions on the 80 real paragraphs among the 100k chunks (hybrid, k=5). "
                  "Questions are embedded by ONNX Runtime now, by torch before; same weights:", "",
                  "| questions | n | recall@5 torch (before) | recall@5 ONNX Runtime (now) |", "| --- | ---: | ---: | ---: |"]
        for lang in now:
            lines.append(f"| {lang}→de | {now[lang]['n']} | {before[lang]['recall@5']:.3f} | {now[lang]['recall@5']:.3f} |")
    lines += ["", "## Machine", "", common.machine_md(d["machine"])]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
