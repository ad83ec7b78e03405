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

from .safety import MARK, neutralize
from .types import Context, EvidenceSentence, Retrieved

TITLE_CHARS = 60


class ContextBuilder:
    """Retrieved -> Context."""

    def __init__(self, embedder: Embedder, passages: int, passage_max_tokens: int, *, numbered: bool = False):
        self.embedder = embedder
        self.passages = passages
        self.passage_max_tokens = passage_max_tokens
        self.numbered = numbered  # show sentences one per line with ids, for evidence-first answers

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
        best = tuple(best_sentence(h, t, sc) for h, t, sc in zip(chosen, passages, scores))
        if self.numbered:
            sentences = numbered_sentences(passages)
            return Context(retrieved, passages, format_numbered(passages, sentences), tuple(sentences), best)
        return Context(retrieved, passages, format_context(passages), best=best)

    def sentence_scores(self, questions: list[str], hits: list[Hit]) -> list[list[float]]:
        """Similarity of each sentence of each passage to the closest of the questions, in one batch
        (they choose what an over-long passage keeps, and the sentence the sources panel highlights)."""
        spans = [sp if len(sp := sentence_spans(h.text)) >= 2 else [] for h in hits]
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


def best_sentence(hit: Hit, trimmed: Hit, scores: list[float]) -> tuple[int, int] | None:
    """(start, end) in ``trimmed.text`` of the hit's best-scoring sentence (``trim_passage`` always
    keeps it); None for a passage of one sentence."""
    if not scores:
        return None
    span = sentence_spans(hit.text)[max(range(len(scores)), key=lambda i: scores[i])]
    cut = trimmed.chunk.start - hit.chunk.start
    return span.start - cut, span.end - cut


def passage_head(n: int, h: Hit) -> str:
    """``[n] (title, date)``, the title cut to ``TITLE_CHARS``."""
    title = neutralize(h.title)  # a headline that addresses the model is material, not instructions
    title = title if len(title) <= TITLE_CHARS else title[: TITLE_CHARS - 3].rsplit(" ", 1)[0] + " …"
    return f"[{n}] ({title}{', ' + h.date if h.date else ''})"


def format_context(passages: list[Hit]) -> str:
    """The numbered passages as the prompt shows them: ``[n] (title, date) text``; sentences that
    address the model are masked (``assistant.safety``)."""
    return "\n\n".join(f"{passage_head(i, h)} {neutralize(h.text)}" for i, h in enumerate(passages, 1))


def numbered_sentences(passages: list[Hit]) -> list[EvidenceSentence]:
    """Every sentence of every passage as the model is shown it; a masked sentence (one that
    addresses the model) gets no id, so it cannot be chosen as evidence."""
    out = []
    for n, h in enumerate(passages, 1):
        text = neutralize(h.text)
        ids = (f"{n}.{m}" for m in range(1, 1000))
        for span in sentence_spans(text):
            sentence = " ".join(text[span.start : span.end].split())
            if sentence and sentence != MARK:
                out.append(EvidenceSentence(next(ids), n, sentence))
    return out


def format_numbered(passages: list[Hit], sentences: list[EvidenceSentence]) -> str:
    """The evidence-first prompt's excerpts: ``[n] (title, date)``, then one ``n.m sentence`` a line."""
    blocks = []
    for n, h in enumerate(passages, 1):
        lines = [passage_head(n, h)] + [f"{s.id} {s.text}" for s in sentences if s.passage == n]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)
