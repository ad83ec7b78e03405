"""The catalog in PostgreSQL: the same manifest and lexical index as ``catalog.Catalog`` (SQLite),
shared by every app node whose ``store.catalog_url`` names the same database.

Same interface, same crash protocol: an article and its chunks are written ``pending`` in one
transaction, then to Chroma, then marked ``done``; a ``dirty`` flag in ``meta`` makes the next write
reconcile. A transaction cut off by a crash is rolled back by the server. The ingest lock is a
session advisory lock, released by the server when its holder's connection ends, however it ends.
The tables are created and upgraded by versioned migrations (``schema_version``) at start.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

import psycopg

from . import lexical_pg, pg
from .errors import IndexBusyError, StoreUnavailableError
from .types import Article, Chunk, Filters

SETTING = "store.catalog_url"
#: Advisory lock (two int4 keys) held by the one ingest (or removal) writing to the catalog.
INGEST_LOCK = (0x6E657773, 2)

#: Migration steps of the catalog's tables, applied in order once each; append, never edit.
MIGRATIONS = [
    """
    CREATE TABLE meta (key text PRIMARY KEY, value text NOT NULL);
    CREATE TABLE articles (
        article_id text PRIMARY KEY, title text NOT NULL, date text, source text, url text, language text,
        text text NOT NULL, status text NOT NULL, ingested_at double precision NOT NULL
    );
    CREATE TABLE sources (source_key text PRIMARY KEY, article_id text NOT NULL, path text NOT NULL);
    CREATE INDEX sources_article ON sources(article_id);
    CREATE INDEX sources_path ON sources(path);
    CREATE TABLE chunks (
        chunk_id text PRIMARY KEY, article_id text NOT NULL, ordinal integer NOT NULL,
        start integer NOT NULL, "end" integer NOT NULL, text text NOT NULL
    );
    CREATE INDEX chunks_article ON chunks(article_id);
    """
    + lexical_pg.SCHEMA,
    lexical_pg.LEXEMES_SCHEMA,
]

_INSERT_CHUNK = (
    'INSERT INTO chunks(chunk_id, article_id, ordinal, start, "end", text, lex_stem, lex_name) '
    f"VALUES(%(id)s, %(aid)s, %(ordinal)s, %(start)s, %(end)s, %(text)s, {lexical_pg.VECTORS})"
)
_UPSERT_SOURCE = (
    "INSERT INTO sources VALUES(%s, %s, %s) ON CONFLICT (source_key) DO UPDATE "
    "SET article_id=EXCLUDED.article_id, path=EXCLUDED.path"
)


class AdvisoryLock:
    """``with AdvisoryLock(url):`` - IndexBusyError if another process (on any node) holds it."""

    def __init__(self, url: str):
        self.url = url

    def __enter__(self) -> "AdvisoryLock":
        # A connection of its own: the lock lives as long as the session, and a dying holder's
        # session ends with it.
        self.conn = pg.connect(self.url, SETTING, application_name=pg.node_name() + " ingest")
        try:
            if self.conn.execute("SELECT pg_try_advisory_lock(%s, %s)", INGEST_LOCK).fetchone()[0]:
                return self
            row = self.conn.execute(
                "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                "WHERE l.locktype = 'advisory' AND l.granted AND l.classid = %s AND l.objid = %s AND l.objsubid = 2",
                INGEST_LOCK,
            ).fetchone()
        except psycopg.OperationalError as e:
            self.conn.close()
            raise pg.unavailable(self.url, SETTING, "take the ingest lock", e) from e
        self.conn.close()
        raise IndexBusyError(
            f"another ingest is writing to the catalog at {pg.redact(self.url)} ({row[0] if row else 'holder unknown'}); "
            "wait for it to finish"
        )

    def __exit__(self, *exc) -> bool:
        self.conn.close()  # ends the session, which releases the lock
        return False


class PgCatalog:
    """Article/chunk manifest plus lexical search in PostgreSQL. Thread-safe (a connection pool)."""

    def __init__(self, url: str, *, pool_size: int = 4, rank_budget: int = 2000):
        self.url, self.rank_budget = url, rank_budget
        conn = pg.connect(url, SETTING)
        try:
            pg.migrate(conn, url, SETTING, "catalog", MIGRATIONS)
        except psycopg.Error as e:
            raise StoreUnavailableError(
                f"cannot prepare the catalog tables at {pg.redact(url)} ({SETTING}): {str(e).strip().splitlines()[0]}"
            ) from e
        finally:
            conn.close()
        self._pool = pg.Pool(url, SETTING, pool_size)

    @property
    def where(self) -> str:
        return pg.redact(self.url)

    def write_lock(self) -> AdvisoryLock:
        return AdvisoryLock(self.url)

    def close(self) -> None:
        self._pool.close()

    def _rows(self, what: str, query, args=()) -> list[tuple]:
        with self._pool.connection(what) as conn:
            return conn.execute(query, args).fetchall()

    def _one(self, what: str, query, args=()):
        rows = self._rows(what, query, args)
        return rows[0][0] if rows else None

    def _run(self, what: str, *statements: tuple[str, object]) -> None:
        """Statements in one transaction."""
        with self._pool.connection(what) as conn, conn.transaction():
            for query, args in statements:
                conn.execute(query, args)

    # -- meta ---------------------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        return self._one("read meta", "SELECT value FROM meta WHERE key=%s", (key,))

    def set_meta(self, key: str, value: str) -> None:
        self._run("write meta", ("INSERT INTO meta VALUES(%s, %s) ON CONFLICT (key) DO UPDATE SET value=EXCLUDED.value", (key, value)))

    # -- writes ---------------------------------------------------------------------------------
    def add_pending(self, article: Article, chunks: list[Chunk]) -> None:
        """Record an article and its chunks (with their lexical vectors) as ``pending``, in one transaction."""
        a = article
        cfg = lexical_pg.ts_config(a.language)
        rows = [
            {"id": c.id, "aid": c.article_id, "ordinal": c.ordinal, "start": c.start, "end": c.end, "text": c.text, "title": c.title, "cfg": cfg}
            for c in chunks
        ]
        with self._pool.connection("add an article") as conn, conn.transaction():
            conn.execute(
                "INSERT INTO articles VALUES(%s, %s, %s, %s, %s, %s, %s, 'pending', %s) ON CONFLICT (article_id) DO UPDATE SET "
                "title=EXCLUDED.title, date=EXCLUDED.date, source=EXCLUDED.source, url=EXCLUDED.url, language=EXCLUDED.language, "
                "text=EXCLUDED.text, status=EXCLUDED.status, ingested_at=EXCLUDED.ingested_at",
                (a.id, a.title, a.date, a.source, a.url, a.language, a.text, time.time()),
            )
            if rows:
                with conn.cursor() as cur:
                    cur.executemany(_INSERT_CHUNK, rows)
                conn.execute(lexical_pg.COUNT_CHUNKS, (len(rows),))
                conn.execute(lexical_pg.COUNT_LEXEMES, (1, a.id))

    def mark_done(self, article_id: str, source_key: str, path: str) -> None:
        self._run(
            "mark an article done",
            ("UPDATE articles SET status='done' WHERE article_id=%s", (article_id,)),
            (_UPSERT_SOURCE, (source_key, article_id, path)),
        )

    def link_source(self, source_key: str, article_id: str, path: str) -> None:
        self._run("link a source", (_UPSERT_SOURCE, (source_key, article_id, path)))

    def unlink_source(self, source_key: str) -> None:
        self._run("unlink a source", ("DELETE FROM sources WHERE source_key=%s", (source_key,)))

    def delete_article(self, article_id: str) -> list[str]:
        """Remove an article, its chunks and lexical rows; returns the removed chunk ids."""
        with self._pool.connection("delete an article") as conn, conn.transaction():
            conn.execute(lexical_pg.COUNT_LEXEMES, (-1, article_id))
            removed = [r[0] for r in conn.execute("DELETE FROM chunks WHERE article_id=%s RETURNING chunk_id", (article_id,))]
            conn.execute("DELETE FROM articles WHERE article_id=%s", (article_id,))
            conn.execute("DELETE FROM sources WHERE article_id=%s", (article_id,))
            if removed:
                conn.execute(lexical_pg.COUNT_CHUNKS, (-len(removed),))
        return removed

    def clear(self) -> None:
        """Forget every article, chunk, source and the recorded embedding model (for a rebuild)."""
        self._run(
            "clear the catalog",
            ("TRUNCATE chunks, sources, articles, lexemes", None),
            (lexical_pg.RESET_COUNT, None),
            ("DELETE FROM meta WHERE key IN ('embedding_model', 'embedding_dim')", None),
        )

    # -- reads --------------------------------------------------------------------------------
    def source_article(self, source_key: str) -> str | None:
        return self._one("read sources", "SELECT article_id FROM sources WHERE source_key=%s", (source_key,))

    def article_status(self, article_id: str) -> str | None:
        return self._one("read articles", "SELECT status FROM articles WHERE article_id=%s", (article_id,))

    def sources_of(self, article_id: str) -> list[str]:
        return [r[0] for r in self._rows("read sources", "SELECT source_key FROM sources WHERE article_id=%s", (article_id,))]

    def sources_under(self, path: str, exact_file: bool) -> list[tuple[str, str]]:
        """(source_key, article_id) of every source whose file is ``path`` or lies below it."""
        if exact_file:
            rows = self._rows("read sources", "SELECT source_key, article_id FROM sources WHERE path=%s", (path,))
        else:
            prefix = path.rstrip("/") + "/"
            rows = self._rows("read sources", "SELECT source_key, article_id FROM sources WHERE starts_with(path, %s)", (prefix,))
        return [(r[0], r[1]) for r in rows]

    def pending_articles(self) -> list[str]:
        return [r[0] for r in self._rows("read articles", "SELECT article_id FROM articles WHERE status != 'done'")]

    def orphan_articles(self) -> list[str]:
        """Done articles that no source refers to any more."""
        return [r[0] for r in self._rows(
            "read articles",
            "SELECT a.article_id FROM articles a LEFT JOIN sources s ON a.article_id = s.article_id "
            "WHERE a.status = 'done' AND s.article_id IS NULL",
        )]

    def chunk_ids(self, done_only: bool = True) -> set[str]:
        q = "SELECT c.chunk_id FROM chunks c"
        if done_only:
            q += " JOIN articles a ON a.article_id = c.article_id WHERE a.status = 'done'"
        return {r[0] for r in self._rows("read chunks", q)}

    def fts_rowcount(self) -> int:
        """Chunks in the lexical index: every chunk row carries its vectors."""
        return self._one("count chunks", "SELECT count(*) FROM chunks")

    def chunks(self, chunk_ids: Iterable[str]) -> dict[str, Chunk]:
        """The stored (done) chunks among ``chunk_ids``, with their article's metadata."""
        rows = self._rows(
            "read chunks",
            'SELECT c.chunk_id, c.article_id, c.ordinal, c.text, c.start, c."end", a.title, a.date, a.source, a.url, a.language '
            "FROM chunks c JOIN articles a ON a.article_id = c.article_id "
            # Not pending ones: during an ingest Chroma already holds chunks a crash would roll back.
            "WHERE a.status = 'done' AND c.chunk_id = ANY(%s::text[])",
            (list(chunk_ids),),
        )
        out: dict[str, Chunk] = {}
        for r in rows:
            meta = {"title": r[6], "date": r[7] or "", "source": r[8] or "", "url": r[9] or "", "language": r[10] or ""}
            out[r[0]] = Chunk(id=r[0], article_id=r[1], ordinal=r[2], text=r[3], start=r[4], end=r[5], meta=meta)
        return out

    def article_text(self, article_id: str) -> str | None:
        return self._one("read articles", "SELECT text FROM articles WHERE article_id=%s", (article_id,))

    def articles(self) -> list[dict]:
        """Every indexed article: id, title, date, source, url, language, chunks, sources."""
        rows = self._rows(
            "list articles",
            "SELECT a.article_id, a.title, a.date, a.source, a.url, a.language, "
            "(SELECT count(*) FROM chunks c WHERE c.article_id = a.article_id), "
            "(SELECT string_agg(source_key, E'\\n') FROM sources s WHERE s.article_id = a.article_id) "
            # The order SQLite gives: no date last, titles by code point.
            "FROM articles a WHERE a.status = 'done' ORDER BY a.date DESC NULLS LAST, a.title COLLATE \"C\"",
        )
        keys = ("article_id", "title", "date", "source", "url", "language", "chunks", "sources")
        return [dict(zip(keys, r)) for r in rows]

    def counts(self) -> tuple[int, int]:
        row = self._rows(
            "count articles",
            "SELECT (SELECT count(*) FROM articles WHERE status = 'done'), "
            "(SELECT count(*) FROM chunks c JOIN articles a ON a.article_id = c.article_id WHERE a.status = 'done')",
        )[0]
        return row[0], row[1]

    def search(self, question: str, limit: int, filters: Filters | None = None) -> list[tuple[str, float]]:
        """Lexical search: (chunk_id, score, higher is better), best first (see ``lexical_pg``)."""
        terms = lexical_pg.terms_of(question)
        if terms is None:
            return []
        with self._pool.connection("search") as conn, conn.transaction():
            # The planner misjudges how many chunks a text query matches and may scan the whole
            # table, testing every row; the GIN indexes visit only the matching ones. A search ranks
            # at most a few thousand rows: parallel workers would cost more to start than they save.
            conn.execute("SET LOCAL enable_seqscan = off; SET LOCAL max_parallel_workers_per_gather = 0")
            *dfs, total = conn.execute(*lexical_pg.df_query(terms)).fetchone()
            weights = [lexical_pg.idf(d, total) if d else 0.0 for d in dfs]
            first = lexical_pg.first_round(dfs, limit, self.rank_budget)
            if not first:
                return []
            rows = conn.execute(*lexical_pg.rank_query(terms, weights, first, limit, filters)).fetchall()
            threshold = rows[-1][1] if len(rows) >= limit else 0.0
            more = lexical_pg.within_budget(lexical_pg.essential(weights, dfs, threshold), dfs, first, self.rank_budget)
            if set(more) - set(first):
                rows = conn.execute(*lexical_pg.rank_query(terms, weights, more, limit, filters)).fetchall()
        return [(r[0], r[1]) for r in rows]
