"""Question fit: does a supported answer give what the question asks? Checks over the question and
the supported text, returning coded findings (each kept only while its leave-one-out ablation on
the dev replays pays for itself; ``docs/trust.md``).
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from importlib import resources

from vectorstore.text import MARKER, MONTHS, WORD, content_words, date_mentions, fold, names

from . import words
from .checks import Translated, strong_name, weekdays
from .types import Code, Finding

_ASKS_FOR_A_FIGURE = re.compile(
    r"\b(?:wie\s*viele?|wie\s+(?:hoch|lange|alt)|(?:in\s+)?welche[ms]?\s+jahr|"
    r"how\s+(?:many|much|long|old)|(?:in\s+)?(?:which|what)\s+year)\b", re.IGNORECASE)
_ASKS_FOR_A_TIME = re.compile(
    r"^\W*(?:\w+\s+){0,3}?(?:wann|when)\b|\b(?:(?:in|an|zu)\s+welche[mn]?\s+(?:monat|tag|zeit\w*|jahrhundert|jahrzehnt)"
    r"|(?:in|on|at)\s+(?:which|what)\s+(?:month|day|date|time|century|decade))\b", re.IGNORECASE)
_ONLY_ONE = re.compile(r"\b(?:nur|lediglich|genau|only|just|exactly)\s+(?:ein|eine|einen|einem|einer|one)\b", re.IGNORECASE)
_ASKED_UNIT = re.compile(r"\b(?:wie\s*viele?|how\s+(?:many|much))\s+(\w+(?:\s+\w+)?)", re.IGNORECASE)


def _list(name: str) -> frozenset[str]:
    return frozenset(words.items(name))


def _wildcard(word: str) -> str:
    """A word of a list as a pattern: a ``*`` stands for any letters ("*jahr": "Lebensjahr")."""
    return ("\\w*" if word.startswith("*") else "") + re.escape(word.strip("*")) + ("\\w*" if word.endswith("*") else "")


@lru_cache(maxsize=1)
def _time_words() -> re.Pattern:
    return re.compile(r"\b(?:" + "|".join(map(_wildcard, words.items("time_words"))) + r")\b", re.IGNORECASE)


@lru_cache(maxsize=1)
def _units() -> list[tuple[tuple[str, ...], tuple[str, ...]]]:
    data = json.loads(resources.files(__package__).joinpath("words/units.json").read_text(encoding="utf-8"))
    return [(tuple(asked), tuple(given)) for asked, given in data["units"]]


def gives_a_figure(text: str) -> bool:
    """A digit, a number word, or "only one"; the plain article ("ein", "one") is no figure."""
    text = MARKER.sub("", text)
    stems = tuple(_list("figure_stems"))
    return any(c.isdigit() for c in text) or bool(_ONLY_ONE.search(text)) or any(
        w.lower().startswith(stems) for w in WORD.findall(text))


def gives_a_time(text: str) -> bool:
    text = MARKER.sub("", text)
    return (gives_a_figure(text) or bool(date_mentions(text)) or bool(_time_words().search(text)) or bool(weekdays(text))
            or any(w.lower().rstrip(".") in MONTHS for w in WORD.findall(text)))


def asked_unit(question: str) -> tuple[str, ...] | None:
    m = _ASKED_UNIT.search(question)
    asked = fold(m.group(1)) if m else ""
    return next((forms for heads, forms in _units() if m and asked.startswith(heads)), None)


def gives_unit(text: str, forms: tuple[str, ...]) -> bool:
    """A unit word by its start, an abbreviation or symbol only next to a figure ("12 %", "$5")."""
    folded = fold(MARKER.sub("", text))
    for form in forms:
        f = re.escape(form)
        if len(form) > 3 and form.isalpha() and re.search(rf"\b{f}", folded):
            return True
        if re.search(rf"\d\s*{f}(?![^\W\d_])|(?<![^\W\d_]){f}\s*\d", folded):
            return True
    return False


def _stems(text: str) -> list[str]:
    text = MARKER.sub("", text)
    return [fold(w) for w in content_words(text, 3) if w.lower() not in _list("question_words")] + re.findall(r"\d+", text)


def restates_question(question: str, text: str, yes_no: bool = False) -> bool:
    """Every content word of the answer is the question's and it repeats most of the question: it
    adds nothing. Yes/no and choice questions are exempt (their answer is made of their words)."""
    if not question or yes_no or words.has("choice", question):
        return False
    asked, said = _stems(question), _stems(text)

    def within(word: str, others: list[str]) -> bool:
        return any(word[:5] == o[:5] or (min(len(word), len(o)) >= 4 and (word.startswith(o) or o.startswith(word)))
                   for o in others)

    return all(within(w, asked) for w in said) and sum(within(w, said) for w in asked) >= 0.75 * max(1, len(asked))


def question_names_absent(question: str, q_language: str, article: str, language: str, translated: Translated) -> list[str]:
    """The question's proper names when the article (or its text in another language) has none of
    them (a German noun alone is no proper name: ``checks.strong_name``)."""
    asked = [n for n in dict.fromkeys(names(f"x {question}")) if len(n) >= 3 and strong_name(n, question, q_language)]
    about = words.Words(article, language)
    if not asked or any(about.has(n) for n in asked) or translated(asked, article):
        return []
    return asked


def question_fit(question: str, answer: str, article: str = "", language: str = "de",
                 translated: Translated = lambda n, t: False, *, question_language: str = "de",
                 yes_no: bool = False) -> tuple[Finding, ...]:
    """What the supported ``answer`` fails to give that ``question`` (in ``question_language``; a
    yes/no question when ``yes_no``) asks for, against ``article`` in ``language``."""
    if not question:
        return ()
    out = []
    if _ASKS_FOR_A_FIGURE.search(question) and not gives_a_figure(answer):
        out.append(Finding(Code.ASKS_FIGURE, answer[:120]))
    unit = asked_unit(question)
    if unit and not gives_unit(answer, unit):
        out.append(Finding(Code.ASKS_UNIT, unit[0]))
    if _ASKS_FOR_A_TIME.search(question) and not gives_a_time(answer):
        out.append(Finding(Code.ASKS_TIME, answer[:120]))
    if restates_question(question, answer, yes_no):
        out.append(Finding(Code.RESTATES_QUESTION, answer[:120]))
    absent = question_names_absent(question, question_language, article, language, translated) if article else []
    if absent:
        out.append(Finding(Code.QUESTION_NAME_ABSENT, ", ".join(absent)))
    return tuple(out)
