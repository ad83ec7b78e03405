"""Yes/no questions get their own answer: "Ja." or "Nein." with the article's sentence it rests on.

A question such as "Hat die Stadt das Bad geschlossen?" is answered today by free text that the
verifier then checks; a contradicted answer becomes a bare quote, which is not an answer. Here the
answer model is asked instead, with ``prompts/yesno.en.txt`` (demonstrations in the cached prefix),
whether the passage sentences make the answer yes or no, and P(yes) against P(no) is read from its
next-token logits (``model.yes_probability``), so a decision costs only the question's own tokens:

    >>> is_yes_no("Hat die Stadt das Bad geschlossen?", "de")
    True
    >>> d = decide(model, question, sentences, "de")        # YesNo(answer="no", p_yes=0.04, evidence=…)
    >>> render(d, "de", d.evidence)
    'Nein. Im Artikel heißt es: „…“ [1]'

``answer`` is None (undecided) when P(yes) falls between ``lo`` and ``hi``, when the back end has no
token probabilities, or when there is no sentence: the caller then answers the usual way.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Literal

from vectorstore.language import detect_language
from vectorstore.text import content_words, fold

from ..verify import PromptJudge
from . import prompts
from .prompts import load_prompt

__all__ = ["YesNo", "YesNoDecider", "decide", "embedder_similarity", "is_yes_no", "render"]

prompts.REQUIRED.setdefault("yesno", {"question", "evidence"})

#: Thresholds on P(yes), measured on the yes/no dev questions (benchmarks/yesno.py).
HI, LO = 0.9, 0.9
#: Sentences shown to the model at most: the ones most similar to the question.
MAX_SHOWN = 3


@lru_cache(maxsize=1)
def _yes_no_words() -> dict[str, dict]:
    return json.loads(resources.files(__package__).joinpath("words/yesno.json").read_text(encoding="utf-8"))


def _lexicon(language: str) -> dict:
    if language not in _yes_no_words():
        raise ValueError(f"language must be one of {sorted(_yes_no_words())}, got {language!r}")
    return _yes_no_words()[language]


def is_yes_no(question: str, language: str | None = None) -> bool:
    """Asked for yes or no: it starts with a finite verb or auxiliary ("Hat …?", "Did …?"), or ends with
    "?" and has no question word; not a choice ("Ist A oder B?"; "… oder nicht?" is one), nor "Can you
    tell me who …?". ``language`` is the query's (detected only when a caller has none)."""
    lex = _lexicon(language or detect_language(question, default="de"))
    tokens = [w.lower().replace("’", "'") for w in re.findall(r"[^\W\d_]+(?:['’][^\W\d_]+)?", question)]
    while tokens and tokens[0] in lex["lead"]:
        tokens = tokens[1:]
    if not tokens or tokens[0] in lex["requests"] or tokens[0] in lex["wh"]:
        return False
    wh = any(t in lex["wh"] for t in tokens)
    if tokens[0] in lex["verbs"]:
        if wh and len(tokens) > 1 and tokens[1] in lex["you"]:  # "Weißt du, wer …?", "Do you know who …?"
            return False
    elif not (question.rstrip().endswith("?") and not wh):
        return False
    ors = [i for i, t in enumerate(tokens) if t in lex["choice"]]
    return not any(not (i == len(tokens) - 2 and tokens[-1] in lex["not"]) for i in ors)


@dataclass(frozen=True)
class YesNo:
    answer: Literal["yes", "no"] | None  # None: undecided, answer the usual way
    p_yes: float | None  # P(yes) / (P(yes) + P(no)) of the answer model; None without token probabilities
    evidence: str | None  # the sentence the decision rests on, word for word as given


def _lexical_similarity(question: str, sentences: Sequence[str]) -> list[float]:
    """Shared content words (folded, first five letters), for callers without an embedder."""
    def stems(text: str) -> set[str]:
        return {fold(w)[:5] for w in content_words(text, 3)}

    q = stems(question)
    return [len(q & stems(s)) / (len(q) or 1) for s in sentences]


class YesNoDecider:
    """Decides a yes/no question from passage sentences with the answer model's P(yes).

    ``similarity(question, sentences) -> scores`` ranks the sentences (the store's embedder across
    languages, see ``embedder_similarity``; shared words otherwise): at most ``max_shown`` of the
    most similar are shown to the model, and the most similar one is the quoted evidence."""

    def __init__(
        self, model, *, hi: float = HI, lo: float = LO, max_shown: int = MAX_SHOWN,
        similarity: Callable[[str, Sequence[str]], Sequence[float]] | None = None, prompts_dir: Path | None = None,
    ):
        if not 0.0 <= lo <= hi <= 1.0:
            raise ValueError(f"need 0 <= lo <= hi <= 1, got lo={lo}, hi={hi}")
        if max_shown < 1:
            raise ValueError(f"max_shown must be at least 1, got {max_shown}")
        self.judge = PromptJudge(model, load_prompt("yesno", "en", prompts_dir=prompts_dir))
        self.hi, self.lo, self.max_shown = hi, lo, max_shown
        self.similarity = similarity or _lexical_similarity

    def __call__(self, question: str, evidence_sentences: Sequence[str], language: str) -> YesNo:
        _lexicon(language)
        sentences = [s for s in evidence_sentences if s and s.strip()]
        if not sentences:
            return YesNo(None, None, None)
        scores = list(self.similarity(question, sentences))
        best = max(range(len(sentences)), key=lambda i: scores[i])
        top = sorted(sorted(range(len(sentences)), key=lambda i: -scores[i])[: self.max_shown])
        shown = "\n".join("- " + " ".join(sentences[i].split()) for i in top)
        p = self.judge.probability(evidence=shown, question=question.strip())
        if p is None:
            return YesNo(None, None, sentences[best])
        answer = "yes" if p >= self.hi else "no" if p <= self.lo else None
        return YesNo(answer, p, sentences[best])

    def warm_up(self) -> None:
        """Evaluate the prompt's fixed prefix (system text and demonstrations) once, ahead of a question."""
        self.judge.probability(evidence="- …", question="…")


def embedder_similarity(embedder) -> Callable[[str, Sequence[str]], list[float]]:
    """A ``similarity`` from a store embedder (``embed(texts, kind)`` -> unit vectors)."""
    def similarity(question: str, sentences: Sequence[str]) -> list[float]:
        q = embedder.embed([question], "query")
        return (embedder.embed(list(sentences), "passage") @ q[0]).tolist()

    return similarity


def decide(model, question: str, evidence_sentences: Sequence[str], language: str, **options) -> YesNo:
    """One decision with a new ``YesNoDecider(model, **options)``; keep a decider to ask many."""
    return YesNoDecider(model, **options)(question, evidence_sentences, language)


def render(decision: YesNo, language: str, quote: str, marker: int | None = 1) -> str:
    """The user-facing answer: "Ja. Im Artikel heißt es: „…“ [1]" / "No. The article says: “…” [2]".
    ``quote`` is shown word for word (white space joined); ``marker`` is its passage number."""
    if decision.answer is None:
        raise ValueError("an undecided question has no yes/no answer to render; answer it the usual way")
    lex = _lexicon(language)
    quote = " ".join(quote.split())
    if not quote:
        raise ValueError("render needs the sentence the answer rests on, got an empty quote")
    text = f"{lex[decision.answer]}. " + lex["says"].format(quote=quote)
    return text + (f" [{marker}]" if marker is not None else "")
