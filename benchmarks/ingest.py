"""Ingestion throughput: the product's ``Store.ingest`` against (a) the embedder alone on the same
chunk texts (the ceiling), (b) the LangChain tutorial pipeline (``RecursiveCharacterTextSplitter`` +
``Chroma.from_documents``) with the same embedder, and (c) plain sentence-transformers fp32 e5 on
the same chunk texts; plus a re-ingest of the unchanged corpus and the peak RSS.

Every variant embeds its whole input once, so on this 2-core machine the full corpus (1,028
10kGNAD articles + 240 XQuAD paragraphs, ~6,600 chunks) takes about 4 x 10 minutes. The default run
therefore takes a fixed sample (every 16th news article and every 4th paragraph, ~500 chunks);
rates, not totals, are compared, and all variants run on the same texts in the same process.
Wall-clock rates and CPU-time rates are both reported because the machine is shared.

    .venv/bin/python -m benchmarks.ingest            # sample, writes benchmarks/results/ingest.*
    .venv/bin/python -m benchmarks.ingest --full     # the whole corpus (~40 min)
    .venv/bin/python -m benchmarks.ingest --quick    # smoke run, writes nothing

Needs the ``bench`` extra (``pip install -e ".[bench]"``) for the LangChain baseline.
"""

from __future__ import annotations

import argparse
import gc
import os
import shutil
import tempfile
import time
from pathlib import Path

from . import common


class Phase:
    """Wall time, CPU time and load average of one timed block."""

    def __init__(self, name: str):
        self.name = name

    def __enter__(self):
        gc.collect()
        self.load0 = os.getloadavg()[0]
        self.t0, self.c0 = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.wall = time.perf_counter() - self.t0
        self.cpu = time.process_time() - self.c0
        self.load = round((self.load0 + os.getloadavg()[0]) / 2, 2)
        print(f"{self.name}: {self.wall:.1f} s wall, {self.cpu:.1f} s CPU, load {self.load}", flush=True)
        return False


def rates(ph: Phase, articles: int, chunks: int, tokens: int) -> dict:
    return {
        "seconds": round(ph.wall, 2), "cpu_seconds": round(ph.cpu, 2), "load_avg": ph.load,
        "articles": articles, "chunks": chunks, "tokens": tokens,
        "articles_per_s": round(articles / ph.wall, 2), "chunks_per_s": round(chunks / ph.wall, 2),
        "tokens_per_s": round(tokens / ph.wall), "chunks_per_cpu_s": round(chunks / ph.cpu, 2),
        "tokens_per_cpu_s": round(tokens / ph.cpu),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.ingest", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    size = ap.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="smoke run on 25 articles; writes no result files")
    size.add_argument("--full", action="store_true", help="the whole corpus (about 40 minutes on 2 cores)")
    ap.add_argument("--cache-dir", type=Path, help="model cache (paths.cache_dir); default: from settings")
    ap.add_argument("--skip-langchain", action="store_true", help="skip the LangChain baseline")
    ap.add_argument("--threads", type=int, default=0,
                    help="torch threads for every variant (embedding.threads); 1 gives per-core rates that a busy machine "
                    "distorts least (OpenMP threads spin while they wait, which inflates CPU time)")
    ap.add_argument("--render", type=Path, help="only re-render the Markdown of a saved result JSON")
    args = ap.parse_args(argv)
    if args.render:
        import json

        data = json.loads(args.render.read_text(encoding="utf-8"))
        lc, p = data.get("langchain"), data["pipeline"]
        if lc:
            data["ratios"]["pipeline_vs_langchain_articles_per_cpu_s"] = round(lc["cpu_seconds"] / p["cpu_seconds"], 2)
            data["ratios"]["pipeline_vs_langchain_tokens_per_cpu_s"] = round(p["tokens_per_cpu_s"] / lc["tokens_per_cpu_s"], 2)
        common.save(args.render.stem, data, render(data))
        return 0

    from vectorstore import open_store
    from vectorstore.embedder import make_embedder

    paragraphs, _, _ = common.xquad()
    news = common.gnad()
    if args.quick:
        sample = "quick: 10 paragraphs + 15 news articles"
        paragraphs, news = paragraphs[:10], news[:15]
    elif not args.full:
        sample = "every 4th XQuAD paragraph + every 16th 10kGNAD article"
        paragraphs, news = paragraphs[::4], news[::16]
    else:
        sample = "all 240 XQuAD paragraphs + all 1,028 10kGNAD articles"
    records = paragraphs + news
    tmp = Path(tempfile.mkdtemp(prefix="newsqa-ingest-bench-"))
    settings = common.settings_for(tmp / "index", args.cache_dir, **{"embedding.threads": args.threads})
    e = settings.embedding
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    results: dict = {}
    try:
        corpus = tmp / "corpus"
        common.write_jsonl(corpus / "xquad.jsonl", paragraphs)
        common.write_jsonl(corpus / "10kgnad.jsonl", news)

        embedder = make_embedder(e.model, cache_dir=Path(settings.paths.cache_dir), quantize=e.quantize,
                                 batch_size=e.batch_size, threads=e.threads, second_weight=e.second_weight)
        with Phase("model load") as ph:
            embedder.embed(["warm up"], "passage")
        results["model_load_seconds"] = round(ph.wall, 2)

        # The product pipeline: load, chunk, embed, write Chroma + FTS5, in one call.
        store = open_store(settings, embedder=embedder)
        with Phase("pipeline: Store.ingest") as ph:
            report = store.ingest([corpus])
        if report.failed:
            raise SystemExit(f"ingest failed: {report.failed[:3]}")
        chunks = list(store.catalog.chunks(store.catalog.chunk_ids()).values())
        texts = [c.embedding_text() for c in chunks]
        tokenizer = getattr(embedder, "first", embedder)._load().tokenizer  # e5's (first of a fused pair)
        n_tokens = sum(len(ids) for ids in tokenizer(["passage: " + t for t in texts], truncation=True)["input_ids"])
        results["pipeline"] = rates(ph, len(report.added), len(chunks), n_tokens)
        results["pipeline"]["peak_rss_mb"] = round(common.peak_rss_mb())

        with Phase("re-ingest, unchanged corpus") as ph:
            again = store.ingest([corpus])
        results["reingest"] = {"seconds": round(ph.wall, 2), "unchanged": len(again.unchanged), "chunks_added": again.chunks_added,
                               "fraction_of_first": round(ph.wall / results["pipeline"]["seconds"], 4)}
        store.close()

        # (a) the embedder alone, on the same texts in the pipeline's flush-sized batches.
        flush = max(64, e.batch_size * 8)
        with Phase("(a) embedder alone") as ph:
            for i in range(0, len(texts), flush):
                embedder.embed(texts[i : i + flush], "passage")
        results["embedder_alone"] = rates(ph, len(report.added), len(chunks), n_tokens)

        # (b) the LangChain tutorial pipeline with the same embedder.
        if not args.skip_langchain:
            results["langchain"] = langchain_baseline(records, embedder, tmp / "langchain", tokenizer)

        # (c) plain sentence-transformers, fp32, default batch size: the baseline of the 2x target.
        if e.model.split("+")[0].strip() == "e5-small":
            from sentence_transformers import SentenceTransformer

            from vectorstore.e5convert import ensure_e5_folder

            st = SentenceTransformer(str(ensure_e5_folder(Path(settings.paths.cache_dir))), device="cpu", local_files_only=True)
            st.encode(["warm up"], prompt_name="passage")
            with Phase("(c) plain sentence-transformers fp32") as ph:
                st.encode(texts, prompt_name="passage", normalize_embeddings=True)
            results["sentence_transformers_fp32"] = rates(ph, len(report.added), len(chunks), n_tokens)
        results["peak_rss_mb_whole_run"] = round(common.peak_rss_mb())
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    p = results["pipeline"]
    ratios = {
        "pipeline_vs_embedder_alone": round(p["chunks_per_s"] / results["embedder_alone"]["chunks_per_s"], 3),
        "pipeline_vs_embedder_alone_cpu": round(p["chunks_per_cpu_s"] / results["embedder_alone"]["chunks_per_cpu_s"], 3),
    }
    if "sentence_transformers_fp32" in results:
        s = results["sentence_transformers_fp32"]
        ratios["pipeline_vs_st_fp32"] = round(p["chunks_per_s"] / s["chunks_per_s"], 2)
        ratios["pipeline_vs_st_fp32_cpu"] = round(p["chunks_per_cpu_s"] / s["chunks_per_cpu_s"], 2)
    if "langchain" in results:
        lc = results["langchain"]
        ratios["pipeline_vs_langchain_articles_per_s"] = round(p["articles_per_s"] / lc["articles_per_s"], 2)
        ratios["pipeline_vs_langchain_tokens_per_s"] = round(p["tokens_per_s"] / lc["tokens_per_s"], 2)
        ratios["pipeline_vs_langchain_articles_per_cpu_s"] = round(lc["cpu_seconds"] / p["cpu_seconds"], 2)
        ratios["pipeline_vs_langchain_tokens_per_cpu_s"] = round(p["tokens_per_cpu_s"] / lc["tokens_per_cpu_s"], 2)
    data = {"machine": common.machine(settings), "sample": sample, "articles": len(records), **results, "ratios": ratios,
            "targets": {"pipeline_vs_embedder_alone": ">= 0.90", "pipeline_vs_st_fp32": ">= 2", "reingest_fraction": "< 0.05"},
            "quick": args.quick}
    md = render(data)
    print(md)
    if args.quick:
        print("(--quick: result files not written)")
    else:
        common.save("ingest" if not args.threads else f"ingest-threads{args.threads}", data, md)
    return 0


def langchain_baseline(records: list[dict], embedder, where: Path, tokenizer) -> dict:
    """The LangChain RAG tutorial's indexing: 1,000-character chunks with 200 overlap, then
    ``Chroma.from_documents``; our embedder is wrapped as a LangChain ``Embeddings``."""
    from langchain_chroma import Chroma
    from langchain_core.documents import Document
    from langchain_core.embeddings import Embeddings
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    class Wrapped(Embeddings):
        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            return embedder.embed(texts, "passage").tolist()

        def embed_query(self, text: str) -> list[float]:
            return embedder.embed([text], "query")[0].tolist()

    docs = [Document(page_content=f"{r['title']}\n{r['text']}", metadata={"id": r["id"], "source": r["source"]}) for r in records]
    with Phase("(b) LangChain tutorial pipeline") as ph:
        splits = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200).split_documents(docs)
        db = Chroma.from_documents(splits, Wrapped(), persist_directory=str(where), collection_name="bench")
    n = db._collection.count()
    n_tokens = sum(len(ids) for ids in tokenizer(["passage: " + d.page_content for d in splits], truncation=True)["input_ids"])
    out = rates(ph, len(records), n, n_tokens)
    out["splitter"] = "RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)"
    return out


def render(d: dict) -> str:
    rows = [("pipeline: `Store.ingest`", d["pipeline"]), ("(a) embedder alone, same chunk texts", d["embedder_alone"])]
    if "langchain" in d:
        rows.append(("(b) LangChain tutorial (splitter + Chroma.from_documents), same embedder", d["langchain"]))
    if "sentence_transformers_fp32" in d:
        rows.append(("(c) plain sentence-transformers fp32 e5, same chunk texts", d["sentence_transformers_fp32"]))
    r = d["ratios"]
    lines = [
        "# Ingestion benchmark", "",
        f"Corpus: {d['sample']} = {d['articles']} articles, {d['pipeline']['chunks']} chunks "
        f"({d['pipeline']['tokens']:,} e5 tokens) with the product's chunking. Model load ({d['model_load_seconds']} s) is not counted.",
        "",
        "| variant | s | articles/s | chunks/s | tokens/s | chunks per CPU-s | load avg |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, x in rows:
        lines.append(f"| {name} | {x['seconds']} | {x['articles_per_s']} | {x['chunks_per_s']} | {x['tokens_per_s']:,} | "
                     f"{x['chunks_per_cpu_s']} | {x['load_avg']} |")
    ri = d["reingest"]
    lines += [
        "",
        f"- Pipeline / embedder alone: {r['pipeline_vs_embedder_alone']:.0%} wall, {r['pipeline_vs_embedder_alone_cpu']:.0%} CPU time (target ≥ 90%).",
    ]
    if "pipeline_vs_st_fp32" in r:
        lines.append(f"- Pipeline / plain sentence-transformers fp32: {r['pipeline_vs_st_fp32']}x wall, {r['pipeline_vs_st_fp32_cpu']}x CPU time (target 2x).")
    if "pipeline_vs_langchain_articles_per_s" in r:
        lines.append(f"- Pipeline / LangChain tutorial: {r['pipeline_vs_langchain_articles_per_s']}x articles/s, "
                     f"{r['pipeline_vs_langchain_tokens_per_s']}x tokens/s wall; per CPU-second "
                     f"{r.get('pipeline_vs_langchain_articles_per_cpu_s', '?')}x articles, {r.get('pipeline_vs_langchain_tokens_per_cpu_s', '?')}x tokens "
                     "(its 1,000-character chunks carry no title and less overlap, so it embeds fewer tokens per article).")
    lines += [
        f"- Re-ingest of the unchanged corpus: {ri['seconds']} s = {ri['fraction_of_first']:.1%} of the first ingest "
        f"({ri['unchanged']} articles unchanged, {ri['chunks_added']} chunks embedded; target < 5%).",
        f"- Peak RSS after the pipeline ingest: {d['pipeline']['peak_rss_mb']} MB (whole run, with the fp32 model and LangChain loaded too: "
        f"{d['peak_rss_mb_whole_run']} MB).",
        "", "## Machine", "", common.machine_md(d["machine"]),
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
