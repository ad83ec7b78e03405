"""The lexical index in PostgreSQL: two ``tsvector`` columns per chunk and a BM25-like ranking over them.

``lex_stem`` holds the chunk's title and text through the text-search configuration of the
article's language (German or English stems and stopwords); ``lex_name`` holds the same words
unchanged ('simple'), so names and numbers that a stemmer would mangle still match exactly. The
title is weighted B and the text A, as FTS5 weighs them 0.5 and 1.0.

PostgreSQL's ``ts_rank_cd`` knows term frequency but not how rare a term is; an OR-query of a
question's words then ranks chunks by their most common word. So each query term is ranked alone
(normalised to r/(r+1): saturating like BM25's k1) and weighted by its inverse document frequency,
counted over the chunks that match any term (one pass over the GIN hits, no corpus statistics to
keep in step).
"""

from __future__ import annotations

from psycopg import sql

from .catalog import query_terms
from .types import Filters

#: The text-search configuration of each article language; other languages (and none) use 'simple'.
TS_CONFIGS = {"de": "german", "en": "english"}
#: ts_rank_cd weights of {D, C, B, A}: title (B) half of text (A).
RANK_WEIGHTS = "{0.1, 0.2, 0.5, 1.0}"
#: Normalisation 32 of ts_rank_cd: rank / (rank + 1).
RANK_NORMALISATION = 32
#: Most question words ranked one by one (a pasted paragraph would otherwise cost one rank per word).
MAX_TERMS = 24

#: Column definitions and indexes (migration step 1 of the catalog).
SCHEMA = """
ALTER TABLE chunks ADD COLUMN lex_stem tsvector NOT NULL;
ALTER TABLE chunks ADD COLUMN lex_name tsvector NOT NULL;
-- Kept in the row (compressed if need be), not in the TOAST table: ranking reads every matching
-- row's vectors once per query term, and out-of-line values cost an index lookup each time.
ALTER TABLE chunks ALTER COLUMN lex_stem SET STORAGE MAIN;
ALTER TABLE chunks ALTER COLUMN lex_name SET STORAGE MAIN;
-- How many chunks there are (BM25's N), kept in the transactions that add and delete them:
-- count(*) would scan the table on every search.
INSERT INTO meta VALUES ('lexical_chunks', '0');
CREATE INDEX chunks_lex_stem ON chunks USING gin(lex_stem);
CREATE INDEX chunks_lex_name ON chunks USING gin(lex_name);
"""

#: The values of ``lex_stem`` and ``lex_name`` in an INSERT with %(cfg)s, %(title)s, %(text)s.
VECTORS = (
    "setweight(to_tsvector(%(cfg)s::regconfig, %(title)s), 'B') || setweight(to_tsvector(%(cfg)s::regconfig, %(text)s), 'A'), "
    "setweight(to_tsvector('simple', %(title)s), 'B') || setweight(to_tsvector('simple', %(text)s), 'A')"
)


#: Statements keeping BM25's N in step: run with the number of chunks added (negative: removed).
COUNT_CHUNKS = "UPDATE meta SET value = (value::bigint + %s)::text WHERE key = 'lexical_chunks'"
RESET_COUNT = "UPDATE meta SET value = '0' WHERE key = 'lexical_chunks'"


def ts_config(language: str | None) -> str:
    return TS_CONFIGS.get(language or "", "simple")


def _stem_query(param: str) -> sql.Composable:
    """A term through every language's stemmer, OR-ed: the question's language need not be the article's."""
    return sql.SQL(" || ").join(
        sql.SQL("plainto_tsquery({}, {})").format(sql.Literal(cfg), sql.Placeholder(param)) for cfg in sorted(set(TS_CONFIGS.values()))
    )


def _name_query(param: str, prefix: str | None) -> sql.Composable:
    """The term unchanged, or (long words) also as a prefix: German compounds meet their parts, as
    in FTS5 (Bibliothek ~ Bibliothekshaushalt)."""
    exact = sql.SQL("plainto_tsquery('simple', {})").format(sql.Placeholder(param))
    if prefix is None:
        return exact
    return sql.SQL("({} || to_tsquery('simple', {}))").format(exact, sql.Placeholder(prefix))


def prefix_of(term: str) -> str | None:
    """The prefix query of a long word (as ``catalog.fts_query`` makes it), or None."""
    return f"{term[:-2]}:*" if len(term) >= 7 and not term.isdigit() else None


def _filter_sql(filters: Filters | None, args: dict) -> sql.Composable:
    parts = [sql.SQL("a.status='done'")]
    for name, cond in (("source", "a.source = {}"), ("language", "a.language = {}"), ("date_from", "a.date >= {}"), ("date_to", "a.date <= {}")):
        value = getattr(filters, name, None) if filters else None
        if value:
            args[name] = value
            parts.append(sql.SQL(cond).format(sql.Placeholder(name)))
    return sql.SQL(" AND ").join(parts)


def search_query(question: str, limit: int, filters: Filters | None) -> tuple[sql.Composed, dict] | None:
    """The SQL and parameters ranking chunks for ``question``: (chunk_id, score), best first; None
    when the question has no content words."""
    terms = query_terms(question)[:MAX_TERMS]
    if not terms:
        return None
    args: dict = {f"t{i}": t for i, t in enumerate(terms)}
    prefixes = {f"p{i}": prefix_of(t) for i, t in enumerate(terms) if prefix_of(t)}
    args.update(prefixes)
    weights = sql.Literal(RANK_WEIGHTS)
    ranks, dfs, score = [], [], []
    for i in range(len(terms)):
        p = f"t{i}"
        ranks.append(sql.SQL(
            "ts_rank_cd({w}::float4[], c.lex_stem, {s}, {n}) + ts_rank_cd({w}::float4[], c.lex_name, {q}, {n}) AS r{i}"
        ).format(w=weights, s=_stem_query(p), q=_name_query(p, f"p{i}" if f"p{i}" in prefixes else None), n=sql.Literal(RANK_NORMALISATION), i=sql.SQL(str(i))))
        dfs.append(sql.SQL("count(*) FILTER (WHERE r{i} > 0) OVER () AS df{i}").format(i=sql.SQL(str(i))))
        score.append(sql.SQL("ln(1 + (n.total - df{i} + 0.5) / (df{i} + 0.5)) * r{i}").format(i=sql.SQL(str(i))))
    # The OR of all terms finds the candidates through the GIN indexes; each is then ranked per term.
    any_stem = sql.SQL(" || ").join(
        sql.SQL("to_tsquery({}, {})").format(sql.Literal(cfg), sql.Placeholder("any"))
        for cfg in sorted(set(TS_CONFIGS.values()))
    )
    args["any"] = " | ".join(terms)
    args["any_name"] = " | ".join([*terms, *prefixes.values()])
    args["limit"] = limit
    query = sql.SQL(
        "WITH m AS MATERIALIZED (SELECT c.chunk_id, c.article_id, {ranks} FROM chunks c "
        "WHERE c.lex_stem @@ ({any_stem}) OR c.lex_name @@ to_tsquery('simple', {any_name})), "
        "d AS (SELECT m.*, {dfs} FROM m), n AS (SELECT value::float8 AS total FROM meta WHERE key = 'lexical_chunks') "
        "SELECT d.chunk_id, ({score})::float8 AS s FROM d CROSS JOIN n JOIN articles a ON a.article_id = d.article_id "
        "WHERE {where} ORDER BY s DESC, d.chunk_id LIMIT {limit}"
    ).format(
        ranks=sql.SQL(", ").join(ranks), dfs=sql.SQL(", ").join(dfs), score=sql.SQL(" + ").join(score),
        any_stem=any_stem, any_name=sql.Placeholder("any_name"), where=_filter_sql(filters, args), limit=sql.Placeholder("limit"),
    )
    return query, args
