"""The store: incremental ingestion into Chroma + the lexical catalog, and hybrid search.

    >>> from vectorstore import open_store
    >>> store = open_store()                      # settings from env / newsqa.toml
    >>> store.ingest(["seeds/"]).summary()
    >>> store.search("Wer nahm an den Gesprächen teil?", k=5)

Ingest is incremental: an article whose content and metadata did not change costs nothing; a changed
one replaces its chunks; an article whose file (or JSONL record) is gone from an ingested folder
leaves the index. Writes are crash-safe: chunks are recorded as pending in the catalog, written to
Chroma, then marked done; a crashed run leaves a ``dirty`` flag and the next write reconciles both
sides, so the result equals a clean ingest.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from .errors import ArticleError, ConfigError, IndexMismatchError, QuestionError

from .catalogs import CatalogBackend, open_catalog
from .chunker import chunk_article
from .dense import DenseIndex
from .embedder import Embedder
from .language import detect_language
from .loader import iter_article_files, load_file
from .settings import StoreSettings
from .types import Article, Chunk, Filters, Hit, IngestReport
from .validate import MAX_K, validate_filters, validate_k, validate_query  # noqa: F401 - re-exported

#: progress(files_done, files_total, chunks_embedded)
Progress = Callable[[int, int, int], None]


@dataclass
class _Pending:
    article: Article
    chunks: list[Chunk]
    path: str
    replaced: bool
    # Other names of the same article in this batch, linked once the article is stored: a link made
    # earlier would point at nothing if the run died before the flush.
    also: list[tuple[str, str]] = field(default_factory=list)


class Store:
    """Chroma (dense) + the catalog's lexical index (SQLite FTS5 or PostgreSQL) kept in step under the same chunk ids."""

    def __init__(self, settings: StoreSettings, embedder: Embedder, dense: DenseIndex, catalog: CatalogBackend):
        self.settings = settings
        self.embedder = embedder
        self.dense = dense
        self.catalog = catalog
        self.index_dir = Path(settings.paths.index_dir)

    # ------------------------------------------------------------------ model bookkeeping
    def check_model(self, *, claim: bool = False) -> None:
        """Refuse to mix embedding models in one index. With ``claim``, an empty index records ours."""
        ours = self.embedder.name
        recorded = self.catalog.get_meta("embedding_model") or self.dense.model_tag
        if recorded and recorded != ours:
            raise IndexMismatchError(
                f"the index at {self.dense.where} was built with embedding model {recorded!r}, but {ours!r} is configured; "
                f"rebuild it with `assistant ingest --rebuild PATH…` or configure embedding.model to match"
            )
        if claim and not recorded:
            dim = self.embedder.embed(["dimension probe"], "passage").shape[1]
            self.catalog.set_meta("embedding_model", ours)
            self.catalog.set_meta("embedding_dim", str(dim))
            self.dense.set_model_tag(ours, dim)

    # ------------------------------------------------------------------ ingestion
    def ingest(self, paths: Iterable[str | Path], *, progress: Progress | None = None, rebuild: bool = False) -> IngestReport:
        """Ingest files and folders. Returns what was added, unchanged, replaced, removed, failed."""
        t0 = time.perf_counter()
        report = IngestReport()
        paths = [Path(p).expanduser() for p in paths]
        for p in paths:
            if not p.exists():
                raise ConfigError(f"{p}: no such file or folder")
        with self._write_lock():
            # Fail before touching anything when Chroma is unreachable (a server that is down), also
            # when nothing changed: a run that reports success must leave a searchable index.
            self.dense.count()
            if rebuild:
                self._clear()
            self.check_model(claim=True)
            if self.catalog.get_meta("dirty") == "1" or self.catalog.pending_articles():
                self.reconcile()
            self.catalog.set_meta("dirty", "1")
            files: list[tuple[Path, Path]] = []
            listed: set[Path] = set()
            for root in paths:
                for f in iter_article_files(root):
                    if f.resolve() not in listed:  # overlapping paths (a folder and a file in it) read a file once
                        listed.add(f.resolve())
                        files.append((root, f))
            seen: set[str] = set()
            failed_paths: set[str] = set()
            buffer: list[_Pending] = []
            buffered_chunks = 0
            embedded = 0
            flush_at = max(64, self.settings.embedding.batch_size * 8)
            max_bytes = int(self.settings.chunking.max_article_mb * 1_000_000)
            for n, (_root, f) in enumerate(files, 1):
                fpath = str(f.resolve())
                try:
                    loaded = load_file(f.resolve(), max_bytes=max_bytes)
                except ArticleError as e:
                    report.failed.append((str(f), str(e)))
                    failed_paths.add(fpath)
                    if progress:
                        progress(n, len(files), embedded)
                    continue
                report.warnings.extend(loaded.warnings)
                for e in loaded.errors:
                    report.failed.append((str(f), str(e)))
                    if e.line is None:
                        failed_paths.add(fpath)
                if any(e.line is not None for e in loaded.errors):
                    # A JSONL file with a broken line: keep that line's earlier article (if any).
                    failed_paths.add(fpath + "#partial")
                for art in loaded.articles:
                    seen.add(art.source_key)
                    pend = self._classify(art, fpath, report, buffer)
                    if pend:
                        buffer.append(pend)
                        buffered_chunks += len(pend.chunks)
                    if buffered_chunks >= flush_at:
                        # Inside the record loop: a JSONL export of 100,000 articles is embedded and
                        # committed batch by batch (bounded memory, progress, resumable after a kill).
                        embedded += self._flush(buffer, report)
                        buffer, buffered_chunks = [], 0
                        if progress and len(loaded.articles) > 1:
                            progress(n - 1, len(files), embedded)
                if progress:
                    progress(n, len(files), embedded)
            embedded += self._flush(buffer, report)
            if progress and buffer:
                progress(len(files), len(files), embedded)  # the last batch was embedded after the last file
            self._remove_unseen(paths, seen, failed_paths, report)
            self.catalog.set_meta("dirty", "0")
        report.seconds = time.perf_counter() - t0
        return report

    def _classify(self, art: Article, fpath: str, report: IngestReport, buffer: list[_Pending]) -> _Pending | None:
        key = art.source_key
        old = self.catalog.source_article(key)
        if old == art.id:
            report.unchanged.append(key)
            return None
        replaced = old is not None
        if replaced:
            self.catalog.unlink_source(key)
            if not self.catalog.sources_of(old):
                report.chunks_removed += self._delete_article(old)
        if self.catalog.article_status(art.id) == "done":
            # The same article (same text and metadata) already lives under another name.
            others = self.catalog.sources_of(art.id)
            self.catalog.link_source(key, art.id, fpath)
            report.duplicates.append((key, others[0] if others else art.id))
            return None
        for p in buffer:
            if p.article.id == art.id:  # ... or arrived earlier in this batch
                p.also.append((key, fpath))
                report.duplicates.append((key, p.article.source_key))
                return None
        chunks = chunk_article(art, self.settings.chunking.max_tokens, self.settings.chunking.overlap_tokens)
        return _Pending(art, chunks, fpath, replaced)

    def _flush(self, buffer: list[_Pending], report: IngestReport) -> int:
        if not buffer:
            return 0
        chunks = [c for p in buffer for c in p.chunks]
        vectors = self.embedder.embed([c.embedding_text() for c in chunks], "passage")
        for p in buffer:
            self.catalog.add_pending(p.article, p.chunks)
        self.dense.upsert(chunks, vectors)
        for p in buffer:
            self.catalog.mark_done(p.article.id, p.article.source_key, p.path)
            for key, path in p.also:
                self.catalog.link_source(key, p.article.id, path)
            (report.replaced if p.replaced else report.added).append(p.article.source_key)
        report.chunks_added += len(chunks)
        return len(chunks)

    def _remove_unseen(self, paths: list[Path], seen: set[str], failed: set[str], report: IngestReport) -> None:
        # Chroma deletes are batched (one call per 1,000 chunks, not one per article: removing 456
        # articles took 40 s). A crash in between leaves Chroma orphans, which the next write's
        # reconcile removes (the index is marked dirty for the whole ingest).
        doomed: list[str] = []
        for root in paths:
            r = root.resolve()
            for key, aid in self.catalog.sources_under(str(r), exact_file=r.is_file()):
                file_part = key.split("#", 1)[0]
                # Keep what a file that failed (wholly or in some lines) had contributed before.
                if key in seen or file_part in failed or (file_part + "#partial") in failed:
                    continue
                self.catalog.unlink_source(key)
                if not self.catalog.sources_of(aid):
                    doomed += self.catalog.delete_article(aid)
                report.removed.append(key)
        self.dense.delete(doomed)
        report.chunks_removed += len(doomed)

    def remove(self, article_id: str) -> list[str]:
        """Remove one article (under every name it was ingested as) from both indexes; returns those
        names (source keys). Its file, if still in an ingested folder, brings it back on the next ingest."""
        with self._write_lock():
            if self.catalog.article_status(article_id) is None:
                raise ConfigError(f"no article {article_id!r} in the index")
            keys = self.catalog.sources_of(article_id)
            self.catalog.set_meta("dirty", "1")  # a crash between the two deletes is reconciled
            self._delete_article(article_id)
            self.catalog.set_meta("dirty", "0")
        return keys

    def _delete_article(self, article_id: str) -> int:
        removed = self.catalog.delete_article(article_id)
        self.dense.delete(removed)
        return len(removed)

    def reconcile(self) -> dict[str, int]:
        """Bring Chroma and the catalog into the state of a clean ingest after a crash: pending
        articles are dropped from both sides, and Chroma ids that the catalog does not know go."""
        pending = self.catalog.pending_articles()
        dropped = 0
        for aid in pending:
            removed = self.catalog.delete_article(aid)
            self.dense.delete(removed)
            dropped += len(removed)
        for aid in self.catalog.orphan_articles():
            removed = self.catalog.delete_article(aid)
            self.dense.delete(removed)
            dropped += len(removed)
        known = self.catalog.chunk_ids()
        extra = self.dense.ids() - known
        self.dense.delete(sorted(extra))
        return {"pending_articles": len(pending), "chunks_dropped": dropped, "chroma_orphans": len(extra)}

    def _clear(self) -> None:
        """Empty both sides for a rebuild. The catalog goes first: if the run dies in between, the
        Chroma leftovers are orphans that the next write reconciles away."""
        self.catalog.set_meta("dirty", "1")
        self.catalog.clear()
        self.dense.reset()  # a new collection: the next model may have another dimension

    def _write_lock(self):
        """The catalog's ingest lock: a file lock beside a SQLite catalog, an advisory lock in PostgreSQL."""
        return self.catalog.write_lock()

    # ------------------------------------------------------------------ search
    def search(
        self, query: str, k: int | None = None, filters: Filters | None = None, mode: str | None = None
    ) -> list[Hit]:
        """Hybrid search: each candidate scores its dense cosine plus a weighted, per-query
        normalised BM25 score; then at most ``retrieval.per_article`` chunks of one article lead
        the list (the rest follow), so k hits name k articles where the index has them.

        The lexical weight depends on the language match: BM25 over an English question and German
        text matches little but names and numbers, so there it only nudges. Score fusion beat
        reciprocal-rank fusion on the tuning half of benchmarks/retrieval.py: ranks throw away how
        far apart two e5 cosines are, and cross-lingually BM25 ranks are mostly noise.
        """
        r = self.settings.retrieval
        k = r.k if k is None else k
        mode = mode or r.mode
        query = validate_query(query, r.max_query_chars)
        validate_k(k)
        if mode not in ("hybrid", "dense", "lexical"):
            raise QuestionError(f"mode must be hybrid, dense or lexical, got {mode!r}")
        validate_filters(filters)
        self.check_model()
        n = max(r.candidates, k)
        dense: list[tuple[str, float]] = []
        lexical: list[tuple[str, float]] = []
        if mode in ("hybrid", "dense"):
            vec = self.embedder.embed([query], "query")[0]
            # Chroma's HNSW searches with ef = max(ef_search, n): asked for 40 it missed ~8% of the
            # true top 40 on the benchmark corpus, asked for 400 ~0.4%, for a few ms more.
            dense = self.dense.query(vec, max(r.ann_depth, n), filters)
            # A fused embedder (e5 + USE) scores cos_a + w * cos_b; Chroma returns that over a constant.
            scale = getattr(self.embedder, "score_scale", None)
            if scale:
                dense = [(cid, s * scale) for cid, s in dense]
        if mode in ("hybrid", "lexical"):
            lexical = self.catalog.search(query, n, filters)
        cosine = dict(dense)
        lex_rank = {cid: i + 1 for i, (cid, _) in enumerate(lexical)}
        top_bm25 = lexical[0][1] if lexical and lexical[0][1] > 0 else 1.0
        bm25 = {cid: s / top_bm25 for cid, s in lexical}
        candidates = {cid for cid, _ in dense[:n]} | set(bm25)
        chunks = self.catalog.chunks(candidates)
        lang = detect_language(query)
        # A lexical candidate beyond the dense list is at most as similar as the list's last entry.
        floor = dense[-1][1] if dense else 0.0
        scores: dict[str, float] = {}
        for cid in candidates:
            c = chunks.get(cid)
            if c is None:
                continue
            if mode == "lexical":
                scores[cid] = bm25[cid]
                continue
            w = r.lexical_weight if c.meta.get("language") == lang else r.lexical_weight_crosslingual
            scores[cid] = cosine.get(cid, floor) + w * bm25.get(cid, 0.0)
        ranked = sorted(scores, key=lambda c: (-scores[c], c))
        ranked = _spread_articles(ranked, chunks, r.per_article, k)
        dense_score = {c: cosine[c] for c in ranked if c in cosine}
        primary = getattr(self.embedder, "primary_similarity", None)
        if primary is not None and dense_score:
            # Report the first model's own cosine: the abstention threshold is calibrated on it.
            ids = list(dense_score)
            dense_score = dict(zip(ids, (float(x) for x in primary(vec, self.dense.vectors(ids)))))
        return [Hit(chunk=chunks[c], score=scores[c], dense_score=dense_score.get(c), lexical_rank=lex_rank.get(c)) for c in ranked]

    # ------------------------------------------------------------------ inspection
    def stats(self) -> dict:
        articles, chunks = self.catalog.counts()
        return {
            "articles": articles, "chunks": chunks, "chroma_chunks": self.dense.count(), "lexical_rows": self.catalog.fts_rowcount(),
            "embedding_model": self.catalog.get_meta("embedding_model") or None, "chroma": self.dense.where,
            "catalog": self.catalog.where,
        }

    def articles(self) -> list[dict]:
        return self.catalog.articles()

    def article_text(self, article_id: str) -> str | None:
        """The whole text of an indexed article (its chunks are spans of it), or None."""
        return self.catalog.article_text(article_id)

    def close(self) -> None:
        self.catalog.close()


def _spread_articles(ranked: list[str], chunks: dict[str, Chunk], per_article: int, k: int) -> list[str]:
    """The first k of ``ranked`` with at most ``per_article`` chunks of one article, topped up in
    rank order when there are too few articles (0: no limit)."""
    if not per_article:
        return ranked[:k]
    top: list[str] = []
    rest: list[str] = []
    taken: dict[str, int] = {}
    for cid in ranked:
        aid = chunks[cid].article_id
        if len(top) < k and taken.get(aid, 0) < per_article:
            top.append(cid)
            taken[aid] = taken.get(aid, 0) + 1
        else:
            rest.append(cid)
        if len(top) == k:
            break
    return top + rest[: k - len(top)]


def open_store(settings: StoreSettings | None = None, *, embedder: Embedder | None = None) -> Store:
    """Open (or create) the store the settings describe: a ``StoreSettings`` or anything with its
    sections (``assistant.Settings`` composes them). The embedder loads lazily on first use."""
    from .embedder import make_embedder

    s = settings or StoreSettings()
    emb = embedder or make_embedder(
        s.embedding.model, cache_dir=Path(s.paths.cache_dir), quantize=s.embedding.quantize,
        batch_size=s.embedding.batch_size, threads=s.embedding.threads, second_weight=s.embedding.second_weight,
    )
    index_dir = Path(s.paths.index_dir)
    dense = DenseIndex(path=None if s.store.chroma_url else index_dir / "chroma", url=s.store.chroma_url, collection=s.store.collection)
    catalog = open_catalog(s.store, index_dir)
    return Store(s, emb, dense, catalog)


__all__ = ["Store", "open_store", "validate_query", "validate_k", "validate_filters"]
