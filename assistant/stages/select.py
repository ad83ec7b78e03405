"""Evidence chosen first: the sentences of all retrieved hits, ranked against the question, the best
of them shown within a token budget (``ContextBuilder`` with ``evidence_selection = "sentences"``).

A sentence scores its similarity to the question plus ``Params.hit_weight`` times its hit's retrieval
score (the retriever read the whole chunk and its title; alone, a sentence that names no one loses to
one that names the subject). Sentences are taken best first while the budget lasts. Chosen sentences
of one chunk that follow each other are one passage; a gap between two of them is filled when its
words cost less than a second passage's header. Pure functions over offsets and scores: no model, no I/O.

Two ways to help a sentence by the one before it ("Er wurde 1879 in Ulm geboren." names no one) are
here, off by default because they did not help on XQuAD-R's dev half once the hit's score counts
(``benchmarks/results/evidence.md``): mixing in the previous sentence's similarity
(``Params.neighbour``) and bringing the previous sentence along when a sentence opens with a word that
points back (``Params.bring_previous``; it costs tokens that a better sentence would have used).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

#: first words of a sentence that need the sentence before it to say who or what is meant
REFERRING = frozenset(
    "er sie es ihm ihn ihr ihre ihren ihrem ihrer ihnen sein seine seinen seinem seiner dies diese dieser "
    "dieses diesem diesen dort damit dabei dazu daher deshalb dadurch darauf danach davon jener jene "
    "he she it they him them his her its their this these those there such".split()
)
_FIRST_WORD = re.compile(r"[\W\d_]*(\w+)")


@dataclass(frozen=True)
class Params:
    """How sentences are chosen; the defaults were tuned on the dev half of XQuAD-R
    (``benchmarks/evidence.py``)."""

    hit_weight: float = 1.0  # times its hit's retrieval score, added to a sentence's similarity
    neighbour: float = 0.0  # a sentence scores max(own, (1 - w)·own + w·previous); 0: its own only
    bring_previous: bool = False  # a chosen sentence that points back ("Er …") brings the one before it
    headers: bool = True  # text and headers within the old text budget and the old passages' headers; False: text only


@dataclass(frozen=True)
class Sentence:
    """One sentence of one hit: offsets in the hit's text, tokens, similarity to the question."""

    hit: int
    index: int
    start: int
    end: int
    tokens: int
    own: float
    key: tuple = ()  # where it is in its article (overlapping chunks repeat sentences)
    refers_back: bool = False
    score: float = 0.0


@dataclass(frozen=True)
class Piece:
    """A passage to show: sentences ``lo``..``hi`` (inclusive) of hit ``hit``, ranked by ``score``."""

    hit: int
    lo: int
    hi: int
    score: float


def refers_back(sentence: str) -> bool:
    """Does the sentence open with a word that points back ("Er", "Diese", "It", "There", …)?"""
    m = _FIRST_WORD.match(sentence)
    return bool(m) and m.group(1).lower() in REFERRING


def neighbour_scores(own: list[float], weight: float) -> list[float]:
    """Each sentence's score: ``max(own, (1 - weight)·own + weight·own of the sentence before)``."""
    if weight <= 0:
        return list(own)
    return [max(s, (1 - weight) * s + weight * own[i - 1]) if i else s for i, s in enumerate(own)]


def score(sentences: list[list[Sentence]], params: Params, hit_scores: list[float] | None = None) -> list[list[Sentence]]:
    """The sentences with their ``score`` set: the neighbour mix, plus ``hit_weight`` times their
    hit's retrieval score (``hit_scores``)."""
    out = []
    for h, sents in enumerate(sentences):
        mixed = neighbour_scores([s.own for s in sents], params.neighbour)
        bonus = params.hit_weight * (hit_scores[h] if hit_scores else 0.0)
        out.append([replace(s, score=m + bonus) for s, m in zip(sents, mixed)])
    return out


@dataclass
class _State:
    """Chosen sentence indexes per hit and what they cost."""

    sentences: list[list[Sentence]]
    headers: list[int]
    chosen: list[set[int]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.chosen = [set() for _ in self.sentences]

    def runs(self, h: int, chosen: set[int]) -> list[tuple[int, int]]:
        """Sentence indexes ``chosen`` of hit ``h`` as (first, last) runs, a gap no dearer than a
        header filled (one passage costs less than two)."""
        sents, out = self.sentences[h], []
        for i in sorted(chosen):
            if out and sum(s.tokens for s in sents[out[-1][1] + 1 : i]) <= self.headers[h]:
                out[-1] = (out[-1][0], i)
            else:
                out.append((i, i))
        return out

    def cost(self, h: int, chosen: set[int]) -> tuple[int, int]:
        """(text tokens, header tokens) of hit ``h`` shown with ``chosen``."""
        runs = self.runs(h, chosen)
        text = sum(s.tokens for lo, hi in runs for s in self.sentences[h][lo : hi + 1])
        return text, len(runs) * self.headers[h]


def choose(sentences: list[list[Sentence]], budget: int, headers: list[int], params: Params, total: int | None = None) -> list[Piece]:
    """The passages to show: sentences taken best score first while their tokens fit ``budget``
    and, with ``params.headers``, their tokens and their passages' headers (``headers[h]`` each)
    fit ``total``; runs of one hit become pieces, ordered by their best sentence's score. A best
    sentence longer than ``budget`` is shown alone."""
    if not params.headers:
        total = None
    state = _State(sentences, headers)
    seen: set[tuple] = set()
    text = head = 0
    ranked = sorted((s for sents in sentences for s in sents), key=lambda s: (-s.score, s.hit, s.index))
    if ranked and ranked[0].tokens > budget:  # the best sentence is shown even alone over budget, as a trimmed passage was
        return [Piece(ranked[0].hit, ranked[0].index, ranked[0].index, ranked[0].score)]
    for s in ranked:
        if s.index in state.chosen[s.hit] or (s.key and s.key in seen):
            continue
        add = {s.index}
        if params.bring_previous and s.refers_back and s.index > 0:
            add.add(s.index - 1)
        new = state.chosen[s.hit] | add
        (t0, h0), (t1, h1) = state.cost(s.hit, state.chosen[s.hit]), state.cost(s.hit, new)
        if text + t1 - t0 > budget or (total is not None and text + head + t1 - t0 + h1 - h0 > total):
            continue
        text, head = text + t1 - t0, head + h1 - h0
        state.chosen[s.hit] = new
        seen.update(sentences[s.hit][i].key for i in add if sentences[s.hit][i].key)
    pieces = []
    for h, sents in enumerate(sentences):
        for lo, hi in state.runs(h, state.chosen[h]):
            pieces.append(Piece(h, lo, hi, max(sents[i].score for i in range(lo, hi + 1))))
    return sorted(pieces, key=lambda p: (-p.score, p.hit, p.lo))
