"""The verifier's words, per language, as data (``words/<lang>.json``), and tolerant word matching.

Number words come from ``text2num`` and stems from ``snowballstemmer``; what is left (negators,
hedges, directions, quantifiers, passive auxiliaries) are short general lists, one file a language.
A list item of several words matches with up to fifteen words between its parts, so "schloss aus"
finds the separable "schloss … nicht aus".
"""

from __future__ import annotations

import json
import re
import threading
from functools import lru_cache
from importlib import resources

import snowballstemmer

from vectorstore.text import WORD, fold, numbers_outside_dates

LANGUAGES = ("de", "en")
#: a snowball stemmer keeps its word in itself, so two threads stemming at once (two users of a served
#: UI) break each other's: one set of stemmers per thread
_LOCAL = threading.local()


@lru_cache(maxsize=None)
def items(name: str) -> tuple[str, ...]:
    """The items of list ``name`` in every language (a text's language is not always its claim's)."""
    out: list[str] = []
    for lang in LANGUAGES:
        out += json.loads(resources.files(__package__).joinpath(f"words/{lang}.json").read_text(encoding="utf-8"))[name]
    return tuple(out)


@lru_cache(maxsize=None)
def word_list(name: str) -> tuple[re.Pattern, ...]:
    """The patterns of list ``name``: an item of several words matches with words between its parts."""
    out = []
    for item in items(name):
        parts = [re.escape(p) for p in item.split()]
        gap = r"(?:\s+[^\s.;:!?]+){0,15}?\s+"
        lead = r"\b" if item[:1].isalnum() else ""
        out.append(re.compile(lead + gap.join(parts) + r"\b", re.IGNORECASE))
    return tuple(out)


def count(name: str, text: str) -> int:
    """How many items of list ``name`` the text has."""
    return sum(len(p.findall(text)) for p in word_list(name))


def has(name: str, text: str) -> bool:
    return any(p.search(text) for p in word_list(name))


def remove(name: str, text: str) -> str:
    """The text with every item of list ``name`` blanked out."""
    for p in word_list(name):
        text = p.sub(" ", text)
    return text


def _stemmer(language: str):
    stemmers = getattr(_LOCAL, "stemmers", None)
    if stemmers is None:
        stemmers = _LOCAL.stemmers = {"de": snowballstemmer.stemmer("german"), "en": snowballstemmer.stemmer("english")}
    return stemmers.get(language, stemmers["en"])


@lru_cache(maxsize=1 << 16)
def stem(word: str, language: str) -> str:
    return _stemmer(language).stemWord(fold(word))


def stems(text: str, language: str) -> set[str]:
    return {stem(w, language) for w in WORD.findall(text) if len(w) >= 3}


_SPELLED = re.compile(r"\b(?:zwei|drei|vier|fünf|sechs|sieben|acht|neun|zehn|elf|zwölf|zwanzig|dreißig|hundert|tausend"
                      r"|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|hundred|thousand)\w*\b",
                      re.IGNORECASE)


def _spelled_to_digits(text: str, language: str) -> str:
    """Number words as digits ("drei Männer" -> "3 Männer"), by ``text2num``; "ein"/"one" stay words."""
    if not _SPELLED.search(text):
        return text
    from text_to_num import alpha2digit  # imported late: only claims with number words need it

    try:
        return alpha2digit(text, language)
    except (ValueError, KeyError, IndexError):
        return text


def figures(text: str, language: str) -> set[str]:
    """The figures a text gives outside its dates, digits or words, without separators ("1.000" and
    "1,000" -> "1000")."""
    return {n.lstrip("0") or "0" for n in numbers_outside_dates(_spelled_to_digits(text, language))}


class Words:
    """Tolerant lookup of a claim's words in a text: case, accents, inflection (a shared stem or a
    long shared prefix) and hyphenated compounds ("Selenskyj" is not "Selenskyjs" apart)."""

    def __init__(self, text: str, language: str):
        self.language = language
        tokens = [fold(w) for w in WORD.findall(text)]
        self.tokens = set(tokens) | {p for t in tokens for p in t.split("-") if len(p) >= 3}
        self.stems = {stem(t, language) for t in self.tokens}

    def has(self, word: str) -> bool:
        w = fold(word)
        if w in self.tokens or stem(w, self.language) in self.stems:
            return True
        head = w[: max(5, len(w) - 3)]
        return len(w) >= 5 and any(t.startswith(head) for t in self.tokens)
