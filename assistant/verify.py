"""The verifier: does a passage state a claim? Each claim gets a verdict, ``supported``,
``contradicted`` or ``not_found``, with the evidence sentences that decided it.

No entailment model ships in any package this product may use, so the verdict is built from parts
that were each measured on the checker set (``evals/sets/checker.jsonl``):

1. **Alignment.** The claim is compared with every sentence of the passages by the store's embedder
   (e5, across languages); the best sentence and its close neighbours are the evidence.
2. **Content.** A claim without content ("Yes, he did.", "Ja.") states nothing to check: not found.
3. **Exact checks** against the evidence (and the passage header's date): every date, number and
   name of the claim must be there. A figure or date that the evidence gives differently is a
   contradiction; a person or place the passage does not have is not found.
4. **Polarity.** Negations and negative predicates (nicht, kein, nie, ohne, "schloss … aus",
   not, never, without, "ruled out", refused …) are counted in claim and evidence; a different
   parity means the claim says the opposite: contradicted.
5. **Similarity floor.** Evidence less similar than ``min_similarity`` does not state the claim.
6. Optionally, **the answer model's own judgement** (``entailment``, a callable returning
   P(yes)), which catches what the rules cannot see, such as swapped roles.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Literal

import numpy as np

from vectorstore.embedder import Embedder
from vectorstore.text import (
    MONTHS,
    STOPWORDS,
    WEEKDAYS,
    WORD,
    content_words,
    date_mentions,
    fold,
    names,
    numbers_outside_dates,
    same_date,
    sentence_spans,
    strip_markers,
)

from .prompts import Prompt

Verdict = Literal["supported", "contradicted", "not_found"]

#: P(yes) of "does the passage state the claim?" from a model, or None when it cannot tell.
Entailment = Callable[[str, str], float | None]


@dataclass(frozen=True)
class Source:
    """A passage a claim is checked against, with the header the model was shown."""

    text: str
    title: str = ""
    date: str = ""


@dataclass(frozen=True)
class Evidence:
    """A sentence of a source: ``sources[source - 1].text[start:end] == text``."""

    source: int  # 1-based, the [n] of the passage
    start: int
    end: int
    text: str
    similarity: float


@dataclass(frozen=True)
class ClaimCheck:
    claim: str
    verdict: Verdict
    evidence: tuple[Evidence, ...] = ()
    reasons: tuple[str, ...] = ()
    similarity: float = 0.0
    entailment: float | None = None

    @property
    def supported(self) -> bool:
        return self.verdict == "supported"


# --------------------------------------------------------------------------------------------------
# Polarity: negations and negative predicates, German and English.

_NEGATION = re.compile(
    r"\b(?:nicht|nichts|nie|niemals|nirgends|weder|ohne|kein\w*|not|never|neither|nor|without|nothing|none|no\s+(?=\w))\b"
    r"|n't\b"
    r"|\b(?:ausgeschlossen|auszuschlie(?:ß|ss)en|ausschlie(?:ß|ss)\w*|abgelehnt|abzulehnen|verweigert\w*|bestritten|dementiert)\b"
    r"|\b(?:rul(?:e|es|ed|ing)\s+out|refus\w+|reject\w*|den(?:y|ies|ied)|declin(?:e|es|ed))\b",
    re.IGNORECASE,
)
# German separable verbs: "schloss … aus", "lehnte … ab" (the particle ends the clause).
_SEPARABLE = re.compile(
    r"\b(?:schlie(?:ß|ss)t|schloss|schlossen|schließen|schliessen)\b[^.;:!?]*?\baus\b"
    r"|\b(?:lehnt|lehnte|lehnten|lehnen)\b[^.;:!?]*?\bab\b",
    re.IGNORECASE,
)


def negations(text: str) -> int:
    """How many negations and negative predicates the text has."""
    return len(_NEGATION.findall(text)) + len(_SEPARABLE.findall(text))


# --------------------------------------------------------------------------------------------------
# Names, with the spelling and translation tolerance a bilingual answer needs.

_TRANSLATIONS = {
    **WEEKDAYS,
    "january": "januar", "february": "februar", "march": "märz", "may": "mai", "june": "juni", "july": "juli",
    "october": "oktober", "december": "dezember",
    "white": "weiß", "house": "haus", "germany": "deutschland", "german": "deutsch", "russian": "russisch",
    "russia": "russland", "ukrainian": "ukrainisch", "british": "britisch", "french": "französisch", "france": "frankreich",
    "italian": "italienisch", "italy": "italien", "finnish": "finnisch", "finland": "finnland", "europe": "europa",
    "european": "europäisch", "chancellor": "bundeskanzler", "prime": "premierminister", "minister": "minister",
    "secretary": "generalsekretär", "commission": "kommission", "war": "krieg", "turkish": "türkisch",
    "hungary": "ungarn", "elections": "wahlen", "election": "wahlen", "kyiv": "kiew", "troops": "truppen",
    "security": "sicherheit", "guarantees": "sicherheitsgarantien", "president": "präsident", "austria": "österreich",
    "switzerland": "schweiz", "vienna": "wien", "munich": "münchen", "cologne": "köln", "netherlands": "niederlande",
    "spain": "spanien", "poland": "polen", "union": "union", "states": "staaten", "united": "vereinigte",
}
# Words that announce a place or a list of people: a capitalised word after them must be in the passage.
_PLACE_WORDS = {"in", "nach", "aus", "bei", "at", "from", "near"}
_LIST_WORDS = {"und", "and", "sowie", "or", "oder", ","}


def _similar(a: str, b: str) -> bool:
    if a == b:
        return True
    if min(len(a), len(b)) < 4:
        return False
    i = 0
    while i < min(len(a), len(b)) and a[i] == b[i]:
        i += 1
    if i >= max(4, min(len(a), len(b)) - 3):
        return True
    return min(len(a), len(b)) >= 5 and SequenceMatcher(None, a, b).ratio() >= 0.75


class _Words:
    """Folded words of a text, for tolerant name lookup."""

    def __init__(self, text: str):
        words = {fold(w) for w in WORD.findall(text)}
        self.words = words | {p for w in words for p in re.split(r"[-’']", w) if p}
        self.folded = fold(text)

    def has(self, name: str) -> bool:
        """Whether the name is there; of a hyphenated one ("Villingen-Schwenningen",
        "AFC-Championship-Spiel") one part of four letters or more is enough."""
        f = fold(name)
        alt = fold(_TRANSLATIONS.get(name.lower(), ""))
        parts = [p for p in re.split(r"[-’']", f) if p]
        found = [self._has_part(p, alt) for p in parts]
        if len(parts) > 1:
            return any(ok and len(p) >= 4 for ok, p in zip(found, parts)) or all(found)
        return all(found)

    def _has_part(self, part: str, alt: str) -> bool:
        if part in self.words or (alt and alt in self.folded):
            return True
        return any(_similar(part, w) or (alt and _similar(alt, w)) for w in self.words)


def _required_names(claim: str) -> tuple[list[str], list[str]]:
    """(names that must be in the passage, other capitalised words). A word after a place preposition
    or in a list with other names must be there (an invented place or person); the others are
    tolerated in part, since passages say "er" where the claim names him, and German capitalises
    nouns that a paraphrase may replace."""
    found = names(claim)
    tokens = re.findall(r"\w[\w\-’']*|,", claim)
    is_name = [any(t == n or t.startswith(n) for n in found) for t in tokens]
    required: set[int] = set()
    for i, t in enumerate(tokens):
        if is_name[i] and i and tokens[i - 1].lower() in _PLACE_WORDS:
            required.add(i)
    # Lists of names ("Trump, Macron und Scholz"): runs of names joined by commas and a conjunction.
    i = 0
    while i < len(tokens):
        if not is_name[i]:
            i += 1
            continue
        run, j, conj = [i], i + 1, False
        while j + 1 < len(tokens) and tokens[j].lower() in _LIST_WORDS and is_name[j + 1]:
            conj = conj or tokens[j] != ","
            run.append(j + 1)
            j += 2
        if conj:
            required.update(run)
        i = j
    req_words = {tokens[i] for i in required}
    required_names = [n for n in found if any(w == n or w.startswith(n) for w in req_words)]
    return required_names, [n for n in found if n not in required_names]


_NO_CONTENT = {
    "yes", "no", "ja", "nein", "doch", "stimmt", "richtig", "correct", "true", "right", "indeed", "tatsächlich",
    "fall", "case", "did", "does", "tat", "genau", "exactly", "so",
}


def _content(text: str) -> list[str]:
    """The words that carry a claim: not function words, not a bare yes or no."""
    return [w for w in content_words(text, min_len=3) if w.lower() not in _NO_CONTENT]


#: A claim of at most this many words is a fragment ("Keir Starmer."), judged with its question.
FRAGMENT_WORDS = 4


_CLAUSE = re.compile(r"[:;–—]\s+|\s+(?=[“„\"])")


def candidate_spans(text: str) -> list[tuple[int, int]]:
    """The sentences of a passage, and the clauses of each sentence that has several (a claim often
    restates one clause of a long sentence: "… nicht aus und sagte: „Wir werden …“")."""
    out: list[tuple[int, int]] = []
    for s in sentence_spans(text):
        out.append((s.start, s.end))
        cuts = [m.end() for m in _CLAUSE.finditer(text, s.start, s.end)]
        if cuts:
            bounds = [s.start, *cuts, s.end]
            out += [(a, b) for a, b in zip(bounds, bounds[1:]) if len(text[a:b].split()) >= 4]
    return out or [(0, len(text))]


class Verifier:
    """Checks claims against sources. ``embedder`` is the store's; of a fused one (e5 + USE) only the
    first model is used, so that similarities are e5 cosines, on the scale ``min_similarity`` was
    calibrated on."""

    def __init__(
        self,
        embedder: Embedder,
        *,
        min_similarity: float = 0.80,
        neighbour_margin: float = 0.04,
        entailment: Entailment | None = None,
        min_entailment: float = 0.5,
    ):
        self.embedder = getattr(embedder, "first", embedder)
        self.min_similarity = min_similarity
        self.neighbour_margin = neighbour_margin
        self.entailment = entailment
        self.min_entailment = min_entailment
        self._cache: dict[str, tuple[list[tuple[int, int]], np.ndarray]] = {}

    def _sentences(self, text: str) -> tuple[list[tuple[int, int]], np.ndarray]:
        hit = self._cache.get(text)
        if hit is None:
            spans = candidate_spans(text)
            vectors = self.embedder.embed([text[a:b] for a, b in spans], "passage")
            if len(self._cache) > 256:
                self._cache.clear()
            hit = self._cache[text] = (spans, vectors)
        return hit

    def check(
        self, claim: str, sources: Sequence[Source], cited: Sequence[int] | None = None, *, language: str = "de",
        question: str = "",
    ) -> ClaimCheck:
        """The verdict on ``claim`` (markers are ignored) against ``sources`` (1-based ``cited`` ones
        only, when given). A fragment that only makes sense with its ``question`` ("Keir Starmer.") is
        aligned together with it."""
        text = strip_markers(claim)
        numbered = [(i, s) for i, s in enumerate(sources, 1) if cited is None or i in cited]
        if not numbered:
            return ClaimCheck(text, "not_found", reasons=("no passage to check against",))
        if not _content(text) and not numbers_outside_dates(text) and not date_mentions(text):
            return ClaimCheck(text, "not_found", reasons=("the sentence states nothing to check",))

        fragment = bool(question) and len(WORD.findall(text)) <= FRAGMENT_WORDS
        q = self.embedder.embed([f"{question} {text}" if fragment else text], "query")[0]
        candidates: list[Evidence] = []
        per_source: dict[int, list[Evidence]] = {}
        for i, src in numbered:
            spans, vectors = self._sentences(src.text)
            sims = vectors @ q
            ev = [Evidence(i, a, b, src.text[a:b], float(s)) for (a, b), s in zip(spans, sims)]
            per_source[i] = ev
            candidates += ev
        best = max(candidates, key=lambda e: e.similarity)
        # The evidence: the best sentence (or clause) and one more of its passage that is nearly as
        # similar (a claim often joins two sentences).
        src_text = sources[best.source - 1].text
        close = sorted(
            (e for e in per_source[best.source]
             if e.similarity >= best.similarity - self.neighbour_margin and _adjacent(src_text, best, e)),
            key=lambda e: -e.similarity,
        )
        evidence = tuple(sorted([best, *close[:1]], key=lambda e: e.start))
        src = sources[best.source - 1]
        evidence_text = " ".join(e.text for e in evidence)
        header = f"{src.title} {src.date}"

        reasons: list[str] = []
        verdict: Verdict = "supported"

        # dates
        text_dates = [d.value for d in date_mentions(evidence_text)]
        ev_dates = text_dates + ([src.date] if src.date else [])
        for d in date_mentions(text):
            if not any(same_date(d.value, e) for e in ev_dates):
                other = text_dates
                month = int(d.value[5:7])
                year = d.value[:4]
                ev_months = {MONTHS[w.lower().rstrip(".")] for w in WORD.findall(evidence_text) if w.lower().rstrip(".") in MONTHS}
                if not other and month in ev_months and (year == "????" or year in evidence_text + src.date):
                    continue  # "im Februar" in the passage, dated 2025 by its header: "February 2025"
                if other:
                    verdict = "contradicted"
                    reasons.append(f"the date {text[d.start:d.end]!r} differs from the passage's ({', '.join(other)})")
                else:
                    verdict = _worse(verdict, "not_found")
                    reasons.append(f"the date {text[d.start:d.end]!r} is not in the passage")
        # numbers (outside dates); a year may come from the header date
        ev_numbers = set(numbers_outside_dates(evidence_text)) | set(re.findall(r"\d+", src.date))
        for n in numbers_outside_dates(text):
            if n in ev_numbers:
                continue
            if numbers_outside_dates(evidence_text):
                verdict = "contradicted"
                reasons.append(f"the figure {n} differs from the evidence's ({', '.join(numbers_outside_dates(evidence_text))})")
            else:
                verdict = _worse(verdict, "not_found")
                reasons.append(f"the figure {n} is not in the evidence")
        # names
        required, others = _required_names(text)
        if fragment:  # a fragment answer is its names: every one must be there ("Olaf Scholz.")
            required = [w for w in WORD.findall(text) if w[:1].isupper() and w.lower() not in _NO_CONTENT | STOPWORDS]
            others = []
        ev_words = _Words(evidence_text + " " + header)
        src_words = _Words(src.text + " " + header)
        missing = [n for n in required if not ev_words.has(n) and not src_words.has(n)]
        if missing:
            verdict = _worse(verdict, "not_found")
            reasons.append(f"not in the passage: {', '.join(missing)}")
        loose_missing = [n for n in others if not src_words.has(n)]
        if len(loose_missing) >= 2 and len(loose_missing) > 0.5 * len(others):
            verdict = _worse(verdict, "not_found")
            reasons.append(f"mostly not in the passage: {', '.join(loose_missing)}")
        # weekdays
        claim_days, ev_days = weekdays(text), weekdays(evidence_text)
        if claim_days and ev_days and not claim_days & ev_days:
            verdict = "contradicted"
            reasons.append(f"the weekday differs ({', '.join(sorted(claim_days))} vs {', '.join(sorted(ev_days))})")
        # polarity against the best sentence
        if negations(text) % 2 != negations(best.text) % 2 and best.similarity >= self.min_similarity - 0.05:
            verdict = "contradicted"
            reasons.append("the claim negates what the evidence says" if negations(text) % 2 else "the evidence negates the claim")
        # similarity floor
        if best.similarity < self.min_similarity:
            verdict = _worse(verdict, "not_found")
            reasons.append(f"no sentence of the passage says this (best similarity {best.similarity:.2f} < {self.min_similarity})")
        entail = None
        if verdict == "supported" and self.entailment is not None:
            entail = self.entailment(evidence_text, f"{question} — {text}" if fragment else text)
            if entail is not None and entail < self.min_entailment:
                verdict = "not_found"
                reasons.append(f"the model does not read the claim in the evidence (P(yes) {entail:.2f})")
        return ClaimCheck(text, verdict, evidence, tuple(reasons), best.similarity, entail)


def _adjacent(text: str, a: Evidence, b: Evidence) -> bool:
    """Whether ``b`` is the sentence right before or after ``a`` (only white space between)."""
    if b.end <= a.start:
        return not text[b.end : a.start].strip()
    if b.start >= a.end:
        return not text[a.end : b.start].strip()
    return False


_WEEKDAY = re.compile(r"(montag|dienstag|mittwoch|donnerstag|freitag|samstag|sonntag|sonnabend"
                      r"|monday|tuesday|wednesday|thursday|friday|saturday|sunday)", re.IGNORECASE)
_WEEKDAY_EN = {v: k for k, v in WEEKDAYS.items()} | {"sonnabend": "saturday"}


def weekdays(text: str) -> set[str]:
    """The weekdays a text names (also inside 'Dienstagabend'), in English."""
    return {_WEEKDAY_EN.get(w.lower(), w.lower()) for w in _WEEKDAY.findall(text)}


class ModelJudge:
    """An ``Entailment`` from the answer model: P(yes) to "does the passage state the claim?" read
    from its next-token probabilities (``prompts/verify.en.txt``, demonstrations in the cached
    prefix). Back ends without token probabilities give None."""

    def __init__(self, model, prompt: Prompt):
        self.model = model
        self.prompt = prompt
        head = [{"role": "system", "content": prompt.system}]
        for user, assistant in prompt.examples:
            head += [{"role": "user", "content": user}, {"role": "assistant", "content": assistant}]
        self.head = head

    def __call__(self, evidence: str, claim: str) -> float | None:
        ask = getattr(self.model, "yes_probability", None)
        if ask is None:
            return None
        return ask([*self.head, {"role": "user", "content": self.prompt.user.format(evidence=evidence, claim=claim)}])


_SEVERITY = {"supported": 0, "not_found": 1, "contradicted": 2}


def _worse(a: Verdict, b: Verdict) -> Verdict:
    return a if _SEVERITY[a] >= _SEVERITY[b] else b
