"""Citations as data: parse the model's ``[n]`` markers, map them to the passages it was shown, and
check each answer sentence against the passages it cites.

A sentence is *supported* when every number in it occurs in a cited passage and most of its names
(capitalised words after the first) occur there too, allowing inflection, German/English spelling
variants (Selenskyj ~ Zelenskyy) and a few translations (Monday ~ Montag). A sentence without a
marker gets one when exactly such a passage exists (the citation is checked, not trusted); a
sentence whose cited passage does not carry it is re-pointed to a shown passage that does by the same
rule, if there is one (small models copy the fact right and the number wrong). A sentence without
names whose figures all occur in a cited passage counts as supported (across languages its words
cannot be compared). A sentence whose numbers appear in no cited passage is dropped: invented figures never reach the user.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from vectorstore.text import (
    MARKER,
    MARKER_WITH_SPACE,
    WORD,
    content_words,
    fold,
    marker_numbers,
    names,
    numbers,
    sentence_spans,
    split_sentences,
)
from vectorstore.types import Hit

from .safety import neutralize
from .types import REFUSAL, Checked, Citation, SentenceCheck

_REFUSAL_PATTERNS = [
    re.compile(p, re.IGNORECASE)
    for p in (
        r"steht nichts in den (artikeln|auszügen)", r"nicht in den (artikeln|auszügen)", r"keine (angaben|informationen)",
        r"(articles|excerpts) do(es)? not (say|mention|contain)", r"no information", r"not (mentioned|stated) in the",
    )
]

_TRANSLATIONS = {
    "monday": "montag", "tuesday": "dienstag", "wednesday": "mittwoch", "thursday": "donnerstag", "friday": "freitag",
    "saturday": "samstag", "sunday": "sonntag", "january": "januar", "february": "februar", "march": "märz",
    "may": "mai", "june": "juni", "july": "juli", "october": "oktober", "december": "dezember",
    "white": "weiß", "house": "haus", "germany": "deutschland", "german": "deutsch", "russian": "russisch",
    "russia": "russland", "ukrainian": "ukrainisch", "british": "britisch", "french": "französisch", "france": "frankreich",
    "italian": "italienisch", "italy": "italien", "finnish": "finnisch", "finland": "finnland", "europe": "europa",
    "european": "europäisch", "chancellor": "bundeskanzler", "prime": "premierminister", "minister": "premierminister",
    "secretary": "generalsekretär", "commission": "kommission", "war": "krieg", "washington": "washington",
    "turkish": "türkisch", "hungary": "ungarn", "elections": "wahlen", "election": "wahlen", "kyiv": "kiew",
    "troops": "truppen", "security": "sicherheit", "guarantees": "sicherheitsgarantien", "president": "präsident",
}


def _similar(a: str, b: str) -> bool:
    if a == b:
        return True
    if min(len(a), len(b)) < 4:
        return False
    common = len(_common_prefix(a, b))
    if common >= max(4, min(len(a), len(b)) - 3):
        return True
    return min(len(a), len(b)) >= 5 and SequenceMatcher(None, a, b).ratio() >= 0.75


def _common_prefix(a: str, b: str) -> str:
    i = 0
    while i < min(len(a), len(b)) and a[i] == b[i]:
        i += 1
    return a[:i]


@dataclass
class Keys:
    numbers: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)


def sentence_keys(sentence: str) -> Keys:
    """The checkable facts of a sentence: its numbers and its names (capitalised words after the first)."""
    return Keys(numbers=numbers(sentence), names=names(sentence))


class PassageIndex:
    """Token views of one passage for fast key lookup."""

    def __init__(self, text: str):
        self.text = text
        self.numbers = set(numbers(text))
        self.words = {fold(w) for w in WORD.findall(text)}

    def has_number(self, n: str) -> bool:
        return n in self.numbers or any(n == m[: len(n)] and len(m) - len(n) <= 0 for m in self.numbers)

    def has_name(self, name: str) -> bool:
        f = fold(name)
        alt = fold(_TRANSLATIONS.get(name.lower(), ""))
        for part in re.split(r"[-’']", f):
            if not part:
                continue
            if not any(_similar(part, w) or (alt and _similar(alt, w)) for w in self.words):
                return False
        return True


@dataclass
class Verdict:
    supported: bool
    missing_numbers: list[str]
    missing_names: list[str]


def overlap(sentence: str, passages: list[PassageIndex]) -> float:
    """Share of the sentence's content words found (spelling-tolerant) in the passages; 1.0 if none."""
    words = content_words(sentence)
    if not words:
        return 1.0
    return sum(any(p.has_name(w) for p in passages) for w in words) / len(words)


def judge(sentence: str, passages: list[PassageIndex]) -> Verdict:
    keys = sentence_keys(sentence)
    missing_numbers = [n for n in keys.numbers if not any(p.has_number(n) for p in passages)]
    missing_names = [w for w in keys.names if not any(p.has_name(w) for p in passages)]
    if keys.names:
        ok = len(missing_names) <= 0.4 * len(keys.names)
    elif keys.numbers:  # no names, but figures, all found: they carry the claim (also across languages)
        ok = True
    else:  # nothing name-like to check: at least some of its words must come from the passages
        ok = overlap(sentence, passages) >= 0.3
    return Verdict(bool(passages) and not missing_numbers and ok, missing_numbers, missing_names)


def _carrier(sentence: str, passages: list[PassageIndex], exclude: set[int] = frozenset(), strict: bool = True) -> int | None:
    """The passage (1-based) that carries the sentence on its own. ``strict`` (a sentence the model
    did not cite): all its names and figures, or most of its words when it has none. Otherwise (a
    citation to re-point): the rule a cited passage must meet anyway, and of several such passages
    the one missing the fewest names."""
    keys = sentence_keys(sentence)
    best: tuple[int, int] | None = None
    for i, idx in enumerate(passages, 1):
        if i in exclude:
            continue
        v = judge(sentence, [idx])
        if not v.supported:
            continue
        if strict:
            if not v.missing_names and (keys.numbers or keys.names or overlap(sentence, [idx]) >= 0.5):
                return i
        elif best is None or len(v.missing_names) < best[0]:
            best = (len(v.missing_names), i)
    return None if strict or best is None else best[1]


def is_refusal(text: str) -> bool:
    t = text.strip()
    return any(t.startswith(r.rstrip(".")) for r in REFUSAL.values()) or any(p.search(t) for p in _REFUSAL_PATTERNS)


def support_span(sentence: str, passage: str) -> tuple[int, int] | None:
    """Offsets in ``passage`` of its sentence that best supports ``sentence`` (most shared keys/words)."""
    keys = sentence_keys(sentence)
    want_words = {fold(w) for w in WORD.findall(sentence) if len(w) >= 4}
    best, best_score = None, 0.0
    for span in sentence_spans(passage):
        idx = PassageIndex(passage[span.start : span.end])
        score = 2.0 * sum(idx.has_number(n) for n in keys.numbers) + 1.5 * sum(idx.has_name(w) for w in keys.names)
        score += 0.5 * len(want_words & idx.words)
        if score > best_score:
            best, best_score = (span.start, span.end), score
    return best


def check_answer(raw: str, passages: list[Hit], language: str) -> Checked:
    """Turn the model's text into a checked answer (see module docstring)."""
    notes: list[str] = []
    text = re.sub(r"^\s*(antwort|answer)\s*:\s*", "", raw.strip(), flags=re.IGNORECASE)
    # Support counts only from what the model was shown (instruction-like sentences are masked).
    indexes = [PassageIndex(neutralize(h.text)) for h in passages]
    kept: list[SentenceCheck] = []
    refusal_seen = False
    for sent in split_sentences(text):
        cited = [n for m in MARKER.finditer(sent) for n in marker_numbers(m)]
        body = MARKER_WITH_SPACE.sub("", sent).strip()
        body = re.sub(r"\s+([.!?,;:])", r"\1", body)
        if not body or not re.search(r"\w", body):
            continue
        if is_refusal(body):
            refusal_seen = True
            continue
        valid = []
        for n in dict.fromkeys(cited):
            if 1 <= n <= len(passages):
                valid.append(n)
            else:
                notes.append(f"removed citation [{n}]: it points at no passage")
        if not valid:
            carrier = _carrier(body, indexes)
            if carrier:
                valid = [carrier]
                notes.append(f"added citation [{carrier}] to an uncited sentence after checking it")
        if not valid:
            # Every claim shown carries a checked citation; a sentence no passage carries is dropped.
            notes.append(f"dropped a sentence that no passage supports: {body[:60]!r}")
            continue
        v = judge(body, [indexes[n - 1] for n in valid])
        if not v.supported:
            # Small models often copy the fact right and the number wrong ("Meloni … [3]" when [1]
            # names her). Re-point the citation only to a passage that carries the whole sentence.
            carrier = _carrier(body, indexes, exclude=set(valid), strict=False)
            if carrier:
                notes.append(f"corrected citation {''.join(f'[{n}]' for n in valid)} to [{carrier}]: the cited passage does not carry the sentence, [{carrier}] does")
                valid = [carrier]
                v = judge(body, [indexes[carrier - 1]])
        if v.missing_numbers:
            notes.append(f"dropped a sentence whose figures {', '.join(v.missing_numbers)} are in none of its passages")
            continue
        kept.append(
            SentenceCheck(
                text=body, citations=tuple(valid), verdict="supported" if v.supported else "unsupported",
                missing=tuple(v.missing_names),
            )
        )
    grounded = any(s.verdict == "supported" for s in kept)
    if not grounded:
        if kept and not refusal_seen:
            notes.append("no sentence of the model's answer could be verified against the passages")
        return Checked(REFUSAL.get(language, REFUSAL["en"]), [], [], False, True, notes)
    parts = []
    for s in kept:
        marks = "".join(f"[{n}]" for n in s.citations)
        body = s.text
        if marks:
            body = body[:-1] + f" {marks}" + body[-1] if body[-1:] in ".!?" else f"{body} {marks}"
        parts.append(body)
    citations: list[Citation] = []
    used = sorted({n for s in kept for n in s.citations})
    for n in used:
        h = passages[n - 1]
        claims = " ".join(s.text for s in kept if n in s.citations)
        span = support_span(claims, h.text)
        c = h.chunk
        citations.append(
            Citation(
                number=n, chunk_id=c.id, article_id=c.article_id, title=h.title, date=h.date, source=h.source, url=h.url,
                passage=h.text, start=c.start, end=c.end, support_start=span[0] if span else None, support_end=span[1] if span else None,
            )
        )
    return Checked(" ".join(parts), citations, kept, True, False, notes)
