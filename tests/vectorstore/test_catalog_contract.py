"""The catalog's contract, held by both back ends: the SQLite file and PostgreSQL (store.catalog_url).

Pending articles are invisible to reads and searches until marked done; deletes return what they
removed; sources are found by file and by folder; the ingest lock is exclusive; lexical search
finds the article a question names, in German and English, with filters. The PostgreSQL runs start
a throw-away cluster (tests/servers.py) and are end-to-end tests."""

from __future__ import annotations

import sys

import psycopg
import pytest

from tests.vectorstore.helpers import DE_BODY, EN_BODY, SPORT_BODY
from vectorstore.catalog import Catalog
from vectorstore.catalogs import open_catalog
from vectorstore.chunker import chunk_article
from vectorstore.errors import ConfigError, IndexBusyError, StoreUnavailableError
from vectorstore.settings import StoreSettings
from vectorstore.types import Article, Filters

LIBRARY_EN = Article("/news/en/library.md", "Springfield approves library budget", EN_BODY, "2024-03-05", "Springfield Post", None, "en")
LIBRARY_DE = Article("/news/de/bibliothek.md", "Musterhausen beschließt Bibliothekshaushalt", DE_BODY, "2024-06-11", "Lokalblatt", None, "de")
SPORT = Article("/news/de/sport/heimspiel.md", "Blauweiß gewinnt Heimspiel", SPORT_BODY, "2023-11-25", "Lokalblatt", None, "de")


def _open(kind: str, request, path):
    if kind == "sqlite":
        return lambda: Catalog(path / "catalog.sqlite3")
    from vectorstore.catalog_pg import PgCatalog

    url = request.getfixturevalue("catalog_url")
    return lambda: PgCatalog(url)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.e2e)])
def opener(request, tmp_path):
    """A function opening (another connection to) one empty catalog of the back end."""
    opened = []

    def make():
        c = _open(request.param, request, tmp_path)()
        opened.append(c)
        return c

    yield make
    for c in opened:
        c.close()


def store(catalog, article: Article, done: bool = True) -> list[str]:
    chunks = chunk_article(article, 40, 8)
    catalog.add_pending(article, chunks)
    if done:
        catalog.mark_done(article.id, article.source_key, article.source_key)
    return [c.id for c in chunks]


def test_pending_articles_are_invisible_until_done(opener):
    cat = opener()
    ids = store(cat, LIBRARY_EN, done=False)
    assert len(ids) > 1 and cat.article_status(LIBRARY_EN.id) == "pending"
    assert cat.pending_articles() == [LIBRARY_EN.id]
    assert cat.chunks(ids) == {} and cat.chunk_ids() == set() and cat.chunk_ids(done_only=False) == set(ids)
    assert cat.search("Springfield library budget", 5) == [] and cat.counts() == (0, 0) and cat.articles() == []
    cat.mark_done(LIBRARY_EN.id, LIBRARY_EN.source_key, "/news/en/library.md")
    assert cat.pending_articles() == [] and cat.chunk_ids() == set(ids) and cat.fts_rowcount() == len(ids)
    got = cat.chunks([*ids, "no-such-chunk"])
    assert set(got) == set(ids)
    first = got[ids[0]]
    assert first.meta == {**LIBRARY_EN.meta} and LIBRARY_EN.text[first.start : first.end] == first.text
    assert cat.counts() == (1, len(ids)) and cat.article_text(LIBRARY_EN.id) == EN_BODY
    assert cat.source_article(LIBRARY_EN.source_key) == LIBRARY_EN.id and cat.sources_of(LIBRARY_EN.id) == [LIBRARY_EN.source_key]
    assert cat.chunks([]) == {}


def test_sources_orphans_and_deletes(opener):
    cat = opener()
    ids = store(cat, SPORT)
    store(cat, LIBRARY_DE)
    cat.link_source("/news/de/sport/kopie.md", SPORT.id, "/news/de/sport/kopie.md")
    assert sorted(cat.sources_of(SPORT.id)) == ["/news/de/sport/heimspiel.md", "/news/de/sport/kopie.md"]
    assert {k for k, _ in cat.sources_under("/news/de", exact_file=False)} == {
        "/news/de/bibliothek.md", "/news/de/sport/heimspiel.md", "/news/de/sport/kopie.md"}
    assert cat.sources_under("/news/de/sport/heimspiel.md", exact_file=True) == [("/news/de/sport/heimspiel.md", SPORT.id)]
    assert cat.sources_under("/news/de/spo", exact_file=False) == []  # a folder, not a string prefix
    cat.unlink_source("/news/de/sport/kopie.md")
    cat.unlink_source("/news/de/sport/heimspiel.md")
    assert cat.orphan_articles() == [SPORT.id]
    assert sorted(cat.delete_article(SPORT.id)) == sorted(ids)
    assert cat.article_status(SPORT.id) is None and cat.chunks(ids) == {} and cat.orphan_articles() == []
    assert cat.search("Heimspiel Torwart", 5) == [] and cat.delete_article(SPORT.id) == []
    assert [a["article_id"] for a in cat.articles()] == [LIBRARY_DE.id]


def test_meta_clear_and_listing(opener):
    cat = opener()
    assert cat.get_meta("dirty") is None
    cat.set_meta("dirty", "1")
    cat.set_meta("dirty", "0")
    cat.set_meta("embedding_model", "hash-256")
    assert cat.get_meta("dirty") == "0"
    for a in (SPORT, LIBRARY_EN, LIBRARY_DE):
        store(cat, a)
    listing = cat.articles()
    assert [a["title"] for a in listing] == [LIBRARY_DE.title, LIBRARY_EN.title, SPORT.title]  # newest first
    assert listing[1] == {"article_id": LIBRARY_EN.id, "title": LIBRARY_EN.title, "date": "2024-03-05", "source": "Springfield Post",
                          "url": None, "language": "en", "chunks": len(chunk_article(LIBRARY_EN, 40, 8)), "sources": LIBRARY_EN.source_key}
    cat.clear()
    assert cat.counts() == (0, 0) and cat.fts_rowcount() == 0 and cat.sources_under("/news", exact_file=False) == []
    assert cat.get_meta("embedding_model") is None and cat.get_meta("dirty") == "0"


def test_lexical_search_finds_the_named_article_in_either_language(opener):
    cat = opener()
    for a in (SPORT, LIBRARY_EN, LIBRARY_DE):
        store(cat, a)
    chunks = cat.chunks(cat.chunk_ids())
    title = lambda hits: chunks[hits[0][0]].title  # noqa: E731
    assert title(cat.search("Wer hielt den Elfmeter beim Heimspiel?", 5)) == SPORT.title
    assert title(cat.search("What did the mayor of Springfield say about the libraries?", 5)) == LIBRARY_EN.title
    assert title(cat.search("Was kostet die Sanierung der Schulgebäude in Musterhausen?", 5)) == LIBRARY_DE.title
    # A part of a German compound finds it (Bibliothek ~ Bibliothekshaushalt).
    assert title(cat.search("Bibliothek Musterhausen", 5)) == LIBRARY_DE.title
    hits = cat.search("Bürgermeisterin Bücher", 5)
    assert [s for _, s in hits] == sorted((s for _, s in hits), reverse=True) and hits[0][1] > 0
    assert cat.search("der die das und", 5) == []
    assert {chunks[c].article_id for c, _ in cat.search("Stadtrat Verein Tabellenplatz", 10, Filters(source="Lokalblatt"))} <= {SPORT.id, LIBRARY_DE.id}
    assert cat.search("Springfield library budget", 5, Filters(language="de")) == []
    assert {chunks[c].article_id for c, _ in cat.search("Haushalt budget Heimspiel", 10, Filters(date_from="2024-01-01", date_to="2024-04-01"))} == {LIBRARY_EN.id}
    assert cat.search("Heimspiel Torwart Abwehr Elfmeter Sieg Verein", 1) and len(cat.search("Verein Stadtrat Springfield", 1)) == 1


def test_the_ingest_lock_is_exclusive(opener):
    first, second = opener(), opener()
    with first.write_lock():
        with pytest.raises(IndexBusyError) as err:
            with second.write_lock():
                pass
        assert "another ingest is writing to" in str(err.value) and "\n" not in str(err.value)
    with second.write_lock():
        pass


@pytest.mark.e2e
def test_postgres_migrations_are_recorded_once_and_a_newer_schema_is_refused(catalog_url):
    from vectorstore.catalog_pg import MIGRATIONS, PgCatalog

    PgCatalog(catalog_url).close()
    again = PgCatalog(catalog_url)  # applying nothing twice
    again.close()
    with psycopg.connect(catalog_url, autocommit=True) as conn:
        assert conn.execute("SELECT component, version FROM schema_version").fetchall() == [("catalog", len(MIGRATIONS))]
        conn.execute("UPDATE schema_version SET version = version + 1")
    with pytest.raises(ConfigError, match="upgrade newsqa") as err:
        PgCatalog(catalog_url)
    assert "store.catalog_url" in str(err.value)


def test_catalog_url_errors_are_one_line_naming_the_setting(monkeypatch, tmp_path):
    with pytest.raises(ValueError, match="store.catalog_url must be a postgresql:// URL"):
        StoreSettings().store.catalog_url = "mysql://db/news"
    section = StoreSettings().store.model_copy(update={"catalog_url": "postgresql://newsqa:secret@127.0.0.1:1/newsqa"})
    with pytest.raises(StoreUnavailableError) as err:
        open_catalog(section, tmp_path)
    msg = str(err.value)
    assert "store.catalog_url" in msg and "127.0.0.1:1" in msg and "secret" not in msg and "\n" not in msg
    monkeypatch.setitem(sys.modules, "psycopg", None)  # the 'postgres' extra is not installed
    with pytest.raises(ConfigError, match=r"store.catalog_url is set, but the PostgreSQL client is missing .*newsqa\[postgres\]"):
        open_catalog(section, tmp_path)


@pytest.mark.e2e
def test_postgres_pruned_search_ranks_like_ranking_every_match(catalog_url, tmp_path):
    """The MaxScore-style pruning of lexical_pg skips chunks that cannot reach the result: the result
    equals ranking every chunk that matches any term."""
    import random

    from tests.reliability.corpus import build_corpus
    from vectorstore import lexical_pg
    from vectorstore.catalog_pg import PgCatalog
    from vectorstore.loader import load_file

    build_corpus(tmp_path / "corpus", random.Random(5))
    cat = PgCatalog(catalog_url)
    for f in sorted((tmp_path / "corpus").iterdir()):
        for art in load_file(f).articles:
            cat.add_pending(art, chunk_article(art, 60, 10))
            cat.mark_done(art.id, art.source_key, str(f))
    pruned = 0
    for q in ("Kennung artikel7x1 Sicherheitsgarantien", "Trump Selenskyj Europa Sicherheitsgarantien Ukraine Gespräche",
              "Meldung Kennung steht hier", "Wer traf Putin in Alaska?"):
        terms = lexical_pg.terms_of(q)
        with psycopg.connect(catalog_url) as conn:
            *dfs, total = conn.execute(*lexical_pg.df_query(terms)).fetchone()
            weights = [lexical_pg.idf(d, total) if d else 0.0 for d in dfs]
            every = [i for i, d in enumerate(dfs) if d]
            for limit in (3, 10):
                want = conn.execute(*lexical_pg.rank_query(terms, weights, every, limit, None)).fetchall()
                assert [(c, round(s, 9)) for c, s in cat.search(q, limit)] == [(c, round(s, 9)) for c, s in want], (q, limit)
                threshold = want[-1][1] if len(want) >= limit else 0.0
                pruned += len(every) - len(lexical_pg.essential(weights, dfs, threshold))
    assert pruned > 0  # the corpus repeats sentences: common terms were left out somewhere
    cat.close()
