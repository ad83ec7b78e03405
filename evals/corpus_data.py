"""Sentences of the verifier corpus's sources, their passages, and the XQuAD de/en alignment.

- XQuAD (via XQuAD-R, which gives sentence breaks for both languages): German and English
  paragraphs, split by topic title. A German and an English sentence of the same paragraph are
  parallel when USE (multilingual, trained for translation ranking) pairs them both ways with a
  margin, they have the same figures and a plausible length ratio.
- 10kGNAD (German news, split by row) and MLQA de (native German Wikipedia, no titles in this copy:
  each distinct paragraph is an article, numbered in file order like ``benchmarks/common.mlqa``).

Sentences of 10kGNAD and MLQA come from ``vectorstore.text.sentence_spans``. A passage is a window
of 1-2 neighbours each side, an exact substring of the source text.
"""

from __future__ import annotations

import csv
import json
import random
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from evals.splits import split_of
from evals.synthetic import person_lexicon, place_lexicon
from vectorstore.text import MONTHS, STOPWORDS, WEEKDAYS, fold, numbers, sentence_spans

if TYPE_CHECKING:
    from vectorstore.embedder import Embedder

#: a German/English pair is kept when USE's cosine is at least this and beats the runner-up (either way) by MARGIN
ALIGN_MIN, ALIGN_MARGIN = 0.55, 0.08
#: German sentences run longer than their English originals; outside this range one side is a part
LENGTH_RATIO = (0.9, 1.8)


@dataclass(frozen=True)
class Para:
    """One paragraph (XQuAD, MLQA) or article (10kGNAD): its text and sentence offsets."""

    source: str  # "xquad", "10kgnad", "mlqa"
    article: str  # the split key's article part: XQuAD topic title, 10kGNAD row, MLQA paragraph number
    pid: str  # passage id prefix: xquad-<article index>-<paragraph>, 10kgnad-<row>, mlqa-<n>
    title: str
    language: str
    text: str
    spans: tuple[tuple[int, int], ...]
    article_text: str  # the whole article (XQuAD: all paragraphs of the topic in this language)

    @cached_property
    def split(self) -> str:
        return split_of(self.source, int(self.article) if self.source == "10kgnad" else self.article)


@dataclass(frozen=True)
class Sent:
    para: Para
    i: int

    @property
    def text(self) -> str:
        a, b = self.para.spans[self.i]
        return self.para.text[a:b]

    @property
    def passage_id(self) -> str:
        return f"{self.para.pid}-s{self.i}"

    @property
    def group(self) -> tuple[str, str]:
        return (self.para.source, self.para.article)


def window(s: Sent, before: int, after: int, skip_self: bool = False) -> str:
    """Sentences ``i-before`` .. ``i+after`` of the paragraph as one exact substring; with
    ``skip_self`` only the side(s) that do not hold sentence ``i`` (``before`` or ``after`` is 0)."""
    spans, n = s.para.spans, len(s.para.spans)
    lo, hi = max(0, s.i - before), min(n - 1, s.i + after)
    if skip_self:
        lo, hi = (lo, s.i - 1) if after == 0 else (s.i + 1, hi)
        if lo > hi:
            return ""
    return s.para.text[spans[lo][0] : spans[hi][1]]


_DATELINE = re.compile(r"^[A-ZÄÖÜ][\w./ -]{1,40} – (?=[A-ZÄÖÜ])")


def claim_text(s: Sent) -> str:
    """The sentence as a claim: a news dateline ("Wien – ") dropped."""
    return _DATELINE.sub("", s.text)


def usable(text: str) -> bool:
    n = len(text.split())
    return 6 <= n <= 45 and text[-1:] in ".!?" and "\n" not in text and text.count('"') % 2 == 0


def _spans(text: str) -> tuple[tuple[int, int], ...]:
    return tuple((a, b) for a, b, _ in sentence_spans(text))


def _break_spans(text: str, breaks: list[list[int]]) -> tuple[tuple[int, int], ...]:
    out = []
    for a, b in breaks:
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        if a < b:
            out.append((a, b))
    return tuple(out)


def load_xquad(folder: Path) -> tuple[list[Para], list[Para]]:
    """German and English paragraphs of XQuAD-R (same order: paragraph k of one is paragraph k of the other)."""
    out: dict[str, list[Para]] = {}
    for lang in ("de", "en"):
        data = json.loads((folder / f"{lang}.json").read_text(encoding="utf-8"))["data"]
        paras = []
        for a, art in enumerate(data):
            whole = "\n".join(p["context"] for p in art["paragraphs"])
            for p, par in enumerate(art["paragraphs"]):
                paras.append(Para("xquad", art["title"], f"xquad-{a}-{p}", art["title"].replace("_", " "), lang,
                                  par["context"], _break_spans(par["context"], par["sentence_breaks"]), whole))
        out[lang] = paras
    return out["de"], out["en"]


def load_gnad(path: Path) -> list[Para]:
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f, delimiter=";", quotechar="'"))
    return [Para("10kgnad", str(row), f"10kgnad-{row:04d}", f"DER STANDARD ({label})", "de", text, _spans(text), text)
            for row, (label, text) in enumerate(rows)]


def load_mlqa(path: Path) -> list[Para]:
    seen: dict[str, int] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        seen.setdefault(json.loads(line)["context"], len(seen))
    return [Para("mlqa", f"{n:03d}", f"mlqa-{n:03d}", "Wikipedia (MLQA)", "de", ctx, _spans(ctx), ctx) for ctx, n in seen.items()]


def sentences(paras: list[Para], first: int = 0) -> list[Sent]:
    """The usable sentences of the paragraphs (10kGNAD: from ``first`` on, its sentence 0 is the lead)."""
    return [Sent(p, i) for p in paras for i in range(first, len(p.spans)) if usable(claim_text(Sent(p, i)))]


# --------------------------------------------------------------------------------------------------
# Parallel sentences.


#: large-number words that must agree across a parallel pair ("37,6 Billion $" is not "$37.6 billion")
_SCALES = ((r"\bMillion(?:en)?\b|\bMio\b", r"\bmillions?\b|\bmln\b"), (r"\bMilliarden?\b|\bMrd\b", r"\bbillions?\b|\bbn\b"),
           (r"\bBillion(?:en)?\b", r"\btrillions?\b"))


def _parallel_ok(de: str, en: str) -> bool:
    ratio = len(de) / max(1, len(en))
    if any(len(re.findall(d, de)) != len(re.findall(e, en, re.IGNORECASE)) for d, e in _SCALES):
        return False
    return sorted(numbers(de)) == sorted(numbers(en)) and LENGTH_RATIO[0] <= ratio <= LENGTH_RATIO[1]


def align(de_paras: list[Para], en_paras: list[Para], embedder: "Embedder") -> dict[str, tuple[Sent, Sent]]:
    """Confident 1:1 German/English sentence pairs of each paragraph, keyed by the German passage id."""
    import numpy as np

    de_s = [Sent(p, i) for p in de_paras for i in range(len(p.spans))]
    en_s = [Sent(p, i) for p in en_paras for i in range(len(p.spans))]
    vd = embedder.embed([s.text for s in de_s], "query")
    ve = embedder.embed([s.text for s in en_s], "query")
    by_de, by_en = defaultdict(list), defaultdict(list)
    for k, s in enumerate(de_s):
        by_de[s.para.pid].append(k)
    for k, s in enumerate(en_s):
        by_en[s.para.pid].append(k)
    out = {}
    for pid, dk in by_de.items():
        ek = by_en.get(pid, [])
        if not ek:
            continue
        sims = vd[dk] @ ve[ek].T
        pad = np.full((sims.shape[0] + 1, sims.shape[1] + 1), -1.0)
        pad[:-1, :-1] = sims
        for i in range(sims.shape[0]):
            j = int(np.argmax(sims[i]))
            row, col = np.sort(pad[i])[::-1], np.sort(pad[:, j])[::-1]
            if int(np.argmax(sims[:, j])) != i or sims[i, j] < ALIGN_MIN:
                continue
            if row[0] - row[1] < ALIGN_MARGIN or col[0] - col[1] < ALIGN_MARGIN:
                continue
            d, e = de_s[dk[i]], en_s[ek[j]]
            if _parallel_ok(d.text, e.text) and usable(d.text) and usable(e.text):
                out[d.passage_id] = (d, e)
    return out


# --------------------------------------------------------------------------------------------------
# Lexicons of one split: people and places to swap in, cause phrases to add.


@dataclass
class Lexicon:
    persons: list[str]
    places: dict[str, list[str]]
    #: capitalised words never used as common nouns in this half (language -> words): names of
    #: people, places, organisations ("Merkel", "Broncos" in English, "Tesla")
    proper: dict[str, frozenset[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        names_ = [*self.persons, *self.places.get("de", []), *self.places.get("en", [])]
        self.folded = {n: fold(n) for n in names_}

    def is_name(self, word: str, language: str) -> bool:
        return word in self.proper.get(language, ()) or word in self.persons or bool(re.fullmatch(r"[A-ZÄÖÜ]{2,}", word))

    def mentions(self, text: str, language: str) -> dict[str, list[str]]:
        folded = fold(text)
        return {
            "person": [p for p in self.persons if self.folded[p] in folded],
            "place": [p for p in self.places[language] if self.folded[p] in folded],
        }


#: continents and world regions: they contain the countries and cities a place swap would put in
REGIONS = {"Europa", "Europe", "Asien", "Asia", "Afrika", "Africa", "Amerika", "America", "Nordamerika", "Südamerika",
           "Lateinamerika", "Osteuropa", "Westeuropa", "Mitteleuropa", "Nahost", "Antarktis", "Antarctica", "Arktis",
           "Arctic", "Ozeanien", "Oceania", "Skandinavien", "Scandinavia", "Balkan", "Eurasien", "Eurasia", "Orient"}
_DETERMINER = {"de": r"der|die|das|den|dem|des|ein|eine|einen|einem|einer|eines|kein|keine|jede|jeder|jedes|diese|dieser|dieses",
               "en": r"a|an|this|these|that|every|each"}
_MONTHS_DAYS = {m.capitalize() for m in MONTHS} | {d.capitalize() for d in [*WEEKDAYS, *WEEKDAYS.values()]}


def _common_nouns(texts: list[str], language: str) -> set[str]:
    """Capitalised words used as common nouns: after a determiner ("die Regierung", "a Street"), or
    written in lower case somewhere ("street")."""
    det = re.compile(rf"\b(?:{_DETERMINER[language]}) (?:[a-zäöüß]+ )?([A-ZÄÖÜ][^\W\d_]+)")
    out = {m.group(1) for t in texts for m in det.finditer(t)}
    lower = {w for t in texts for w in re.findall(r"\b[a-zäöüß][^\W\d_]+", t)}
    return out | {w.capitalize() for w in lower} | _MONTHS_DAYS


def _proper(texts: list[str], nouns: set[str]) -> frozenset[str]:
    """Capitalised words seen at least twice, never as a common noun, and not only at the start of a sentence."""
    seen: Counter[str] = Counter()
    inside: set[str] = set()
    for t in texts:
        for m in re.finditer(r"(?<![\w-])([A-ZÄÖÜ][^\W\d_]{2,})(?![\w-])", t):
            seen[m.group(1)] += 1
            if not re.search(r"(?:^|[.!?:]\s*|[„\"(]\s*)$", t[max(0, m.start() - 3) : m.start()]):
                inside.add(m.group(1))
    return frozenset(w for w, n in seen.items() if n >= 2 and w in inside and w not in nouns and w.lower() not in STOPWORDS)


def _people(texts: list[str], known: set[str]) -> list[str]:
    """Full names written after a title ("Präsident …", "King …"), then "<first name> <Name>" for
    the first names those use; with the surnames of all of them."""
    full = {n for n in person_lexicon(texts) if " " in n and not any(w in known or len(w) < 3 for w in n.split())}
    first = {n.split()[0] for n in full}
    pattern = re.compile(r"\b(" + "|".join(sorted(map(re.escape, first))) + r") ([A-ZÄÖÜ][a-zäöüßéèáóúíçñ]{2,})\b(?![\w-])")
    full |= {m.group(0) for t in texts for m in pattern.finditer(t) if m.group(2) not in known} if first else set()
    surnames = {n.split()[-1] for n in full}
    return sorted(full | {s for s in surnames if len(s) >= 4 and s.lower() not in STOPWORDS and s not in first})


def build_lexicon(paras: list[Para]) -> Lexicon:
    """People, places and other names of these paragraphs. People: ``_people``; places: words after
    place prepositions (``synthetic.place_lexicon``), English ones also after "in"; other names:
    English capitalised words never used as common nouns (German capitalises every noun, so there
    only those of them that German text uses too)."""
    de_texts = sorted({p.article_text for p in paras if p.language == "de"})
    en_texts = sorted({p.article_text for p in paras if p.language == "en"})
    nouns = _common_nouns(de_texts, "de") | _common_nouns(en_texts, "en")
    places = {"de": place_lexicon(de_texts, "de"), "en": place_lexicon(en_texts, "en")}
    en_all = " ".join(en_texts)
    places["en"] = sorted(p for p in set(places["en"]) | set(places["de"]) if re.search(rf"\bin (?:the )?{p}\b", en_all))
    en_proper = _proper(en_texts, _common_nouns(en_texts, "en"))
    places["en"] = sorted(set(places["en"]) | {w for w in en_proper if re.search(rf"\bin {w}\b(?!['’])", en_all)
                                               and not w.isupper() and not re.fullmatch(r".+(?:ish|ese|ian|ean|ic|an|ine)s?", w)})
    places["en"] = [w for w in places["en"] if len(re.findall(rf"\b{w}['’]s\b", en_all)) <= len(re.findall(rf"\bin {w}\b", en_all))
                    and len(re.findall(rf"\b{w} [a-z]{{4,}}", en_all)) <= len(re.findall(rf"\b{w}\b(?! [a-z]{{4,}})", en_all))]
    places = {lang: [p for p in ps if p not in REGIONS] for lang, ps in places.items()}
    persons = _people(de_texts + en_texts, set(places["de"]) | set(places["en"]) | nouns)
    places = {lang: [p for p in ps if p not in persons] for lang, ps in places.items()}
    de_words = {w for t in de_texts for w in re.findall(r"(?<![\w-])[A-ZÄÖÜ][^\W\d_]{2,}(?![\w-])", t)}
    proper = {"en": en_proper, "de": frozenset(w for w in en_proper & de_words if w not in nouns)}
    return Lexicon(persons, places, proper)


def shuffled(items: list, rng: random.Random) -> list:
    return rng.sample(items, len(items))
