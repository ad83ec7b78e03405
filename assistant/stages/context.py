"""Stage 3, build context: the evidence the model is shown, numbered [1], [2], … as it will cite it.

Every prompt token costs time to the first token on a small CPU, so the model is shown at most
``answering.context_passages`` × ``answering.passage_max_tokens`` tokens of article text. How they are
chosen is ``answering.evidence_selection``:

- ``sentences``: the sentences of *all* retrieved hits are ranked against the question (by the
  store's embedder, which works across languages where word overlap does not, plus their hit's
  retrieval score) and the best are taken while the budget lasts, the passages' headers paid from
  it beyond the old ones (``assistant.stages.select``). Chosen sentences of one chunk that follow each
  other are one passage; passages are ordered by their best sentence. On XQuAD-R the answer
  sentence is then shown far more often (``benchmarks/results/evidence.md``).
- ``passages``: the first ``context_passages`` hits, each cut to the run of whole sentences around
  its sentence most similar to the question.

Either way a passage is a ``Hit`` whose text is a contiguous part of its chunk with exact offsets,
so a citation still points into its article.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Literal

from vectorstore.chunker import count_tokens
from vectorstore.embedder import Embedder
from vectorstore.text import names, sentence_spans
from vectorstore.types import Hit

from ..settings import Answering
from ..types import Condensed, Context, EvidenceSentence, Retrieved, Span
from . import select
from .safety import MARK, neutralize

TITLE_CHARS = 60

Selection = Literal["sentences", "passages"]


class ContextBuilder:
    """Retrieved -> Context."""

    def __init__(
        self, embedder: Embedder, passages: int, passage_max_tokens: int, *, numbered: bool = False,
        selection: Selection | None = None, params: select.Params | None = None,
    ):
        selection = selection or Answering.model_fields["evidence_selection"].default
        if selection not in ("sentences", "passages"):
            raise ValueError(f"evidence selection must be 'sentences' or 'passages', got {selection!r}")
        self.embedder = embedder
        self.passages = passages
        self.passage_max_tokens = passage_max_tokens
        self.numbered = numbered  # show sentences one per line with ids, for evidence-first answers
        self.selection = selection
        self.params = params or select.Params()

    def __call__(self, retrieved: Retrieved) -> Context:
        questions = scoring_questions(retrieved.condensed)
        if self.selection == "sentences":
            passages, best = self.choose_sentences(questions, retrieved.hits)
        else:
            passages, best = self.trim_passages(questions, retrieved.hits[: self.passages])
        if self.numbered:
            sentences = numbered_sentences(passages)
            return Context(retrieved, passages, format_numbered(passages, sentences), tuple(sentences), best)
        return Context(retrieved, passages, format_context(passages), best=best)

    def trim_passages(self, questions: list[str], chosen: list[Hit]) -> tuple[list[Hit], tuple[Span | None, ...]]:
        """The first hits, each trimmed around its sentence closest to the question."""
        scores = self.sentence_scores(questions, chosen)
        passages = [trim_passage(h, sc, self.passage_max_tokens) for h, sc in zip(chosen, scores)]
        return passages, tuple(best_sentence(h, t, sc) for h, t, sc in zip(chosen, passages, scores))

    def choose_sentences(self, questions: list[str], hits: list[Hit]) -> tuple[list[Hit], tuple[Span | None, ...]]:
        """The best sentences of all hits within the budget, as passages (``assistant.stages.select``)."""
        scores = self.sentence_scores(questions, hits, min_sentences=1)
        sentences = [scored_sentences(i, h, sc) for i, (h, sc) in enumerate(zip(hits, scores))]
        sentences = select.score(sentences, self.params, [h.score for h in hits])
        headers = [count_tokens(passage_head(1, h)) + 1 for h in hits]  # "[n] (title, date) " and the blank line
        budget = self.passages * self.passage_max_tokens
        # text within today's budget, and text with headers within today's text and headers
        total = budget + sum(headers[: self.passages])
        passages, best = [], []
        for piece in select.choose(sentences, budget, headers, self.params, total):
            sents = sentences[piece.hit][piece.lo : piece.hi + 1]
            passage = cut(hits[piece.hit], sents[0].start, sents[-1].end)
            top = max(sents, key=lambda s: s.own)
            passages.append(passage)
            best.append((top.start - sents[0].start, top.end - sents[0].start))
        return passages, tuple(best)

    def sentence_scores(self, questions: list[str], hits: list[Hit], min_sentences: int = 2) -> list[list[float]]:
        """Similarity of each sentence of each passage to the closest of the questions, in one batch
        (they choose what is shown, and the sentence the sources panel highlights). A passage of
        fewer than ``min_sentences`` sentences gets none."""
        spans = [sp if len(sp := sentence_spans(h.text)) >= min_sentences else [] for h in hits]
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


def scoring_questions(condensed: Condensed) -> list[str]:
    """The question(s) sentences are scored against. A follow-up that names its own subject ("Und was
    sagte Selenskyj dazu?"), searched together with the question before it (the fallback), keeps the
    sentences about that subject; one that names nothing ("Und wer hat das gesagt?") is scored by
    the question as searched."""
    merged = condensed.search_text != condensed.query.text and condensed.search_text.endswith(condensed.query.text)
    own = merged and bool(names(condensed.query.text))
    return [condensed.query.text] if own else [condensed.search_text]


def scored_sentences(i: int, hit: Hit, scores: list[float]) -> list[select.Sentence]:
    """Hit ``i``'s sentences for ``assistant.stages.select``, each keyed by its place in the article."""
    text, c = hit.text, hit.chunk
    return [
        select.Sentence(
            i, j, s.start, s.end, count_tokens(text[s.start : s.end]), sc,
            key=(c.article_id, c.start + s.start), refers_back=select.refers_back(text[s.start : s.end]),
        )
        for j, (s, sc) in enumerate(zip(sentence_spans(text), scores))
    ]


def cut(hit: Hit, start: int, end: int) -> Hit:
    """The hit with its chunk narrowed to ``text[start:end]``, offsets in the article kept exact."""
    c = hit.chunk
    return replace(hit, chunk=replace(c, text=c.text[start:end], start=c.start + start, end=c.start + end))


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
    return cut(hit, spans[lo].start, spans[hi].end)


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
    address the model are masked (``assistant.stages.safety``)."""
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
