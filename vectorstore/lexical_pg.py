"""The lexical index in PostgreSQL: two ``tsvector`` columns per chunk and a BM25-like ranking over them.

``lex_stem`` holds the chunk's title and text through the text-search configuration of the
article's language (German or English stems and stopwords); ``lex_name`` holds the same words
unchanged ('simple'), so names and numbers that a stemmer would mangle still match exactly. The
title is weighted B and the text A, as FTS5 weighs them 0.5 and 1.0.

PostgreSQL's ``ts_rank_cd`` knows term frequency but not how rare a term is; an OR-query of a
question's words then ranks chunks by their most common word. So each query term is ranked alone
(normalised to r/(r+1): saturating like BM25's k1) and weighted by BM25's inverse document
frequency. Document frequencies come from ``lexemes`` (chunks per lexeme and column) and N from a
counter, both kept in the transactions that add and delete chunks: counting matches through the GIN
indexes at query time read every matching row (200 ms for a question at 100k chunks).

Ranking costs one ``ts_rank_cd`` per term and matching chunk, so a question with a common word
would rank a fifth of the index. The search prunes like MaxScore, without changing the result: a
term adds at most 2 x its idf to a chunk's score; the chunks of the rarest terms are ranked first,
and the common terms whose bounds together stay below the ``limit``-th score found there cannot lift
a chunk that has only them into the result, so only chunks with some other term are ranked. Where
that still leaves more than ``budget`` chunks (``store.catalog_rank_budget``), the commonest terms
bring in no chunks of their own (they still score the chunks ranked): a ranked chunk costs ~10 us
and one common word matches a sixth of a 100k-chunk index, so this bound keeps latency flat.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

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

#: The lexemes of one article's chunks, (column, lexeme, chunks x %s) in lexeme order (so two writers
#: lock rows in the same order): 's' is ``lex_stem``, 'n' is ``lex_name``.
_LEXEMES_OF = """
SELECT t.col, t.w, %s::integer * count(*) FROM chunks c CROSS JOIN LATERAL (
    SELECT 's'::"char", w FROM unnest(tsvector_to_array(c.lex_stem)) w
    UNION ALL SELECT 'n'::"char", w FROM unnest(tsvector_to_array(c.lex_name)) w
) t(col, w) WHERE {where} GROUP BY t.col, t.w ORDER BY t.col, t.w
"""

#: Migration step 2: chunks per lexeme (BM25's document frequencies), counted once from the chunks.
LEXEMES_SCHEMA = """
-- Byte order ("C"), so that a prefix is a range of the primary key whatever the database's locale.
CREATE TABLE lexemes (col "char" NOT NULL, lexeme text COLLATE "C" NOT NULL, chunks integer NOT NULL, PRIMARY KEY (col, lexeme));
INSERT INTO lexemes(col, lexeme, chunks)
""" + _LEXEMES_OF.replace("%s::integer *", "").format(where="true") + ";"

#: Add (sign 1) or take away (sign -1) the lexemes of article %s's chunks: run with (sign, article_id)
#: after inserting them, before deleting them.
COUNT_LEXEMES = (
    "INSERT INTO lexemes(col, lexeme, chunks) " + _LEXEMES_OF.format(where="c.article_id = %s")
    + " ON CONFLICT (col, lexeme) DO UPDATE SET chunks = lexemes.chunks + EXCLUDED.chunks"
)

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


@dataclass(frozen=True)
class Terms:
    """A question's terms: words, and the prefix query of the long ones."""

    words: tuple[str, ...]
    prefixes: tuple[str | None, ...]

    def args(self) -> dict:
        out: dict = {f"t{i}": w for i, w in enumerate(self.words)}
        out.update({f"p{i}": p for i, p in enumerate(self.prefixes) if p})
        out.update({f"r{i}": p[:-2] for i, p in enumerate(self.prefixes) if p})  # the prefix itself
        return out


def prefix_of(term: str) -> str | None:
    """The prefix query of a long word (as ``catalog.fts_query`` makes it), or None."""
    return f"{term[:-2]}:*" if len(term) >= 7 and not term.isdigit() else None


def terms_of(question: str) -> Terms | None:
    words = tuple(query_terms(question)[:MAX_TERMS])
    return Terms(words, tuple(prefix_of(w) for w in words)) if words else None


def _stem_query(i: int) -> sql.Composable:
    """Term i through every language's stemmer, OR-ed: the question's language need not be the article's."""
    return sql.SQL(" || ").join(
        sql.SQL("plainto_tsquery({}, {})").format(sql.Literal(cfg), sql.Placeholder(f"t{i}")) for cfg in sorted(set(TS_CONFIGS.values()))
    )


def _name_query(terms: Terms, i: int) -> sql.Composable:
    """Term i unchanged, and (long words) also as a prefix: German compounds meet their parts, as in
    FTS5 (Bibliothek ~ Bibliothekshaushalt)."""
    exact = sql.SQL("plainto_tsquery('simple', {})").format(sql.Placeholder(f"t{i}"))
    if terms.prefixes[i] is None:
        return exact
    return sql.SQL("({} || to_tsquery('simple', {}))").format(exact, sql.Placeholder(f"p{i}"))


def _matches(terms: Terms, i: int) -> sql.Composable:
    return sql.SQL("(c.lex_stem @@ ({}) OR c.lex_name @@ {})").format(_stem_query(i), _name_query(terms, i))


def _df(terms: Terms, i: int) -> sql.Composable:
    """Chunks matching term i, from ``lexemes``: its commonest stem, or its name with every word it
    prefixes (the chunks of two forms mostly overlap, so max and sum stand in for their union)."""
    stems = sql.SQL(" || ").join(
        sql.SQL("to_tsvector({}, {})").format(sql.Literal(cfg), sql.Placeholder(f"t{i}")) for cfg in sorted(set(TS_CONFIGS.values()))
    )
    if terms.prefixes[i] is None:
        name = sql.SQL("lexeme = ANY(tsvector_to_array(to_tsvector('simple', {})))").format(sql.Placeholder(f"t{i}"))
    else:
        name = sql.SQL("lexeme >= {r} AND lexeme < {r} || chr(1114111)").format(r=sql.Placeholder(f"r{i}"))
    return sql.SQL(
        "greatest((SELECT max(chunks) FROM lexemes WHERE col = 's' AND lexeme = ANY(tsvector_to_array({stems}))), "
        "(SELECT sum(chunks) FROM lexemes WHERE col = 'n' AND {name}), 0)"
    ).format(stems=stems, name=name)


def df_query(terms: Terms) -> tuple[sql.Composed, dict]:
    """(chunks matching each term..., chunks in all): index lookups in ``lexemes``, no chunk read."""
    counts = [_df(terms, i) for i in range(len(terms.words))]
    query = sql.SQL("SELECT {}, (SELECT value::bigint FROM meta WHERE key = 'lexical_chunks')").format(sql.SQL(", ").join(counts))
    return query, terms.args()


def idf(df: int, total: int) -> float:
    """BM25's inverse document frequency."""
    return math.log(1 + (total - df + 0.5) / (df + 0.5))


def _filter_sql(filters: Filters | None, args: dict) -> sql.Composable:
    parts = [sql.SQL("a.status='done'")]
    for name, cond in (("source", "a.source = {}"), ("language", "a.language = {}"), ("date_from", "a.date >= {}"), ("date_to", "a.date <= {}")):
        value = getattr(filters, name, None) if filters else None
        if value:
            args[name] = value
            parts.append(sql.SQL(cond).format(sql.Placeholder(name)))
    return sql.SQL(" AND ").join(parts)


def rank_query(terms: Terms, weights: list[float], among: list[int], limit: int, filters: Filters | None) -> tuple[sql.Composed, dict]:
    """Rank the chunks matching any of the terms ``among``: (chunk_id, score) best first, where
    score = sum over every term of weights[i] x (its saturated rank in both columns)."""
    args = terms.args()
    w, n = sql.Literal(RANK_WEIGHTS), sql.Literal(RANK_NORMALISATION)
    score = sql.SQL(" + ").join(
        # A chunk has few of the terms: testing for one (@@) costs a fraction of ranking it.
        sql.SQL("{idf} * (CASE WHEN c.lex_stem @@ {s} THEN ts_rank_cd({w}::float4[], c.lex_stem, {s}, {n}) ELSE 0 END"
                " + CASE WHEN c.lex_name @@ {q} THEN ts_rank_cd({w}::float4[], c.lex_name, {q}, {n}) ELSE 0 END)").format(
            idf=sql.Literal(weights[i]), w=w, s=sql.SQL("({})").format(_stem_query(i)), q=_name_query(terms, i), n=n)
        for i in range(len(terms.words)) if weights[i] > 0
    )
    args["limit"] = limit
    query = sql.SQL(
        # The article of each ranked chunk by its key (OFFSET 0 keeps the planner from hashing every article).
        "SELECT c.chunk_id, ({score})::float8 AS s FROM chunks c CROSS JOIN LATERAL "
        "(SELECT 1 FROM articles a WHERE a.article_id = c.article_id AND {where} OFFSET 0) a "
        "WHERE ({match}) ORDER BY s DESC, c.chunk_id LIMIT {limit}"
    ).format(score=score, match=sql.SQL(" OR ").join(_matches(terms, i) for i in among), where=_filter_sql(filters, args),
             limit=sql.Placeholder("limit"))
    return query, args


def first_round(dfs: list[int], limit: int, budget: int) -> list[int]:
    """The rarest terms that together match at least ``limit`` chunks (or all that match any), as far
    as ``budget`` allows: the rarest term always, others while their chunks fit in it."""
    order = sorted((i for i, d in enumerate(dfs) if d > 0), key=lambda i: (dfs[i], i))
    chosen, covered = [], 0
    for i in order:
        if chosen and covered + dfs[i] > budget:
            break
        chosen.append(i)
        covered += dfs[i]
        if covered >= limit:
            break
    return chosen


def within_budget(needed: list[int], dfs: list[int], first: list[int], budget: int) -> list[int]:
    """``first`` and the rarest of the ``needed`` terms, while their chunks together fit in ``budget``:
    all of ``needed`` when they do, which keeps the result exact."""
    chosen, covered = list(first), sum(dfs[i] for i in first)
    for i in sorted((i for i in needed if i not in first), key=lambda i: (dfs[i], i)):
        if covered + dfs[i] > budget:
            break
        chosen.append(i)
        covered += dfs[i]
    return chosen


def essential(weights: list[float], dfs: list[int], threshold: float) -> list[int]:
    """The terms a chunk must have to reach ``threshold``: all but the weakest ones whose bounds
    (2 x idf: each column's saturated rank is below 1) add up to less than it."""
    order = sorted((i for i, d in enumerate(dfs) if d > 0), key=lambda i: (weights[i], i))
    bound, skip = 0.0, set()
    for i in order:
        bound += 2 * weights[i]
        if bound >= threshold:
            break
        skip.add(i)
    return [i for i in order if i not in skip]
