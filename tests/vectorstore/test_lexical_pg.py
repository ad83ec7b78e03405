"""The PostgreSQL lexical index's bookkeeping and its ranking budget, on a real (throw-away) cluster.

Document frequencies come from the ``lexemes`` table, which every add, delete and clear keeps equal to
counting the chunks' vectors, and which migration step 2 counts for a catalog written before it. The
ranking budget (``store.catalog_rank_budget``) bounds the chunks a question's commoner words bring
in, without changing how a ranked chunk scores."""

from __future__ import annotations

import random

import psycopg
import pytest

from tests.reliability.corpus import build_corpus
from vectorstore import lexical_pg
from vectorstore.catalogs import open_catalog
from vectorstore.chunker import chunk_article
from vectorstore.loader import load_file
from vectorstore.settings import StoreSettings

pytestmark = pytest.mark.e2e

#: Chunks per (column, lexeme), counted from the chunks themselves.
RECOUNT = """
SELECT 's', w, count(*) FROM chunks, unnest(tsvector_to_array(lex_stem)) w GROUP BY w
UNION ALL SELECT 'n', w, count(*) FROM chunks, unnest(tsvector_to_array(lex_name)) w GROUP BY w
"""


def filled(url: str, tmp_path, **kwargs):
    from vectorstore.catalog_pg import PgCatalog

    build_corpus(tmp_path / "corpus", random.Random(5))
    cat = PgCatalog(url, **kwargs)
    for f in sorted((tmp_path / "corpus").iterdir()):
        for art in load_file(f).articles:
            cat.add_pending(art, chunk_article(art, 60, 10))
            cat.mark_done(art.id, art.source_key, str(f))
    return cat


def counted(conn) -> set[tuple]:
    return {(str(c), w, n) for c, w, n in conn.execute("SELECT col, lexeme, chunks FROM lexemes WHERE chunks > 0")}


def recounted(conn) -> set[tuple]:
    return {(str(c), w, n) for c, w, n in conn.execute(RECOUNT)}


def test_lexeme_counts_follow_adds_deletes_clears_and_the_migration(catalog_url, tmp_path):
    from vectorstore.catalog_pg import MIGRATIONS, PgCatalog

    cat = filled(catalog_url, tmp_path)
    with psycopg.connect(catalog_url, autocommit=True) as conn:
        assert counted(conn) == recounted(conn) and len(recounted(conn)) > 100
        # A word with one lexeme: its document frequency is the number of chunks holding it.
        terms = lexical_pg.terms_of("Kennung")
        (df, total), = [conn.execute(*lexical_pg.df_query(terms)).fetchone()]
        assert df == conn.execute("SELECT count(*) FROM chunks WHERE lex_name @@ 'kennung'::tsquery").fetchone()[0] > 0
        assert total == cat.fts_rowcount()
        for aid in [a["article_id"] for a in cat.articles()][:7]:
            assert cat.delete_article(aid)
        assert counted(conn) == recounted(conn)
        # A catalog written before the table existed gets it counted by migration step 2.
        want = counted(conn)
        conn.execute("DROP TABLE lexemes")
        conn.execute("UPDATE schema_version SET version = 1 WHERE component = 'catalog'")
        PgCatalog(catalog_url).close()
        assert counted(conn) == want
        assert conn.execute("SELECT version FROM schema_version WHERE component = 'catalog'").fetchone()[0] == len(MIGRATIONS)
        cat.clear()
        assert counted(conn) == set() and cat.search("Kennung artikel7x1", 5) == []
    cat.close()


def test_the_rank_budget_bounds_the_chunks_ranked_not_their_scores(catalog_url, tmp_path):
    from vectorstore.catalog_pg import PgCatalog

    tight = filled(catalog_url, tmp_path, rank_budget=1)
    every = PgCatalog(catalog_url, rank_budget=10**9)
    q = "Kennung artikel7x1 steht hier"
    exact = dict(every.search(q, 1000))
    got = tight.search(q, 10)
    texts = tight.chunks(c for c, _ in got)
    # Only the rarest word's chunks came in (as a long word also by its prefix, artikel7...); each
    # scored by every word, as ranking every match scores it.
    assert got and all("artikel7" in texts[c].text for c, _ in got)
    assert all(abs(s - exact[c]) < 1e-9 for c, s in got)
    assert len(every.search(q, 10)) == 10 > len(got)
    tight.close()
    every.close()


def test_the_rank_budget_is_a_setting(catalog_url, tmp_path):
    section = StoreSettings().store.model_copy(update={"catalog_url": catalog_url, "catalog_rank_budget": 345})
    cat = open_catalog(section, tmp_path)
    assert cat.rank_budget == 345
    cat.close()
