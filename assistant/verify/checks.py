"""The checks: each compares a claim with its evidence and returns coded ``Finding``s.

A check says what it sees, never what the verdict is: the combiner (``combiner.py``) weighs the
findings together with the similarity scores, as learned from synthetic pairs. So a check may be
noisy (a reordered sentence may look like swapped roles) and its weight says how much that counts.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from vectorstore.text import MONTHS, STOPWORDS, WEEKDAYS, WORD, date_mentions, fold, names, same_date

from . import words
from .types import Code, Finding

#: ``(names, text) -> bool``: whether ``text`` has one of ``names`` in another language
Translated = Callable[[Sequence[str], str], bool]


@dataclass(frozen=True)
class Pair:
    """What the checks look at: the claim, its evidence sentences, the best one's whole sentence, the
    passage (text and title), its header date, the whole article and the question."""

    claim: str
    evidence: str
    sentence: str
    passage: str
    date: str = ""
    whole: str = ""
    question: str = ""
    claim_language: str = "de"
    passage_language: str = "de"
    translated: Translated = field(default=lambda names, text: False, compare=False)

    @property
    def crosslingual(self) -> bool:
        return self.claim_language != self.passage_language


def check_figures(p: Pair) -> list[Finding]:
    """Every figure of the claim must be the evidence's (a year may come from the header date)."""
    given = words.figures(p.evidence, p.passage_language)
    if not given:  # evidence without figures: left to the similarity and the judge (measured: no gain)
        return []
    have = given | set(re.findall(r"\d+", p.date))
    return [Finding(Code.FIGURE_DIFFERS, n, ", ".join(sorted(given))) for n in sorted(words.figures(p.claim, p.claim_language) - have)]


def check_dates(p: Pair) -> list[Finding]:
    """Every date of the claim must be one of the evidence's or the header's; a month the evidence
    names in the header's year counts ("im Februar" in a passage dated 2025)."""
    given = [d.value for d in date_mentions(p.evidence)]
    have = given + ([p.date] if p.date else [])
    months = {MONTHS[w] for w in map(fold, WORD.findall(p.evidence)) if w in MONTHS}
    out = []
    for d in date_mentions(p.claim):
        if any(same_date(d.value, e) for e in have):
            continue
        month_named = int(d.value[5:7]) in months
        if not given and month_named and (d.value[:4] == "????" or d.value[:4] in p.evidence + p.date):
            continue
        out.append(Finding(Code.DATE_DIFFERS if given else Code.DATE_MISSING, p.claim[d.start : d.end], ", ".join(given)))
    return out


def weekdays(text: str) -> set[int]:
    """The weekdays a text names (also inside "Dienstagabend"), 0 = Monday."""
    t = fold(text)
    return {i for i, (en, de) in enumerate(WEEKDAYS.items()) if en in t or de in t}


def check_weekdays(p: Pair) -> list[Finding]:
    claim, evidence = weekdays(p.claim), weekdays(p.evidence)
    if claim and evidence and not claim & evidence:
        return [Finding(Code.WEEKDAY_DIFFERS)]
    return []


def _claim_names(p: Pair) -> list[str]:
    return [n for n in dict.fromkeys(names(p.claim)) if fold(n) not in {"ja", "nein", "yes", "no"}]


def strong_name(word: str, claim: str, language: str) -> bool:
    """A proper name for sure: any capitalised word of English, an acronym ("OPCW"), a compound with
    one ("MSFC-Ingenieure") or a run of capitalised words ("Wernher von Braun"); a German noun alone is
    not (its synonym is no error)."""
    if language == "en" or sum(c.isupper() for c in word) >= 2 or any(c.isdigit() for c in word):
        return True
    if re.search(rf"\b(?:in|im|nach|aus|bei|von|vom)\s+{re.escape(word)}\b", claim):
        return True  # "nach Kempten": a place
    return bool(re.search(rf"(?:\b[A-ZÄÖÜ]\w+\s+){re.escape(word)}\b|\b{re.escape(word)}\s+[A-ZÄÖÜ]\w+", claim))


def check_names(p: Pair) -> list[Finding]:
    """The claim's names (capitalised words) must be in the passage. A German noun the passage lacks
    is ``WORD_MISSING``, a weaker sign (a synonym). A name the claim repeats from the question counts
    when the passage's whole article has it: it is the question's premise, not the model's addition
    (the passage names "Sturm", its headline "Sturm Graz")."""
    passage = words.Words(f"{p.passage} {p.date}", p.passage_language)
    asked = words.Words(p.question, p.claim_language) if p.question and p.whole else None
    article = words.Words(p.whole, p.passage_language) if asked else None
    out = []
    for n in _claim_names(p):
        if passage.has(n) or (asked and asked.has(n) and article.has(n)):
            continue
        if not (p.crosslingual and p.translated([n], p.passage)):
            out.append(Finding(Code.NAME_MISSING if strong_name(n, p.claim, p.claim_language) else Code.WORD_MISSING, n))
    return out


def negations(text: str) -> int:
    """How many negations and negative predicates a text has."""
    text = words.remove("not_negations", text)
    return words.count("negators", text) + words.count("negative_predicates", text)


def check_polarity(p: Pair) -> list[Finding]:
    """Negations and negative predicates, counted in the claim and in the evidence (its best
    sentence whole, and the evidence window): a different parity from both says the opposite."""
    claim = negations(p.claim) % 2
    if claim != negations(p.sentence) % 2 and claim != negations(p.evidence) % 2:
        return [Finding(Code.POLARITY, evidence_part=p.sentence[:160])]
    return []


def check_modality(p: Pair) -> list[Finding]:
    """Evidence that says only that a thing may be so does not state that it is so."""
    if words.has("hedges", p.sentence) and not words.has("hedges", p.claim):
        return [Finding(Code.MODALITY, evidence_part=p.sentence[:160])]
    return []


def _positions(text: str, wanted: Sequence[str]) -> dict[str, int]:
    """Where each wanted name first stands in the text, in words (an inflected ending may differ)."""
    tokens = [fold(w) for w in WORD.findall(text)]
    found = {n: next((i for i, t in enumerate(tokens) if t == f or (len(f) >= 5 and t.startswith(f[:-2]))), None)
             for n, f in ((n, fold(n)) for n in wanted)}
    return {n: at for n, at in found.items() if at is not None}


def _passive(text: str) -> bool:
    return words.has("passive", text) and words.has("agent", text)


#: two names further apart than this (in words) are not one actor and the one acted upon
ROLE_DISTANCE = 6


def _placed(p: Pair, named: Sequence[str]) -> tuple[list[str], dict[str, int], dict[str, int]]:
    """The names found in both claim and evidence, and their word positions in each."""
    in_claim, in_evidence = _positions(p.claim, named), _positions(p.evidence, named)
    return [n for n in named if n in in_claim and n in in_evidence], in_claim, in_evidence


def check_roles(p: Pair) -> list[Finding]:
    """Two close names in the opposite order in claim and evidence, with both active or both passive:
    who did what to whom is swapped."""
    if _passive(p.claim) != _passive(p.evidence):
        return []
    both, in_claim, in_evidence = _placed(p, [n for n in _claim_names(p) if strong_name(n, p.claim, p.claim_language)])
    for i, a in enumerate(both):
        for b in both[i + 1 :]:
            dc, de = in_claim[a] - in_claim[b], in_evidence[a] - in_evidence[b]
            if fold(a) != fold(b) and dc * de < 0 and abs(dc) <= ROLE_DISTANCE and abs(de) <= ROLE_DISTANCE:
                return [Finding(Code.ROLES, f"{a} / {b}")]
    return []


def order_discordance(p: Pair) -> float:
    """The share of pairs of the claim's names that stand in the opposite order in the evidence: the
    same words with who-did-what-to-whom swapped keep every embedding close, but not this."""
    both, in_claim, in_evidence = _placed(p, _claim_names(p))
    pairs = [(a, b) for i, a in enumerate(both) for b in both[i + 1 :] if fold(a) != fold(b)]
    if not pairs:
        return 0.0
    swapped = sum((in_claim[a] - in_claim[b]) * (in_evidence[a] - in_evidence[b]) < 0 for a, b in pairs)
    return swapped / len(pairs)


CHECKS: tuple[Callable[[Pair], list[Finding]], ...] = (
    check_figures, check_dates, check_weekdays, check_names, check_polarity, check_modality, check_roles,
)


def run_checks(p: Pair, checks: Sequence[Callable[[Pair], list[Finding]]] = CHECKS) -> tuple[Finding, ...]:
    return tuple(f for check in checks for f in check(p))


def coverage(claim: str, passage: str, language: str) -> float:
    """The share of the claim's content words (four letters or more) found, tolerantly, in the passage."""
    content = [w for w in WORD.findall(claim) if len(w) >= 4 and w.lower() not in STOPWORDS]
    if not content:
        return 1.0
    have = words.Words(passage, language)
    return sum(have.has(w) for w in content) / len(content)
