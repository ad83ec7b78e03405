"""Alignment: which sentences of the passages a claim is closest to, by the store's e5 vectors.

The candidates are each passage's sentences, the clauses of long ones (a claim often restates one
clause), and the headline when it is a statement. The evidence of a candidate is it and, when nearly
as similar, its neighbour (a claim often joins two sentences).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from vectorstore.embedder import Embedder
from vectorstore.text import WORD, sentence_spans

from .types import Evidence, Source

_CLAUSE = re.compile(r"[:;–—]\s+|\s+(?=[“„\"])")


def candidate_spans(text: str) -> list[tuple[int, int]]:
    """The sentences of a text, and the clauses (of four words or more) of a sentence that has several."""
    out: list[tuple[int, int]] = []
    for s in sentence_spans(text):
        out.append((s.start, s.end))
        cuts = [m.end() for m in _CLAUSE.finditer(text, s.start, s.end)]
        if cuts:
            bounds = [s.start, *cuts, s.end]
            out += [(a, b) for a, b in zip(bounds, bounds[1:]) if len(text[a:b].split()) >= 4]
    return out or [(0, len(text))]


def headline_statement(title: str) -> bool:
    """A headline of five words or more, not cut short with "…", can be evidence."""
    title = title.strip()
    return len(WORD.findall(title)) >= 5 and not title.endswith(("…", "..."))


class Aligner:
    """Ranks the candidate sentences of sources against a claim; caches each text's sentence vectors."""

    def __init__(self, embedder: Embedder, neighbour_margin: float):
        self.embedder = embedder
        self.neighbour_margin = neighbour_margin
        self._cache: dict[str, tuple[list[tuple[int, int]], np.ndarray]] = {}
        self._queries: dict[str, np.ndarray] = {}  # filled by ``warm``, used once each

    def _spans(self, text: str) -> tuple[list[tuple[int, int]], np.ndarray]:
        hit = self._cache.get(text)
        if hit is None:
            spans = candidate_spans(text)
            vectors = self.embedder.embed([text[a:b] for a, b in spans], "passage")
            if len(self._cache) > 4096:
                self._cache.clear()
            hit = self._cache[text] = (spans, vectors)
        return hit

    def warm(self, texts: Sequence[str], queries: Sequence[str] = (), batch: int = 256) -> None:
        """Embed the candidates of many texts, and many queries, in large batches (training reads
        thousands of pairs)."""
        for i in range(0, len(queries), batch):
            part = list(queries[i : i + batch])
            self._queries.update(zip(part, self.embedder.embed(part, "query")))
        todo = [t for t in dict.fromkeys(texts) if t not in self._cache]
        for i in range(0, len(todo), batch):
            part = todo[i : i + batch]
            spans = [candidate_spans(t) for t in part]
            flat = [t[a:b] for t, sp in zip(part, spans) for a, b in sp]
            vectors = self.embedder.embed(flat, "passage")
            at = 0
            for t, sp in zip(part, spans):
                self._cache[t] = (sp, vectors[at : at + len(sp)])
                at += len(sp)

    def rank(self, query: str, numbered: Sequence[tuple[int, Source]]) -> list[Evidence]:
        """Every candidate of the numbered sources, most similar to ``query`` first."""
        q = self._queries.pop(query, None)
        q = self.embedder.embed([query], "query")[0] if q is None else q
        out: list[Evidence] = []
        for i, src in numbered:
            spans, vectors = self._spans(src.text)
            out += [Evidence(i, a, b, src.text[a:b], float(s)) for (a, b), s in zip(spans, vectors @ q)]
            if headline_statement(src.title):
                spans, vectors = self._spans(src.title)
                out += [Evidence(i, a, b, src.title[a:b], float(s), in_title=True) for (a, b), s in zip(spans, vectors @ q)]
        return sorted(out, key=lambda e: -e.similarity)

    def window(self, best: Evidence, ranked: Sequence[Evidence], text: str) -> tuple[Evidence, ...]:
        """``best`` and the most similar adjacent candidate of its passage within the margin."""
        close = [
            e for e in ranked
            if e.source == best.source and e.in_title == best.in_title and e is not best
            and e.similarity >= best.similarity - self.neighbour_margin and adjacent(text, best, e)
        ]
        return tuple(sorted([best, *close[:1]], key=lambda e: e.start))


def adjacent(text: str, a: Evidence, b: Evidence) -> bool:
    """Whether two candidates are next to each other (only white space between), not overlapping."""
    if a.start < b.end and b.start < a.end:
        return False
    lo, hi = (a, b) if a.end <= b.start else (b, a)
    return not text[lo.end : hi.start].strip()


def sentence_of(clause: Evidence, ranked: Sequence[Evidence]) -> Evidence:
    """The longest candidate that contains ``clause``: its whole sentence."""
    around = [e for e in ranked if e.source == clause.source and e.in_title == clause.in_title
              and e.start <= clause.start and clause.end <= e.end]
    return max(around, key=lambda e: e.end - e.start, default=clause)


def overlaps(a: Evidence, b: Evidence) -> bool:
    return a.source == b.source and a.in_title == b.in_title and a.start < b.end and b.start < a.end
