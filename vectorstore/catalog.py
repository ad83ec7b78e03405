"""The catalog: articles, chunks and the lexical (SQLite FTS5, BM25) index, in one SQLite file.

Keeping the manifest and the FTS index in one database means one transaction updates both, so the
lexical side can never disagree with the list of chunks. Chroma (the dense side) is brought in step
by ``Store``: articles are written here as ``pending`` first, then to Chroma, then marked ``done``;
anything left ``pending`` by a crash is cleaned up on the next write.
"""

from __future__ import annotations

import re
import sqlite3
import threading
import time
from collections.abc import Iterable
from pathlib import Path

from .locks import FileLock
from .text import STOPWORDS_DE as _DE, STOPWORDS_EN as _EN
from .types import Article, Chunk, Filters

SCHEMA_VERSION = "1"

_SCHEMA = """
PRAGMA journal_mode=WAL;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS articles (
    article_id TEXT PRIMARY KEY, title TEXT NOT NULL, date TEXT, source TEXT, url TEXT, language TEXT,
    text TEXT NOT NULL, status TEXT NOT NULL, ingested_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS sources (
    source_key TEXT PRIMARY KEY, article_id TEXT NOT NULL, path TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS sources_article ON sources(article_id);
CREATE INDEX IF NOT EXISTS sources_path ON sources(path);
CREATE TABLE IF NOT EXISTS chunks (
    rowid INTEGER PRIMARY KEY, chunk_id TEXT UNIQUE NOT NULL, article_id TEXT NOT NULL,
    ordinal INTEGER NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL, text TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_article ON chunks(article_id);
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(title, text, tokenize='unicode61 remove_diacritics 2');
"""

# Function words plus the words found in more than ~5% of news chunks ("in" alone is in two of
# three): they add nothing to BM25 but make FTS5 score most of the index (p95 1.7 s at 100k chunks).
_STOP = _DE | _EN | {
    "gibt", "sagt", "sagte", "laut", "etwa", "does", "did", "say", "says", "tell",
    "in", "so", "sei", "seien", "habe", "wenn", "durch", "dann", "kann", "soll", "nun", "damit", "wieder",
    "worden", "immer", "hatten", "eines", "da", "dabei", "doch", "alle", "ab", "konnte", "muss", "seiner",
    "bereits", "allerdings", "rund", "uns", "ihm", "ihn", "einen", "einem", "wird", "mehr",
}
_WORD = re.compile(r"\w+", re.UNICODE)


def query_terms(question: str) -> list[str]:
    """The question's content words, lowercased, in order, once each (both catalogs search these)."""
    terms: list[str] = []
    for w in _WORD.findall(question.lower()):
        if len(w) >= 2 and w not in _STOP and w not in terms:
            terms.append(w)
    return terms


def fts_query(question: str) -> str | None:
    """An FTS5 OR-query of the question's content words; long words also match by prefix so that
    inflected German forms meet (Sicherheitsgarantie ~ Sicherheitsgarantien)."""
    terms: list[str] = []
    for w in query_terms(question):
        terms.append(f'"{w}"')
        if len(w) >= 7 and not w.isdigit():
            terms.append(f'"{w[:-2]}"*')
    return " OR ".join(terms) if terms else None


class Catalog:
    """Article/chunk manifest plus BM25 search. Thread-safe (one connection, one lock)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(self.path), check_same_thread=False, timeout=30.0, isolation_level=None)
        self._lock = threading.RLock()
        with self._lock:
            self._db.executescript(_SCHEMA)
            if self.get_meta("schema_version") is None:
                self.set_meta("schema_version", SCHEMA_VERSION)

    @property
    def where(self) -> str:
        return str(self.path)

    def write_lock(self) -> FileLock:
        """The ingest lock: a file lock beside the catalog (the index folder)."""
        return FileLock(self.path.parent / "ingest.lock")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- meta ---------------------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES(?, ?)", (key, value))

    # -- writes ---------------------------------------------------------------------------------
    def add_pending(self, article: Article, chunks: list[Chunk]) -> None:
        """Record an article and its chunks (and their FTS rows) as ``pending``, in one transaction."""
        with self._lock, self._tx():
            self._db.execute(
                "INSERT OR REPLACE INTO articles VALUES(?,?,?,?,?,?,?,?,?)",
                (article.id, article.title, article.date, article.source, article.url, article.language, article.text, "pending", time.time()),
            )
            for c in chunks:
                cur = self._db.execute(
                    'INSERT INTO chunks(chunk_id, article_id, ordinal, start, "end", text) VALUES(?,?,?,?,?,?)',
                    (c.id, c.article_id, c.ordinal, c.start, c.end, c.text),
                )
                self._db.execute("INSERT INTO chunks_fts(rowid, title, text) VALUES(?,?,?)", (cur.lastrowid, c.title, c.text))

    def mark_done(self, article_id: str, source_key: str, path: str) -> None:
        with self._lock, self._tx():
            self._db.execute("UPDATE articles SET status='done' WHERE article_id=?", (article_id,))
            self._db.execute("INSERT OR REPLACE INTO sources VALUES(?,?,?)", (source_key, article_id, path))

    def link_source(self, source_key: str, article_id: str, path: str) -> None:
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO sources VALUES(?,?,?)", (source_key, article_id, path))

    def unlink_source(self, source_key: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM sources WHERE source_key=?", (source_key,))

    def delete_article(self, article_id: str) -> list[str]:
        """Remove an article, its chunks and FTS rows; returns the removed chunk ids."""
        with self._lock, self._tx():
            rows = self._db.execute("SELECT rowid, chunk_id FROM chunks WHERE article_id=?", (article_id,)).fetchall()
            self._db.executemany("DELETE FROM chunks_fts WHERE rowid=?", [(r[0],) for r in rows])
            self._db.execute("DELETE FROM chunks WHERE article_id=?", (article_id,))
            self._db.execute("DELETE FROM articles WHERE article_id=?", (article_id,))
            self._db.execute("DELETE FROM sources WHERE article_id=?", (article_id,))
        return [r[1] for r in rows]

    def clear(self) -> None:
        """Forget every article, chunk, source and the recorded embedding model (for a rebuild)."""
        with self._lock, self._tx():
            for table in ("chunks_fts", "chunks", "sources", "articles"):
                self._db.execute(f"DELETE FROM {table}")
            self._db.execute("DELETE FROM meta WHERE key IN ('embedding_model', 'embedding_dim')")

    def _tx(self):
        db = self._db

        class _Tx:
            def __enter__(self_inner):
                db.execute("BEGIN IMMEDIATE")

            def __exit__(self_inner, exc_type, exc, tb):
                db.execute("ROLLBACK" if exc_type else "COMMIT")
                return False

        return _Tx()

    # -- reads --------------------------------------------------------------------------------
    def source_article(self, source_key: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT article_id FROM sources WHERE source_key=?", (source_key,)).fetchone()
        return row[0] if row else None

    def article_status(self, article_id: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT status FROM articles WHERE article_id=?", (article_id,)).fetchone()
        return row[0] if row else None

    def sources_of(self, article_id: str) -> list[str]:
        with self._lock:
            return [r[0] for r in self._db.execute("SELECT source_key FROM sources WHERE article_id=?", (article_id,))]

    def sources_under(self, path: str, exact_file: bool) -> list[tuple[str, str]]:
        """(source_key, article_id) of every source whose file is ``path`` or lies below it."""
        with self._lock:
            if exact_file:
                rows = self._db.execute("SELECT source_key, article_id FROM sources WHERE path=?", (path,))
            else:
                prefix = path.rstrip("/") + "/"
                rows = self._db.execute(
                    "SELECT source_key, article_id FROM sources WHERE substr(path, 1, ?)=?", (len(prefix), prefix)
                )
            return [(r[0], r[1]) for r in rows]

    def pending_articles(self) -> list[str]:
        with self._lock:
            return [r[0] for r in self._db.execute("SELECT article_id FROM articles WHERE status!='done'")]

    def orphan_articles(self) -> list[str]:
        """Done articles that no source refers to any more."""
        with self._lock:
            return [
                r[0]
                for r in self._db.execute(
                    "SELECT a.article_id FROM articles a LEFT JOIN sources s ON a.article_id=s.article_id "
                    "WHERE a.status='done' AND s.article_id IS NULL"
                )
            ]

    def chunk_ids(self, done_only: bool = True) -> set[str]:
        sql = "SELECT c.chunk_id FROM chunks c"
        if done_only:
            sql += " JOIN articles a ON a.article_id=c.article_id WHERE a.status='done'"
        with self._lock:
            return {r[0] for r in self._db.execute(sql)}

    def fts_rowcount(self) -> int:
        with self._lock:
            return self._db.execute("SELECT count(*) FROM chunks_fts").fetchone()[0]

    def chunks(self, chunk_ids: Iterable[str]) -> dict[str, Chunk]:
        """The stored (done) chunks among ``chunk_ids``, with their article's metadata."""
        ids = list(chunk_ids)
        out: dict[str, Chunk] = {}
        with self._lock:
            for i in range(0, len(ids), 500):
                part = ids[i : i + 500]
                q = (
                    'SELECT c.chunk_id, c.article_id, c.ordinal, c.text, c.start, c."end", a.title, a.date, a.source, a.url, a.language '
                    "FROM chunks c JOIN articles a ON a.article_id=c.article_id "
                    # Not pending ones: during an ingest Chroma already holds chunks a crash would roll back.
                    f"WHERE a.status='done' AND c.chunk_id IN ({','.join('?' * len(part))})"
                )
                for r in self._db.execute(q, part):
                    meta = {"title": r[6], "date": r[7] or "", "source": r[8] or "", "url": r[9] or "", "language": r[10] or ""}
                    out[r[0]] = Chunk(id=r[0], article_id=r[1], ordinal=r[2], text=r[3], start=r[4], end=r[5], meta=meta)
        return out

    def article_text(self, article_id: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT text FROM articles WHERE article_id=?", (article_id,)).fetchone()
        return row[0] if row else None

    def articles(self) -> list[dict]:
        """Every indexed article: id, title, date, source, url, language, chunks, sources."""
        with self._lock:
            rows = self._db.execute(
                "SELECT a.article_id, a.title, a.date, a.source, a.url, a.language, "
                "(SELECT count(*) FROM chunks c WHERE c.article_id=a.article_id), "
                "(SELECT group_concat(source_key, '\n') FROM sources s WHERE s.article_id=a.article_id) "
                "FROM articles a WHERE a.status='done' ORDER BY a.date DESC, a.title"
            ).fetchall()
        keys = ("article_id", "title", "date", "source", "url", "language", "chunks", "sources")
        return [dict(zip(keys, r)) for r in rows]

    def counts(self) -> tuple[int, int]:
        with self._lock:
            a = self._db.execute("SELECT count(*) FROM articles WHERE status='done'").fetchone()[0]
            c = self._db.execute(
                "SELECT count(*) FROM chunks c JOIN articles a ON a.article_id=c.article_id WHERE a.status='done'"
            ).fetchone()[0]
        return a, c

    def search(self, question: str, limit: int, filters: Filters | None = None) -> list[tuple[str, float]]:
        """BM25 search: (chunk_id, bm25 score, higher is better), best first."""
        q = fts_query(question)
        if not q:
            return []
        if filters is None or filters.is_empty():
            # Rank inside FTS5 first and join only the best: joining every match before sorting
            # cost 3x at 100k chunks. The margin covers chunks of articles still pending.
            sql = (
                "SELECT c.chunk_id, -f.s FROM (SELECT rowid, bm25(chunks_fts, 0.5, 1.0) AS s FROM chunks_fts "
                "WHERE chunks_fts MATCH ? ORDER BY s LIMIT ?) f JOIN chunks c ON c.rowid=f.rowid "
                "JOIN articles a ON a.article_id=c.article_id WHERE a.status='done' ORDER BY f.s LIMIT ?"
            )
            with self._lock:
                return [(r[0], r[1]) for r in self._db.execute(sql, (q, limit + 50, limit))]
        where, args = ["chunks_fts MATCH ?", "a.status='done'"], [q]
        if filters:
            if filters.source:
                where.append("a.source=?")
                args.append(filters.source)
            if filters.language:
                where.append("a.language=?")
                args.append(filters.language)
            if filters.date_from:
                where.append("a.date>=?")
                args.append(filters.date_from)
            if filters.date_to:
                where.append("a.date<=?")
                args.append(filters.date_to)
        sql = (
            "SELECT c.chunk_id, -bm25(chunks_fts, 0.5, 1.0) AS s FROM chunks_fts "
            "JOIN chunks c ON c.rowid=chunks_fts.rowid JOIN articles a ON a.article_id=c.article_id "
            f"WHERE {' AND '.join(where)} ORDER BY bm25(chunks_fts, 0.5, 1.0) LIMIT ?"
        )
        with self._lock:
            return [(r[0], r[1]) for r in self._db.execute(sql, (*args, limit))]
