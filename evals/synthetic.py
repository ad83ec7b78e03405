"""Synthetic (claim, passage) pairs for tuning the verifier, made from the articles themselves.

    python -m evals.synthetic                       # writes evals/sets/synthetic.jsonl (fixed seed)
    assistant eval checker --set evals/sets/synthetic.jsonl --label verifier-v2

MiniCheck's lesson: hard negatives made by editing real sentences teach (and test) a checker better
than hand-written ones, and they keep tuning from overfitting the 144 hand-labelled pairs of
``checker.jsonl``. Each pair changes one thing in one sentence of a 10kGNAD article or an XQuAD
paragraph (German, or its parallel English sentence) and is scored by the same code as the checker
set. Articles and paragraphs that the checker set cites are left out, so that set stays held-out.
See ``evals/sets/SYNTHETIC.md`` for the kinds and the data's licences.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from vectorstore.text import (
    MONTHS,
    STOPWORDS,
    WEEKDAYS,
    WORD,
    date_mentions,
    fold,
    names,
    numbers,
    same_date,
    sentence_spans,
)

if TYPE_CHECKING:
    from vectorstore.embedder import Embedder

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
SETS = Path(__file__).with_name("sets")
CHECKER_SET = SETS / "checker.jsonl"
SYNTHETIC_SET = SETS / "synthetic.jsonl"
SEED = 12

TRUE_KINDS = ("verbatim", "translation", "date_format", "abbreviation", "possessive", "reorder")
FALSE_KINDS = {
    "negation": "contradicted", "roles": "contradicted", "number": "contradicted", "date": "contradicted",
    "place": "contradicted", "added_person": "not_found", "unrelated": "not_found", "yes_no": "not_found",
    "modality": "not_found",
}
KINDS = {**{k: "supported" for k in TRUE_KINDS}, **FALSE_KINDS}

#: 10kGNAD rows before this one are left out (the checker set cites rows 3–267).
GNAD_FIRST_ROW = 300


@dataclass(frozen=True)
class Sentence:
    """One sentence of a source with the passage (it and its neighbours) it is checked against."""

    source: str  # "10kgnad" or "xquad"
    passage_id: str
    title: str
    language: str
    text: str
    passage: str
    article: str  # the whole article or paragraph, for values "from elsewhere in the passage"
    group: str  # article id: unrelated claims come from another group
    english: str = ""  # XQuAD: the parallel English sentence, when aligned


# --------------------------------------------------------------------------------------------------
# Loading: sentences with a window of one neighbour each side as their passage.


def _windows(text: str) -> list[tuple[str, str]]:
    """(sentence, passage) for each sentence of ``text``; the passage is an exact substring."""
    spans = sentence_spans(text)
    out = []
    for i, s in enumerate(spans):
        lo, hi = spans[max(0, i - 1)], spans[min(len(spans) - 1, i + 1)]
        out.append((text[s.start : s.end], text[lo.start : hi.end]))
    return out


def _usable(sentence: str) -> bool:
    n = len(sentence.split())
    return 7 <= n <= 40 and sentence[-1:] in ".!?" and "\n" not in sentence


def _checker_sources(path: Path = CHECKER_SET) -> set[str]:
    """Article ids the checker set cites (``xquad-<article>``, ``10kgnad-<row>``): left out here."""
    out = set()
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                pid = json.loads(line)["passage_id"]
                out.add("-".join(pid.split("-")[:2]))
    return out


def load_gnad(path: Path, limit: int, excluded: set[str]) -> list[Sentence]:
    """Sentences of 10kGNAD articles from row ``GNAD_FIRST_ROW`` on (``limit`` articles)."""
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f, delimiter=";", quotechar="'"))
    out = []
    for row in range(GNAD_FIRST_ROW, min(len(rows), GNAD_FIRST_ROW + limit)):
        label, text = rows[row]
        group = f"10kgnad-{row:04d}"
        if group in excluded:
            continue
        for i, (s, passage) in enumerate(_windows(text)[:12]):
            if _usable(s):
                out.append(Sentence("10kgnad", f"{group}-s{i}", f"DER STANDARD ({label})", "de", s, passage, text, group))
    return out


def load_xquad(folder: Path, excluded: set[str]) -> tuple[list[Sentence], list[Sentence]]:
    """German and English sentences of the XQuAD paragraphs; a German sentence carries its English
    parallel when both paragraphs split into as many sentences and the pair shares its figures."""
    de_data = json.loads((folder / "xquad.de.json").read_text(encoding="utf-8"))["data"]
    en_data = json.loads((folder / "xquad.en.json").read_text(encoding="utf-8"))["data"]
    de_out, en_out = [], []
    for a, (de_art, en_art) in enumerate(zip(de_data, en_data)):
        group = f"xquad-{a}"
        if group in excluded:
            continue
        title = de_art["title"].replace("_", " ")
        for p, (de_par, en_par) in enumerate(zip(de_art["paragraphs"], en_art["paragraphs"])):
            de_w, en_w = _windows(de_par["context"]), _windows(en_par["context"])
            parallel = len(de_w) == len(en_w)
            for i, (s, passage) in enumerate(de_w):
                en = en_w[i][0] if parallel and _parallel(s, en_w[i][0]) else ""
                if _usable(s):
                    de_out.append(Sentence("xquad", f"{group}-{p}-s{i}", title, "de", s, passage, de_par["context"], group, en))
            for i, (s, passage) in enumerate(en_w):
                if _usable(s):
                    en_out.append(Sentence("xquad", f"{group}-{p}-s{i}", title, "en", s, passage, en_par["context"], group))
    return de_out, en_out


def _parallel(de: str, en: str) -> bool:
    """Index-aligned sentences that are translations of each other: same figures, a shared name."""
    if sorted(numbers(de)) != sorted(numbers(en)):
        return False
    if numbers(de):
        return True
    return bool({fold(n) for n in names(de)} & {fold(n) for n in names(en)})


# --------------------------------------------------------------------------------------------------
# Lexicons drawn from the corpus: places (words after in/nach/aus that also follow another of them)
# and people (names after a title word).

_PLACE_PREPS = {"de": ("in", "nach", "aus", "bei", "nahe"), "en": ("in", "to", "from", "at", "near")}
_NOT_PLACES = {
    "Kraft", "New", "St", "Bad", "Sicht", "EU", "Spielfeld", "Los", "Saudi", "Dokumenten", "Bussen", "Halle",
    "Berichten", "Garmisch", "Angaben", "Zukunft", "Frage", "Haft", "Summe", "Folge", "Zusammenarbeit", "Zeiten",
    "Hinblick", "Anspruch", "Betrieb", "Erinnerung", "Gefahr", "Richtung", "Kontakt", "Ansicht",
    "January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November",
    "December", "The", "English", "French", "German", "Latin", "Greek", "Chinese", "Spanish", "Italian", "Arabic",
    "Russian", "American", "British", "European", "Christianity", "Islam", "Economic", "North", "South", "Cnidaria",
    "Doctor", "Western", "Eastern",
}


def place_lexicon(texts: Iterable[str], language: str) -> list[str]:
    """Capitalised words that follow at least two different place prepositions at least three times."""
    preps = _PLACE_PREPS[language][:3]
    by_prep: dict[str, set[str]] = defaultdict(set)
    count: Counter[str] = Counter()
    pattern = re.compile(r"\b(" + "|".join(preps) + r") ([A-ZÄÖÜ][^\W\d_]{3,})\b")
    for text in texts:
        for m in pattern.finditer(text):
            by_prep[m.group(2)].add(m.group(1))
            count[m.group(2)] += 1
    months = {m.capitalize() for m in MONTHS} | {d.capitalize() for d in [*WEEKDAYS, *WEEKDAYS.values()]}
    least, preps_least = (3, 2) if language == "de" else (2, 1)  # XQuAD's English side is small
    return sorted(w for w, n in count.items()
                  if n >= least and len(by_prep[w]) >= preps_least and w not in _NOT_PLACES and w not in months)


_TITLES = (
    r"Präsident(?:in)?|Bundeskanzler(?:in)?|Kanzler(?:in)?|Minister(?:in)?|Ministerpräsident(?:in)?|Außenminister(?:in)?"
    r"|Innenminister(?:in)?|Trainer(?:in)?|Bürgermeister(?:in)?|Regisseur(?:in)?|Sänger(?:in)?|Schriftsteller(?:in)?"
    r"|President|King|Queen|Senator|General|Pope|Emperor|Prince|Professor|Governor|Chancellor|Minister|Sir|Lord|Bishop"
)
_PERSON = re.compile(r"\b(?:" + _TITLES + r") ((?:[A-ZÄÖÜ][^\W\d_]+ ){0,2}[A-ZÄÖÜ][^\W\d_]{2,})\b")


def person_lexicon(texts: Iterable[str]) -> list[str]:
    """Names written after a title ("Präsident Recep Tayyip Erdoğan", "King John")."""
    found: Counter[str] = Counter()
    for text in texts:
        for m in _PERSON.finditer(text):
            name = m.group(1)
            if not any(w.lower() in STOPWORDS or w in _NOT_PLACES for w in name.split()):
                found[name] += 1
    return sorted(found)


# --------------------------------------------------------------------------------------------------
# Edits. Each takes a sentence (text and language) and the context, and returns a claim or None.


@dataclass
class Context:
    rng: random.Random
    places: dict[str, list[str]]
    persons: list[str]
    neighbours: dict[tuple[str, str], str] = field(default_factory=dict)  # (passage_id, language) -> claim


def _sub_once(pattern: str, repl: str | Callable, text: str, flags: int = 0) -> str | None:
    new, n = re.subn(pattern, repl, text, count=1, flags=flags)
    return new if n and new != text else None


def negate(text: str, language: str) -> str | None:
    """Flip the polarity: drop a negation the sentence has, or add one."""
    if language == "de":
        for pattern, repl in ((r" nicht\b", ""), (r"\bnie\b ", ""), (r"\bkein(e|en|em|er|es)?\b", r"ein\1")):
            new = _sub_once(pattern, repl, text)
            if new:
                return new
        # "nicht" goes before the verbs that close the sentence ("… nicht zu ziehen", "… nicht ausstatten lassen").
        m = re.search(r" ((?:zu )?[a-zäöüß]{4,}(?: [a-zäöüß]{4,}){0,2})([.!?])$", text)
        if m and not any(w in STOPWORDS for w in m.group(1).split() if w != "zu"):
            return text[: m.start()] + " nicht " + m.group(1) + m.group(2)
        return None
    for pattern, repl in ((r" not\b", ""), (r"\bnever ", ""), (r"n't\b", "")):
        new = _sub_once(pattern, repl, text)
        if new:
            return new
    return _sub_once(r"\b(is|was|were|are|will|could|can|would|(?:has|had|have)(?= (?:been|\w+ed|\w+en)\b))\b", r"\1 not", text)


def state_as_fact(text: str, language: str) -> str | None:
    """What the sentence says may be so, stated as so: "könnte … werden" → "wird … werden", a
    "vielleicht" dropped; "could/might/may" → "will", a "perhaps" dropped."""
    if language == "de":
        for pattern, repl in ((r"\bkönnte\b", "wird"), (r"\bkönnten\b", "werden"),
                              (r"\b(?:möglicherweise|vielleicht|eventuell|womöglich) ", "")):
            new = _sub_once(pattern, repl, text)
            if new:
                return new
        return None
    for pattern, repl in ((r"\b(?:could|might|may)(?= (?!not\b|have\b|be\b)[a-z]+\b)", "will"), (r"\b(?:possibly|perhaps|maybe) ", "")):
        new = _sub_once(pattern, repl, text)
        if new:
            return new
    return None


_LINKS = {"und", "and", "oder", "or", "sowie", "mit", "with", "zwischen", "between", "gegen", "against", "vs", "von", "of"}


def _name_runs(text: str) -> list[tuple[int, int]]:
    """Spans of runs of names (capitalised words that ``names`` keeps), e.g. "Dominic Thiem"."""
    kept = set(names(text))
    runs: list[tuple[int, int]] = []
    for m in WORD.finditer(text):
        if m.group(0) not in kept and not any(m.group(0).startswith(k) for k in kept):
            continue
        if runs and text[runs[-1][1] : m.start()] == " ":
            runs[-1] = (runs[-1][0], m.end())
        else:
            runs.append((m.start(), m.end()))
    return runs


_EN_VERBS = {"beat", "won", "met", "led", "took", "sent", "told", "gave", "made", "hit", "sold", "bought", "left", "became",
             "succeeds", "defeats", "beats", "meets", "leads", "hosts", "joins", "replaces", "founds", "wrote", "built"}


_DEMONYM = re.compile(r"\b[A-Z]\w+(?:ish|ese|ian|ean|ic|ch)\b|\bEnglish\b|\bFrench\b")


def _person_like(name: str, persons: list[str]) -> bool:
    """A German run of capitalised words that is a name, not a noun: a known person or a surname of one."""
    last = name.split()[-1]
    return any(p == name or p.split()[-1] == last for p in persons)


def swap_roles(text: str, language: str, persons: list[str] = (), english: str = "") -> str | None:
    """Swap two names around a verb ("Die Broncos besiegten die Steelers" → "Die Steelers besiegten
    die Broncos"). In German only people's names count (German capitalises every noun), or the two
    names swapped in the parallel ``english`` sentence when the German one has both."""
    pair = _role_pair(text, language, persons)
    if pair:
        a, b = pair
    elif language == "de" and english and (en_pair := _role_pair(english, "en", persons)):
        a, b = en_pair
        if text.count(a) != 1 or text.count(b) != 1:
            return None
    else:
        return None
    ma, mb = re.search(rf"\b{re.escape(a)}\b", text), re.search(rf"\b{re.escape(b)}\b", text)
    if not ma or not mb or ma.start() < mb.end() and mb.start() < ma.end():
        return None
    (x, y) = sorted([ma, mb], key=lambda m: m.start())
    return text[: x.start()] + y.group(0) + text[x.end() : y.start()] + x.group(0) + text[y.end() :]


def _role_pair(text: str, language: str, persons: list[str]) -> tuple[str, str] | None:
    """Two names with a verb between them, the first right before it."""
    runs = [r for r in _name_runs(text) if language == "en" or _person_like(text[r[0] : r[1]], persons)
            or re.fullmatch(r"[A-ZÄÖÜ][a-zäöüß]+ [A-ZÄÖÜ][a-zäöüß]+", text[r[0] : r[1]])]
    for i, (a0, a1) in enumerate(runs):
        for b0, b1 in runs[i + 1 :]:
            a, b, between = text[a0:a1], text[b0:b1], text[a1:b0]
            words = [w.lower() for w in WORD.findall(between)]
            if fold(a) in fold(b) or fold(b) in fold(a) or not 1 <= len(words) <= 5 or _DEMONYM.search(a + " " + b):
                continue
            if not re.match(r"\s+[a-zäöüß]", between):
                continue  # the verb follows the first name: "X defeated Y", "X hat Y … beauftragt"
            if re.search(r"[,:;–—(]", between) or any(w in _LINKS for w in words) or not any(w not in STOPWORDS for w in words):
                continue
            if language == "en" and not any(w.endswith("ed") or w in _EN_VERBS for w in words):
                continue  # no verb between them: not a who-did-what-to-whom sentence
            if re.match(r"\s*of\b", text[b1:]) or re.search(r"\bof\s*$", text[:a0]):
                continue  # part of a longer name ("University of Chicago")
            return a, b
    return None


_NUMBER_WORDS = {
    "de": ["zwei", "drei", "vier", "fünf", "sechs", "sieben", "acht", "neun", "zehn"],
    "en": ["two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"],
}


def change_number(text: str, language: str, article: str, rng: random.Random) -> str | None:
    """Change one figure (not a date or year): to another figure of the article when there is one,
    else to a nearby value; or a number word to another."""
    blanked = text
    for d in date_mentions(text):
        blanked = blanked[: d.start] + "#" * (d.end - d.start) + blanked[d.end :]
    figure = r"(?<![\w.,-])\d{1,3}(?![\d.,]?\d)(?![^\W\d_])"
    figures = list(re.finditer(figure, blanked))
    if figures:
        m = figures[rng.randrange(len(figures))]
        n, here = int(m.group(0)), set(numbers(text))
        # Another figure of the article of a similar size is the hard case (a bag of numbers accepts it).
        others = sorted({f for f in re.findall(figure, article) if f not in here and n / 3 <= int(f) <= n * 3 + 3})
        new = rng.choice(others) if others else str(n + rng.randint(1, 9))
        return text[: m.start()] + new + text[m.end() :]
    words = _NUMBER_WORDS[language]
    for i, w in enumerate(words):
        m = re.search(rf"\b{w}\b", text)
        if m:
            new = words[(i + rng.randint(1, len(words) - 1)) % len(words)]
            return text[: m.start()] + new + text[m.end() :]
    return None


_MONTH_NAMES = {
    "de": ["Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober", "November", "Dezember"],
    "en": ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"],
}
_DAY_NAMES = {"de": [d.capitalize() for d in WEEKDAYS.values()], "en": [d.capitalize() for d in WEEKDAYS]}


def change_date(text: str, language: str, rng: random.Random) -> str | None:
    """Change a date's day or month, a year, or a weekday."""
    for d in date_mentions(text):
        span = text[d.start : d.end]
        month_name = next((m for m in _MONTH_NAMES[language] if m in span), None)
        if month_name:
            others = [m for m in _MONTH_NAMES[language] if m != month_name]
            return text[: d.start] + span.replace(month_name, rng.choice(others)) + text[d.end :]
        if d.value[-2:] != "??":
            day = int(d.value[-2:])
            new_day = (day + rng.randint(1, 9) - 1) % 28 + 1
            return text[: d.start] + re.sub(r"\d{1,2}", str(new_day), span, count=1) + text[d.end :]
    m = re.search(r"\b(1[5-9]\d\d|20[0-2]\d)\b", text)
    if m:
        return text[: m.start()] + str(int(m.group(0)) + rng.choice([-3, -2, -1, 1, 2, 3])) + text[m.end() :]
    for day in _DAY_NAMES[language]:
        if day in text:
            return text.replace(day, rng.choice([d for d in _DAY_NAMES[language] if d != day]), 1)
    return None


def swap_place(text: str, language: str, article: str, places: list[str], rng: random.Random) -> str | None:
    """Put another place of the corpus where a place follows a place preposition."""
    preps = "|".join(_PLACE_PREPS[language])
    known = set(places)
    for m in re.finditer(rf"\b(?:{preps}) (?:the )?([A-ZÄÖÜ][^\W\d_]+)", text):
        if m.group(1) in known:
            folded = fold(article)
            choices = [p for p in places if fold(p) not in folded]
            return text[: m.start(1)] + rng.choice(choices) + text[m.end(1) :]
    return None


def add_person(text: str, language: str, article: str, persons: list[str], rng: random.Random) -> str | None:
    """Add a person the passage does not name next to a name it does ("Merkel und Renzi")."""
    runs = [r for r in _name_runs(text) if " " in text[r[0] : r[1]] or text[r[0] : r[1]] in persons]
    if not runs:
        return None
    folded = fold(article)
    choices = [p for p in persons if fold(p.split()[-1]) not in folded]
    a, b = runs[0]
    joint = rng.choice({"de": [" und ", " sowie ", " gemeinsam mit "], "en": [" and ", " together with ", " as well as "]}[language])
    return text[:b] + joint + rng.choice(choices) + text[b:]


_ABBREVIATIONS = {
    "de": [
        ("Vereinigten Staaten", "USA"), ("Vereinigte Staaten", "USA"), ("Europäischen Union", "EU"),
        ("Europäische Union", "EU"), ("Vereinten Nationen", "UNO"), (" Prozent", " %"), (" Millionen", " Mio."),
        (" Milliarden", " Mrd."), ("zum Beispiel", "z. B."), ("Österreichischen Volkspartei", "ÖVP"),
        ("Freiheitlichen Partei Österreichs", "FPÖ"), ("Sozialdemokratische Partei", "SPD"), ("Sankt ", "St. "),
        ("Doktor ", "Dr. "), ("Professor ", "Prof. "), ("Nummer ", "Nr. "), (" USA", " Vereinigten Staaten"),
        ("ÖVP", "Volkspartei"), ("FPÖ", "Freiheitlichen"), (" EU-", " Europäische-Union-"),
    ],
    "en": [
        ("United States", "U.S."), ("European Union", "EU"), ("United Nations", "UN"), (" percent", "%"),
        ("National Football League", "NFL"), ("Saint ", "St. "), ("Doctor ", "Dr. "), ("Mount ", "Mt. "),
        ("United Kingdom", "UK"), ("for example", "e.g."), (" U.S.", " United States"), (" US ", " United States "),
        ("NFL", "National Football League"), (" UK", " United Kingdom"), ("Professor ", "Prof. "),
    ],
}


def abbreviate(text: str, language: str) -> str | None:
    """An abbreviation for a full name, or the full name for an abbreviation."""
    for long, short in _ABBREVIATIONS[language]:
        if long in text:
            return text.replace(long, short, 1)
    return None


def reformat_date(text: str, language: str) -> str | None:
    """The same date written another way ("18. August 2025" ↔ "18.08.2025", "August 2014" → "08/2014")."""
    for d in date_mentions(text):
        y, m, day = d.value.split("-")
        span = text[d.start : d.end]
        month = _MONTH_NAMES[language][int(m) - 1]
        if y != "????" and day != "??":
            if re.search(r"[A-Za-zä]", span):
                new = f"{int(day):02d}.{m}.{y}" if language == "de" else f"{y}-{m}-{day}"
            else:
                new = f"{int(day)}. {month} {y}" if language == "de" else f"{month} {int(day)}, {y}"
        elif y != "????":
            new = f"{m}/{y}" if re.search(r"[A-Za-zä]", span) else f"{month} {y}"
        elif re.search(r"[A-Za-zä]", span) and language == "de":
            new = f"{int(day)}.{m}."
        else:
            continue
        if any(same_date(d.value, e.value) for e in date_mentions(new)):
            return text[: d.start] + new + text[d.end :]
    return None


def possessive(text: str, language: str) -> str | None:
    """A possessive in place of an of-/von-phrase ("the office of Netanyahu" → "Netanyahu's office")."""
    def genitive(name: str) -> str:
        if language == "en":
            return name + ("'" if name.endswith("s") else "'s")
        return name + ("'" if name[-1] in "sxzß" else "s")

    if language == "en":
        m = re.search(r"\b[Tt]he ([a-z]+) of ((?:[A-Z][^\W\d_]+ ?){1,3})(?=\W)", text)
        if m:
            name = m.group(2).strip()
            return text[: m.start()] + genitive(name) + " " + m.group(1) + text[m.start(2) + len(name) :]
        return None
    m = re.search(r"\b(?:der|die|das|dem|den) ([A-ZÄÖÜ][^\W\d_]+) von ((?:[A-ZÄÖÜ][^\W\d_]+ ?){1,3})(?=\W)", text)
    if m and m.group(2).split()[0].lower() not in STOPWORDS:
        name = m.group(2).strip()
        return text[: m.start()] + genitive(name) + " " + m.group(1) + text[m.start(2) + len(name) :]
    return None


def reorder(text: str, language: str) -> str | None:
    """Move a leading adverbial to the end ("In 1981, X opened Y." → "X opened Y in 1981."), or
    put the speaker first ("…, sagte Müller." → "Müller sagte, …")."""
    said = {"de": r"(sagte|erklärte|betonte|meinte|sagt|erklärt|betont)", "en": r"(said|says|added|explained)"}[language]
    m = re.match(rf"^(.+), {said} ((?:[A-ZÄÖÜ][^\W\d_]+ ?){{1,3}})\.$", text)
    if m and m.group(3).split()[0].lower() not in STOPWORDS:
        body = m.group(1)
        return f"{m.group(3).strip()} {m.group(2)}, {body[0].lower() + body[1:] if language == 'en' else body}."
    if language == "en":
        m = re.match(r"^(In|On|At|During|After|Before|By|Since) ([^,]{3,50}), (.+)\.$", text)
        if m and not m.group(3).startswith(("which", "who")):
            rest = m.group(3)
            return f"{rest[0].upper()}{rest[1:]} {m.group(1).lower()} {m.group(2)}."
    return None


_YES_NO = {
    "de": ["Ja.", "Ja, das stimmt.", "Nein.", "Nein, das ist nicht der Fall.", "Ja [1].", "Genau so ist es.", "Richtig.", "Doch, das tat er."],
    "en": ["Yes.", "Yes, he did [1].", "No.", "That is correct.", "Yes, that's right.", "No, it did not.", "Indeed.", "Yes [1]."],
}


# --------------------------------------------------------------------------------------------------
# Building the set.


def _record(s: Sentence, claim: str, language: str, kind: str, passage_language: str, n: int) -> dict:
    """One pair in the checker set's format; ``s`` is the sentence whose window is the passage."""
    label = KINDS[kind]
    return {
        "id": f"syn-{kind}-{n:03d}", "source": s.source, "passage_id": s.passage_id, "passage_title": s.title,
        "passage_date": "", "passage": s.passage, "passage_language": passage_language, "claim": claim,
        "claim_language": language, "label": label, "kind": kind,
        "evidence": "" if label == "not_found" else s.text,
    }


def nearest_neighbours(queries: list[Sentence], pool: list[Sentence], embedder: "Embedder", language: str) -> dict[str, str]:
    """For each query sentence, the most similar ``language`` sentence of another article (e5): an
    on-topic claim its passage does not state."""
    import numpy as np

    cands = [p for p in pool if p.language == language]
    q = embedder.embed([s.text for s in queries], "query")
    c = embedder.embed([p.text for p in cands], "passage")
    sims = q @ c.T
    out = {}
    for i, s in enumerate(queries):
        for j in np.argsort(-sims[i], kind="stable"):
            p = cands[int(j)]
            if p.group == s.group or sims[i, j] > 0.95:
                continue
            words = {fold(w) for w in WORD.findall(p.text) if w.lower() not in STOPWORDS and len(w) > 3}
            if len(words & {fold(w) for w in WORD.findall(s.article)}) <= 0.5 * len(words):
                out[s.passage_id] = p.text
                break
    return out


def build(data: Path, embedder: "Embedder", *, seed: int = SEED, per_kind: int = 30, gnad_articles: int = 250) -> list[dict]:
    """The synthetic set: ``per_kind`` pairs of each kind (fewer where the corpus has too few
    sentences an edit applies to), 3/5 German and 2/5 English claims; English claims are checked
    against the German paragraph or its English original, by turns."""
    rng = random.Random(seed)
    excluded = _checker_sources()
    gnad = load_gnad(data / "10kGNAD" / "test.csv", gnad_articles, excluded)
    xq_de, xq_en = load_xquad(data / "xquad", excluded)
    de_pool = gnad + xq_de
    parallel = [s for s in xq_de if s.english]
    en_by_id = {s.passage_id: s for s in xq_en}
    de_articles, en_articles = sorted({s.article for s in de_pool}), sorted({s.article for s in xq_en})
    places = {"de": place_lexicon(de_articles, "de"), "en": place_lexicon(en_articles, "en")}
    # XQuAD's English side is small: add the German lexicon's places that English text also uses so.
    en_text = " ".join(en_articles)
    places["en"] = sorted(set(places["en"]) | {p for p in places["de"] if re.search(rf"\b(?:in|to|from) {p}\b", en_text)})
    persons = person_lexicon(sorted(set(de_articles) | set(en_articles)))

    de_order = rng.sample(de_pool, len(de_pool))
    en_order = rng.sample(parallel, len(parallel))
    en_only = rng.sample(xq_en, len(xq_en))
    n_de = per_kind * 3 // 5
    records: list[dict] = []

    def english(s: Sentence, turn: int) -> tuple[Sentence, str, str]:
        """(sentence whose passage is used, claim base text, passage language) for an English claim."""
        if turn % 2 == 0 or s.passage_id not in en_by_id:
            return s, s.english, "de"
        return en_by_id[s.passage_id], s.english, "en"

    edits: dict[str, Callable[[str, str, Sentence], str | None]] = {
        "verbatim": lambda t, lang, s: t,
        "date_format": lambda t, lang, s: reformat_date(t, lang),
        "abbreviation": lambda t, lang, s: abbreviate(t, lang),
        "possessive": lambda t, lang, s: possessive(t, lang),
        "reorder": lambda t, lang, s: reorder(t, lang),
        "negation": lambda t, lang, s: negate(t, lang),
        "roles": lambda t, lang, s: swap_roles(t, lang, persons, s.english),
        "number": lambda t, lang, s: change_number(t, lang, s.article, rng),
        "date": lambda t, lang, s: change_date(t, lang, rng),
        "place": lambda t, lang, s: swap_place(t, lang, s.article, places[lang], rng),
        "added_person": lambda t, lang, s: add_person(t, lang, s.article, persons, rng),
        "yes_no": lambda t, lang, s: rng.choice(_YES_NO[lang]),
        "modality": lambda t, lang, s: state_as_fact(t, lang),
    }
    for kind in KINDS:
        if kind == "unrelated":
            continue
        made, used_groups = 0, Counter()
        if kind == "translation":
            for turn, s in enumerate(en_order[:per_kind]):
                records.append(_record(s, s.english, "en", kind, "de", len(records)))
            continue
        # German: any German sentence; at most two per article, so one long article does not dominate.
        for s in de_order:
            if made >= n_de or kind == "reorder" and made >= n_de // 2:
                break
            if used_groups[s.group] >= 2:
                continue
            claim = edits[kind](s.text, "de", s)
            if claim and claim != s.text or kind in ("verbatim", "yes_no") and claim:
                records.append(_record(s, claim, "de", kind, "de", len(records)))
                made, used_groups[s.group] = made + 1, used_groups[s.group] + 1
        # English: the parallel sentence of a German one (over its German or English paragraph), or for
        # verbatim an English sentence over its English paragraph; then, if too few, any English sentence
        # over its English paragraph.
        for turn, s in enumerate(en_order):
            if made >= per_kind:
                break
            src, base, plang = english(s, made if kind != "verbatim" else 1)
            claim = edits[kind](base, "en", src)
            if claim and (claim != base or kind in ("verbatim", "yes_no")):
                records.append(_record(src, claim, "en", kind, plang, len(records)))
                made += 1
        taken = {r["passage_id"] for r in records if r["kind"] == kind}
        for s in en_only:
            if made >= per_kind:
                break
            if s.passage_id in taken:
                continue
            claim = edits[kind](s.text, "en", s)
            if claim and claim != s.text:
                records.append(_record(s, claim, "en", kind, "en", len(records)))
                made += 1

    # Unrelated: the nearest sentence of another article, German and English.
    queries = [s for s in de_order if s.source == "10kgnad"][: n_de] + en_order[: per_kind - n_de]
    de_nn = nearest_neighbours(queries[:n_de], de_pool, embedder, "de")
    en_nn = nearest_neighbours(queries[n_de:], xq_en, embedder, "en")
    for s in queries[:n_de]:
        if s.passage_id in de_nn:
            records.append(_record(s, de_nn[s.passage_id], "de", "unrelated", "de", len(records)))
    for s in queries[n_de:]:
        if s.passage_id in en_nn:
            records.append(_record(s, en_nn[s.passage_id], "en", "unrelated", "de", len(records)))
    for i, r in enumerate(records):
        r["id"] = f"syn-{r['kind']}-{i:03d}"
    return records


def write(records: list[dict], path: Path) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m evals.synthetic", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DATA, help="folder with 10kGNAD/ and xquad/")
    ap.add_argument("--out", type=Path, default=SYNTHETIC_SET)
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--per-kind", type=int, default=30)
    args = ap.parse_args(argv)
    from assistant.settings import Settings
    from vectorstore.embedder import make_embedder

    e = Settings().embedding
    embedder = make_embedder(e.model, cache_dir=Path(Settings().paths.cache_dir), quantize=e.quantize,
                             batch_size=e.batch_size, threads=e.threads, second_weight=e.second_weight)
    records = build(args.data, getattr(embedder, "first", embedder), seed=args.seed, per_kind=args.per_kind)
    write(records, args.out)
    counts = Counter((r["kind"], r["claim_language"]) for r in records)
    print(f"{len(records)} pairs -> {args.out}")
    for kind in KINDS:
        print(f"  {kind:13s} de {counts[(kind, 'de')]:3d}  en {counts[(kind, 'en')]:3d}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
