"""Stage 3, build context: the first few hits, each trimmed to the sentences that matter most for the
question, numbered [1], [2], … as the model will cite them.

Every prompt token costs time to the first token on a small CPU, so passages are cut to
``answering.passage_max_tokens``: the run of whole sentences around the one most similar to the
question (by the store's embedder, which works across languages where word overlap does not).
Offsets stay exact, so a citation still points into its article.
"""

from __future__ import annotations

from dataclasses import replace

from vectorstore.chunker import count_tokens
from vectorstore.embedder import Embedder
from vectorstore.text import names, sentence_spans
from vectorstore.types import Hit

from .safety import neutralize
from .types import Context, Retrieved

TITLE_CHARS = 60


class ContextBuilder:
    """Retrieved -> Context."""

    def __init__(self, embedder: Embedder, passages: int, passage_max_tokens: int):
        self.embedder = embedder
        self.passages = passages
        self.passage_max_tokens = passage_max_tokens

    def __call__(self, retrieved: Retrieved) -> Context:
        chosen = retrieved.hits[: self.passages]
        condensed = retrieved.condensed
        merged = condensed.search_text != condensed.query.text and condensed.search_text.endswith(condensed.query.text)
        # A follow-up that names its own subject ("Und was sagte Selenskyj dazu?"), searched together
        # with the question before it (the fallback), keeps the sentences about that subject; one
        # that names nothing ("Und wer hat das gesagt?") is trimmed by the question as searched.
        own = merged and bool(names(condensed.query.text))
        questions = [condensed.query.text] if own else [condensed.search_text]
        scores = self.sentence_scores(questions, chosen)
        passages = [trim_passage(h, sc, self.passage_max_tokens) for h, sc in zip(chosen, scores)]
        return Context(retrieved, passages, format_context(passages))

    def sentence_scores(self, questions: list[str], hits: list[Hit]) -> list[list[float]]:
        """Similarity of each sentence of each over-long passage to the closest of the questions, in
        one batch."""
        spans = [sentence_spans(h.text) if count_tokens(h.text) > self.passage_max_tokens else [] for h in hits]
        texts = [h.text[s.start : s.end] for h, sp in zip(hits, spans) for s in sp]
        if not texts:
            return [[] for _ in hits]
        q = self.embedder.embed(questions, "query")
        sims = (self.embedder.embed(texts, "passage") @ q.T).max(axis=1).tolist()
        out, i = [], 0
        for sp in spans:
            out.append(sims[i : i + len(sp)])
            i += len(sp)
        return out


def trim_passage(hit: Hit, scores: list[float], max_tokens: int) -> Hit:
    """Keep a contiguous run of the passage's sentences within ``max_tokens``: start at the sentence
    that scores best and grow towards the better-scoring neighbour. ``scores`` has one value per
    ``sentence_spans(hit.text)``."""
    text = hit.text
    spans = sentence_spans(text)
    if count_tokens(text) <= max_tokens or len(spans) < 2:
        return hit
    tokens = [count_tokens(text[s.start : s.end]) for s in spans]
    best = max(range(len(spans)), key=lambda i: scores[i])
    lo = hi = best
    used = tokens[best]
    while True:
        options = [i for i in (lo - 1, hi + 1) if 0 <= i < len(spans) and used + tokens[i] <= max_tokens]
        if not options:
            break
        i = max(options, key=lambda j: scores[j])
        used += tokens[i]
        lo, hi = min(lo, i), max(hi, i)
    s, e = spans[lo].start, spans[hi].end
    c = hit.chunk
    return replace(hit, chunk=replace(c, text=text[s:e], start=c.start + s, end=c.start + e))


def format_context(passages: list[Hit]) -> str:
    """The numbered passages as the prompt shows them: ``[n] (title, date) text``; sentences that
    address the model are masked (``assistant.safety``)."""
    lines = []
    for i, h in enumerate(passages, 1):
        title = h.title if len(h.title) <= TITLE_CHARS else h.title[: TITLE_CHARS - 3].rsplit(" ", 1)[0] + " …"
        head = title + (f", {h.date}" if h.date else "")
        lines.append(f"[{i}] ({head}) {neutralize(h.text)}")
    return "\n\n".join(lines)
