"""Where a question's answer lives in an ingested corpus, and which retrieved chunks count as relevant.

A chunk is relevant when it holds at least half of a gold passage (seed set, XQuAD-R), or when it
belongs to the gold article and the set names no passage (XQuAD, MLQA).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from vectorstore.types import Hit

from .datasets import EvalQuestion, EvalSet


@dataclass(frozen=True)
class Gold:
    """Where a question's answer lives: article id -> spans of the gold passage in its text, or None
    when any chunk of that article counts. Empty for unanswerable questions."""

    spans: dict[str, tuple[tuple[int, int], ...] | None] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not self.spans

    def relevant(self, article_id: str, start: int, end: int) -> bool:
        """A chunk [start, end) of an article is relevant when it holds at least half of a gold span."""
        if article_id not in self.spans:
            return False
        spans = self.spans[article_id]
        if spans is None:
            return True
        return any(min(end, e) - max(start, s) >= 0.5 * (e - s) for s, e in spans)

    def relevant_hit(self, hit: Hit) -> bool:
        return self.relevant(hit.chunk.article_id, hit.chunk.start, hit.chunk.end)


class GoldResolver:
    """Finds each question's gold in an ingested store (article texts are read once)."""

    def __init__(self, store, eval_set: EvalSet):
        self.store = store
        self.eval_set = eval_set
        self._texts: dict[str, str] | None = None

    def _all_texts(self) -> dict[str, str]:
        if self._texts is None:
            self._texts = {}
            for a in self.store.articles():
                text = self.store.catalog.article_text(a["article_id"])
                if text:
                    self._texts[a["article_id"]] = text
        return self._texts

    def resolve(self, q: EvalQuestion) -> Gold:
        if not q.answerable:
            return Gold()
        if q.gold_article:
            aid = self.store.catalog.source_article(self.eval_set.source_key(q.gold_article))
            if aid is None:
                return Gold()
            candidates = {aid: self.store.catalog.article_text(aid) or ""}
        else:
            candidates = self._all_texts()
        if not q.gold_passages:
            return Gold({aid: None for aid in candidates})
        found: dict[str, tuple[tuple[int, int], ...] | None] = {}
        for aid, text in candidates.items():
            spans = [(m.start(), m.end()) for p in q.gold_passages for m in re.finditer(re.escape(p), text)]
            if spans:
                found[aid] = tuple(spans)
        if not found and q.gold_article:
            # The passage is the record's headline (it travels with every chunk): any chunk counts.
            found = {aid: None for aid in candidates}
        return Gold(found)


__all__ = ["Gold", "GoldResolver"]
