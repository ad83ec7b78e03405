"""The verifier: does a passage state a claim? Each claim gets a verdict, ``supported``,
``contradicted`` or ``not_found``, with the evidence sentences that decided it.

No entailment model ships in any package this product may use, so the verdict is built from parts
that were each measured on the checker set (``evals/sets/checker.jsonl``):

1. **Alignment.** The claim is compared with every sentence of the passages by the store's embedder
   (e5, across languages), and with each passage's headline, which the model is shown too; the best
   sentence and its close neighbours are the evidence.
2. **Content.** A claim without content ("Yes, he did.", "Ja.") states nothing to check: not found.
3. **Exact checks** against the evidence (and the passage header's date): every date, number and
   name of the claim must be there. A figure or date that the evidence gives differently is a
   contradiction; a person or place the passage does not have is not found. With the question: a
   passage without any of the question's proper names is about something else (a name in the other
   language counts when USE reads it as a translation).
4. **Polarity.** Negations and negative predicates (nicht, kein, nie, ohne, "schloss … aus",
   not, never, without, "ruled out", refused …) are counted in claim and evidence; a different
   parity means the claim says the opposite: contradicted. So does a sentence nearly as similar as the
   best one that disagrees in polarity and in nothing else. A person given another nationality than
   the evidence gives ("German politicians Keir Starmer") is contradicted too.
   **Direction**: a quantity the evidence says goes the other way ("a higher consumption demand"
   against "eine geringere Konsumnachfrage", the phrases matched by USE): contradicted.
   **Modality**: evidence that only says a thing may be so ("könnte", "vielleicht", "schloss … nicht
   aus", could, might, "did not rule out") does not support the claim that it is so: not found.
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
    STOPWORDS_DE,
    STOPWORDS_EN,
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
    whole: str = ""  # the whole article the model saw ``text`` of: what the passage is about


@dataclass(frozen=True)
class Evidence:
    """A sentence of a source: ``sources[source - 1].text[start:end] == text``, or of its title
    (``in_title``: ``sources[source - 1].title[start:end] == text``)."""

    source: int  # 1-based, the [n] of the passage
    start: int
    end: int
    text: str
    similarity: float
    in_title: bool = False


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
    # "nicht nur … sondern auch", "not only … but": an addition, not a negation
    r"\b(?:nicht(?!\s+(?:nur|bloß|allein)\b)|nichts|nie|niemals|nirgends|weder|ohne|kein\w*"
    r"|not(?!\s+(?:only|just|merely)\b)|never|neither|nor|without|nothing|none|no\s+(?=\w))\b"
    r"|n't\b"
    r"|\b(?:ausgeschlossen|auszuschlie(?:ß|ss)en|ausschlie(?:ß|ss)\w*|abgelehnt|abzulehnen|verweigert\w*|bestritten|dementiert)\b"
    r"|\b(?:rul(?:e|es|ed|ing)\s+out|refus\w+|reject\w*|den(?:y|ies|ied)|declin(?:e|es|ed))\b"
    r"|\b(?:scheitert\w*|gescheitert|fail(?:s|ed)?)\b",
    re.IGNORECASE,
)
# German separable verbs: "schloss … aus", "lehnte … ab" (the particle ends the clause).
_SEPARABLE = re.compile(
    r"\b(?:schlie(?:ß|ss)t|schloss|schlossen|schließen|schliessen)\b[^.;:!?]*?\baus\b"
    r"|\b(?:lehnt|lehnte|lehnten|lehnen)\b[^.;:!?]*?\bab\b",
    re.IGNORECASE,
)


# A comparison, not a denial: "so deutlich gedrosselt wie seit fast sieben Jahren nicht mehr", "wie
# nie zuvor", "as never before".
_COMPARISON = re.compile(
    r"\bwie\s+(?:seit\b[^.;:!?]{0,80}?|lange\s+)nicht\s+mehr\b|\bwie\s+(?:noch\s+)?nie(?:\s+zuvor)?\b"
    r"|\b(?:like|as)\s+never\s+before\b",
    re.IGNORECASE,
)


def negations(text: str) -> int:
    """How many negations and negative predicates the text has."""
    text = _COMPARISON.sub(" ", text)
    return len(_NEGATION.findall(text)) + len(_SEPARABLE.findall(text))


_WITHOUT = re.compile(r"\b(?:ohne|without)\b([^,;:.!?]*)", re.IGNORECASE)


def negations_against(text: str, other: str) -> int:
    """The negations of ``text`` that bear on ``other``: an "ohne …"/"without …" clause negates only
    itself, so it is not counted when ``other`` has no such clause and shares none of its words ("…
    stellten größere Autos wie den Toyota Corona vor, … ohne den Fahrzeugpreis anzuheben" does not
    deny "Toyota Corona Mark II")."""
    n = negations(text)
    if _WITHOUT.search(other):
        return n
    stems = {fold(w)[:6] for w in _content(other)}
    return n - sum(1 for m in _WITHOUT.finditer(text) if not {fold(w)[:6] for w in _content(m.group(1))} & stems)


# Possibility: a thing that may be so, or that somebody did not rule out. "möglich"/"possible" as an
# attribute ("einer möglichen Sicherheitsgarantie") says nothing of the claim itself and is not counted;
# "kann"/"can" are ability, not possibility ("Die Stadt kann auf … zurückblicken"); a negated modal is
# an impossibility ("Dem EU-Recht könnten keine … Rechtsnormen vorgehen"), and "könne" is reported speech.
_POSSIBILITY = re.compile(
    r"\b(?:möglicherweise|vielleicht|eventuell|womöglich|denkbar|Möglichkeit\w*"
    r"|possibly|perhaps|maybe|possibility|potentially|conceivabl\w+)\b"
    r"|\b(?:für|ist|sei|wäre|is|was|be|were|seems?)\s+(?:\w+\s+)?(?:möglich|possible)\b"
    r"|\b(?:nicht|never|not|n't)\s+(?:\w+\s+){0,2}(?:ausgeschlossen|auszuschlie(?:ß|ss)en|rul\w+\s+out)\b"
    r"|\b(?:schlie(?:ß|ss)t|schloss|schlossen)\b[^.;:!?]*?\bnicht\s+aus\b"
    r"|n't\s+rul\w+\s+out\b|\bleft\s+open\b|\bopen\s+to\b|\blie(?:ß|ss)\w*\b[^.;:!?]*?\boffen\b",
    re.IGNORECASE,
)
_MODAL = re.compile(r"\b(?:könnte|könnten|could|might)\b|\bmay\b(?! \d)", re.IGNORECASE)
_MODAL_NEGATED = re.compile(r"\s+(?:[\w„“\"]+\s+){0,3}?[„“\"]?(?:nicht|nie|kein\w*|not|never|no)\b", re.IGNORECASE)


def possibility(text: str, following: str = "") -> bool:
    """Whether the text says only that something may be so, or was not ruled out. ``following`` is
    what comes after it in its sentence: a clause can end before the negation of its modal ("Dem
    EU-Recht könnten somit | „keine … Rechtsnormen vorgehen")."""
    if _POSSIBILITY.search(text):
        return True
    whole = text + following
    for m in _MODAL.finditer(text):
        if m.group().lower() == "may" and m.group() != "may":
            continue  # "May" is the month
        if not _MODAL_NEGATED.match(whole, m.end()):
            return True
    return False


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
_WITH_WORDS = {"mit", "with", "samt", "alongside"}


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
            # an acronym is as distinctive as a long word ("MLS-Team" against "MLS-Club")
            acronyms = {fold(p) for p in re.split(r"[-’']", name) if len(p) >= 2 and p.isalpha() and p.isupper()}
            return any(ok and (len(p) >= 4 or p in acronyms) for ok, p in zip(found, parts)) or all(found)
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
    # the first item of a list that opens the claim ("Aungan, Champa, and Java interfered with …"):
    # a sentence's first word is no name by itself, but one listed with names is
    opener = names(f"x {tokens[0]}") if len(tokens) > 2 and tokens[1] == "," and is_name[2] else []
    if opener:
        found, is_name[0] = [*opener, *found], True
    required: set[int] = set()
    for i, t in enumerate(tokens):
        if is_name[i] and i and tokens[i - 1].lower() in _PLACE_WORDS:
            required.add(i)
        # a companion: "gemeinsam mit X", "together with X", "as well as X"
        if is_name[i] and i and (tokens[i - 1].lower() in _WITH_WORDS or tokens[i - 2 : i] == ["well", "as"]):
            required.add(i)
    # Lists of names ("Trump, Macron und Scholz", "Toghrul Khan and the shaman Kokochu"): runs of names,
    # of one or more words, joined by commas and a conjunction, which may have up to two lower-case
    # words after it.
    i = 0
    while i < len(tokens):
        if not is_name[i]:
            i += 1
            continue
        run, j, conj = [i], i + 1, False
        while True:
            while j < len(tokens) and is_name[j]:  # the rest of a name of several words
                run.append(j)
                j += 1
            if j + 1 >= len(tokens) or tokens[j].lower() not in _LIST_WORDS:
                break
            k = j + 1
            while k < len(tokens) and k - j <= 2 and not is_name[k] and tokens[k][:1].islower() and tokens[k] != ",":
                k += 1
            if k >= len(tokens) or not is_name[k]:
                break
            # a conjunction after the comma counts too ("Champa, and Java")
            conj = conj or tokens[j] != "," or any(t.lower() in _LIST_WORDS for t in tokens[j + 1 : k])
            run.append(k)
            j = k + 1
        if conj:
            required.update(run)
        i = j
    if opener and 0 not in required:  # "Overall, Trump met Putin": no list, no name
        found = found[len(opener):]
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


def headline_statement(title: str) -> bool:
    """Whether a passage's title can be evidence: a headline of five words or more, as written (a
    title cut short with "…" may have lost its negation or its verb)."""
    title = title.strip()
    return len(WORD.findall(title)) >= 5 and not title.endswith(("…", "..."))


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


# --------------------------------------------------------------------------------------------------
# Years in their relation: "in 1279" is not "nach 1279", "since 2014" is not "before 2014".

_YEAR_RELATIONS = {
    **dict.fromkeys(("in", "im", "an", "am", "on", "at", "during", "während", "of"), "in"),
    **dict.fromkeys(("nach", "after"), "after"),
    **dict.fromkeys(("vor", "before", "prior"), "before"),
    **dict.fromkeys(("seit", "since", "ab", "from"), "since"),  # the start: "listed in 1954" is "seit 1954 gelistet"
}
#: (claim's relation, evidence's relation) pairs that do not disagree; "after 1954" for "im Jahr 1954"
#: is a weaker claim.
_YEAR_AGREE = {("after", "in"), ("before", "in"), ("in", "since"), ("since", "in"), ("after", "since"), ("since", "after")}
_YEAR = re.compile(r"(?<![\d.,])(1[0-9]{3}|20[0-9]{2})(?![\d.,]\d)")


def _year_relations(text: str) -> dict[str, set[str]]:
    """Year -> the relations the text puts it in, from the word before it ("im Jahr 1954" -> in)."""
    out: dict[str, set[str]] = {}
    for m in _YEAR.finditer(text):
        before = re.findall(r"[^\W\d_]+", text[max(0, m.start() - 40) : m.start()].lower())[-3:]
        while before and before[-1] in {"jahr", "jahre", "year", "the", "dem", "den", "end", "ende", "anfang", "mitte"}:
            before.pop()
        relation = _YEAR_RELATIONS.get(before[-1]) if before else None
        if relation:
            out.setdefault(m.group(1), set()).add(relation)
    return out


def year_relation_mismatch(claim: str, evidence: str) -> str | None:
    """Why the claim puts a year in another relation than the evidence does (every time the evidence
    names that year), else None. "After 1954" for "nach dem Rechtsstreit im Jahr 1954" is a weaker
    claim and passes (``_YEAR_AGREE``); "in 1279" for "nach 1279" is a stronger one, and "before" for
    "after" the opposite."""
    ev = _year_relations(evidence)
    for year, relations in _year_relations(claim).items():
        if year not in ev or relations & ev[year] or any((c, e) in _YEAR_AGREE for c in relations for e in ev[year]):
            continue
        return f"the evidence says {'/'.join(sorted(ev[year]))} {year}, the claim {'/'.join(sorted(relations))} {year}"
    return None


# --------------------------------------------------------------------------------------------------
# A time that dates another event: in "Trump stellte das trilaterale Treffen als nächsten Schritt dar,
# nachdem er sich am Freitag mit Putin getroffen hatte", Friday is when Trump met Putin, not when the
# trilateral meeting takes place.

# only the conjunctions that are always about time: "während", "als", "since", "while" also contrast,
# compare or give a reason ("…, während Norman Cantor (2001) dachte, …")
_SUBORDINATOR = re.compile(r"^\W*(?:nachdem|bevor|ehe|sobald|seitdem|after|before)\b", re.IGNORECASE)
_CLAUSE_BREAK = re.compile(r"[,;:–—]\s*|\s+(?=(?:nachdem|bevor|after|before)\b)", re.IGNORECASE)


def _times(text: str) -> list[tuple[str, int]]:
    """(what, where) of each weekday and year in the text, the weekday in English."""
    found = [(_WEEKDAY_EN.get(m.group().lower(), m.group().lower()), m.start()) for m in _WEEKDAY.finditer(text)]
    return found + [(m.group(1), m.start()) for m in _YEAR.finditer(text)]


def _clause_at(text: str, at: int) -> tuple[int, int]:
    """The span of the clause (between commas, or from a subordinating conjunction) around ``at``."""
    start, end = 0, len(text)
    for m in _CLAUSE_BREAK.finditer(text):
        if m.end() <= at:
            start = m.end()
        elif m.start() > at:
            end = m.start()
            break
    return start, end


def _stem_set(text: str) -> set[str]:
    return {fold(w)[:5] for w in content_words(text, 3)} - {fold(d)[:5] for d in _WEEKDAY.findall(text)}


def time_of_another_event(claim: str, evidence: str) -> str | None:
    """Why the claim's weekday or year, which the evidence gives only in a subordinate clause about
    another event ("…, nachdem er sich am Freitag mit Putin getroffen hatte"), is not the claim's
    event, else None. It is when the claim shares more with the evidence's main clause than with that
    subordinate clause and does not subordinate the time itself ("after meeting Putin on Friday")."""
    claim_times = {what: at for what, at in _times(claim)}
    for what, at in _times(evidence):
        if what not in claim_times:
            continue
        start, end = _clause_at(evidence, at)
        if not _SUBORDINATOR.match(evidence[start:end]):
            return None  # the evidence also gives it in a main clause
        c_start, c_end = _clause_at(claim, claim_times[what])
        if _SUBORDINATOR.match(claim[c_start:c_end]):
            return None
        words = _stem_set(claim)
        in_clause = len(words & _stem_set(evidence[start:end]))
        in_main = len(words & _stem_set(evidence[:start] + " " + evidence[end:]))
        if in_main > in_clause:
            return f"the evidence gives {what} for another event: {evidence[start:end].strip()[:80]!r}"
        return None
    return None


# --------------------------------------------------------------------------------------------------
# Roles: who did what to whom. Two names around a verb in the claim must stand in the same order in
# the evidence, unless one of them says it in the passive ("wurde von X geschlagen", "was beaten by X"),
# the verb is symmetric ("traf", "met") or a converse ("verlor gegen", "lost to").

_TOKEN = re.compile(r"[^\W\d_][\w\-’']*|\d+(?:[.,]\d+)*|[,;:–—()%€$]", re.UNICODE)
_LINK = {"und", "and", "oder", "or", "sowie", "mit", "with", "zwischen", "between", "gegen", "against", "vs",
         "sich", "einander", "together", "gemeinsam", "zusammen", "both", "beide", "each", ",", ";", ":", "–", "—", "("}
_SYMMETRIC = re.compile(
    r"\b(?:trafen|traf|treffen|trifft|getroffen|met|meet|meets|meeting|sprach(?:en)?|spoke|talked|telefonierte\w*"
    r"|verhandelt\w*|negotiated|heiratete\w*|married|spielte\w*|played|tied|unentschieden|drew|zusammen\w*)\b",
    re.IGNORECASE,
)
_CONVERSE = re.compile(
    r"\b(?:verlor\w*|unterlag\w*|lost|loses|lose|fell|succumbed|erhielt|bekam|received|got|beaten|geschlagen)\b",
    re.IGNORECASE,
)
_PASSIVE_AUX = re.compile(r"\b(?:wurde|wurden|worden|wird|werden|was|were|is|are|been|being)\b", re.IGNORECASE)
_AGENT = {"von", "vom", "by", "durch"}
_PARTICIPLE = re.compile(r"\b(?:ge[a-zäöüß]+(?:t|en)|(?:be|ver|er|zer|ent|über)[a-zäöüß]+(?:t|en)|[a-zäöüß]+iert|[a-z]+ed|beaten|taken|given|chosen|driven|won|held|led|made|seen|sent|beat)\b")
#: Words for an office, which stand for the person ("Präsident … besuchte Obama"): not a second actor.
_TITLES = re.compile(
    r"^(?:präsident\w*|president|kanzler\w*|chancellor|minister\w*|premier\w*|chef\w*|könig\w*|king|queen|papst|pope"
    r"|trainer\w*|coach|kaiser\w*|emperor|bürgermeister\w*|mayor|sprecher\w*|spokes\w*|amtskolleg\w*|counterpart)$",
    re.IGNORECASE,
)
_RELATIVE_WORDS = {"that", "which", "who", "whom", "whose", "der", "die", "das", "den", "dem", "welche", "welcher"}
# A relative clause (", den Putin empfing", ", who"): not ", der Ministerpräsident", where "der" is an article.
_RELATIVE = re.compile(r",\s*(?:(?:den|dem|der|die|das)\s+(?=[a-zäöüß])|(?:denen|deren|dessen|welche\w*|who|whom|whose|which)\b)")


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


def _name_runs(tokens: list[str], text: str) -> list[tuple[int, int]]:
    """Runs of consecutive name tokens (``names`` of the text, its first word included: "Abbas rief …")
    as [start, end) token indices."""
    found = set(names("Und " + text))
    is_name = [any(t == n or t.startswith(n) for n in found) for t in tokens]
    runs: list[tuple[int, int]] = []
    for i, flag in enumerate(is_name):
        if not flag:
            continue
        if runs and runs[-1][1] == i:
            runs[-1] = (runs[-1][0], i + 1)
        else:
            runs.append((i, i + 1))
    return runs


_ARTICLE = {"der", "die", "das", "den", "dem", "des", "ein", "eine", "einen", "einem", "einer", "eines", "sein", "seine",
            "seinen", "seinem", "seiner", "ihr", "ihre", "ihren", "ihrem", "ihrer", "diese", "dieser", "diesen", "the", "a", "an"}
_NOUN_ENDING = re.compile(r"(?:ung|heit|keit|schaft|tion|sion|tät|nis|ismus|ment|chen|ium)$")


def _actor(tokens: list[str], run: tuple[int, int], evidence: str) -> bool:
    """Whether a run of capitalised words can be someone who acts: not a place ("in Rio", a name the
    evidence puts after a place preposition) and, in German, where every noun is capitalised, a name of
    several words or one with no article before it and no common-noun ending ("Abbas", not "die Börse")."""
    a0, a1 = run
    before = tokens[a0 - 1].lower() if a0 else ""
    head = tokens[a1 - 1]
    if before in _PLACE_GROUPS or head.lower() in MONTHS or weekdays(head) or _TITLES.match(head):
        return False
    if before in {"of", "des"} or re.search(r"['’]s?$", head):
        return False  # an owner ("of Topeka", "Kublai's reign") does not act
    if before in {"laut", "gemäß"} or (before == "to" and a0 >= 2 and tokens[a0 - 2].lower() == "according"):
        return False  # a source ("Kiew sei laut Selenskyj bereit", "according to Reuters") reports, it does not act
    if any(_Words(w).has(head) for _, _, w in bound_places(evidence)):
        return False
    if _language_of(" ".join(tokens)) == "de":
        if _NOUN_ENDING.search(head):
            return False
        if a1 - 2 >= 0 and tokens[a1 - 2][:1].isupper() and head.endswith("s"):
            return False  # a genitive after its noun ("die Regierungspartei Erdoğans") owns, it does not act
    return a1 - a0 >= 2 or before not in _ARTICLE


def _find_all(name: str, tokens: list[str]) -> list[int]:
    """The token positions where ``name`` (tolerantly spelled) stands."""
    # of similar length: "Kenya" is not "Kenyatta"
    return [i for i, t in enumerate(tokens) if t[:1].isalpha() and abs(len(t) - len(name)) <= 2 and _Words(t).has(name)]


def _order(tokens: list[str], a: int, b: int) -> tuple[bool, bool]:
    """(passive, symmetric or converse) for the stretch between token positions a < b: "wurde … von Y"
    makes the first name the one acted on."""
    between = " ".join(tokens[a + 1 : b])
    # the agent's preposition right before the second name (only name words between: "von Adidas-Chef Hainer")
    k = b - 1
    while k > a and tokens[k][:1].isupper():
        k -= 1
    agent = tokens[k].lower() in _AGENT or (k - 1 > a and tokens[k].lower() in _ARTICLE and tokens[k - 1].lower() in _AGENT)
    around = " ".join(tokens[max(0, a - 2) : b + 6])  # "wurde Thiem von Andujar besiegt"
    passive = agent and bool(_PASSIVE_AUX.search(around)) and bool(_PARTICIPLE.search(around))
    return passive, bool(_SYMMETRIC.search(between) or _RELATIVE.search(between))


def role_swap(claim: str, evidence: str) -> str | None:
    """Why the evidence has the claim's two names the other way round ("Abbas rief Netanyahu an" against
    "Netanyahu habe Abbas angerufen"), else None. Only a claim of the form NAME verb … NAME counts."""
    ct = _tokens(claim)
    et = _tokens(evidence)
    runs = _name_runs(ct, claim)
    for (a0, a1), (b0, b1) in zip(runs, runs[1:]):
        if not (_actor(ct, (a0, a1), evidence) and _actor(ct, (b0, b1), evidence)):
            continue
        between = ct[a1:b0]
        if not between or len(between) > 6 or not between[0][:1].islower():
            continue  # the verb must follow the first name: "X besiegte Y", "X tasked Y"
        if any(t.lower() in _LINK for t in between) or between[0].lower() in _RELATIVE_WORDS:
            continue
        if not any(t.isalpha() and t.islower() and t not in STOPWORDS for t in between):
            continue  # no verb between them
        a, b = ct[a1 - 1], ct[b1 - 1]  # the head of each name: "Pittsburgh Steelers" -> "Steelers"
        if fold(a) == fold(b):
            continue
        c_passive, c_sym = _order(ct, a1 - 1, b1 - 1)
        if c_sym or _SYMMETRIC.search(" ".join(between)):
            continue
        # Of a word the evidence uses twice ("die Region Greater Los Angeles, während … die Southern Border
        # Region bilden"), the claim may restate either occurrence: a swap needs both the first occurrences
        # and the nearest ones the other way round ("Trump will mit Putin sprechen. Trump sagte …" is
        # no swap for its nearest pair "Putin sprechen. Trump").
        found_a, found_b = _find_all(a, et), _find_all(b, et)
        if not found_a or not found_b:
            continue
        pairs = [(abs(ea - eb), _swapped(et, ea, eb, between, c_passive)) for ea in found_a for eb in found_b]
        pairs = [(d, v) for d, v in pairs if v is not None]
        nearest = [v for d, v in pairs if d == min(d for d, _ in pairs)] if pairs else []
        first = _swapped(et, found_a[0], found_b[0], between, c_passive)
        if nearest and all(nearest) and first is not False:
            return f"the evidence has {a} and {b} the other way round (who did what to whom)"
    return None


def _swapped(et: list[str], ea: int, eb: int, between: list[str], c_passive: bool) -> bool | None:
    """Whether the evidence, with the claim's two names at token positions ``ea`` and ``eb``, has them
    the other way round; None when this pairing says nothing (the same word, too far apart, a symmetric verb)."""
    if ea == eb:
        return None
    first, second = sorted((ea, eb))
    e_passive, e_sym = _order(et, first, second)
    if e_sym or second - first > 45:
        return None
    converse = bool(_CONVERSE.search(" ".join(between))) != bool(_CONVERSE.search(" ".join(et[first + 1 : second])))
    claim_agent_first = not c_passive
    evidence_agent_first = (ea < eb) != e_passive
    return (claim_agent_first == evidence_agent_first) == converse


def _passive(text: str) -> bool:
    """A passive with its agent ("wurde von X besiegt", "was beaten by X")."""
    return bool(_PASSIVE_AUX.search(text) and _PARTICIPLE.search(text) and _AGENT & set(text.lower().split()))


def _stems(tokens: list[str]) -> list[str]:
    return [fold(t)[:6] for t in tokens if t[:1].isalnum()]


def name_swap(claim: str, evidence: str, *, margin: float = 0.2) -> str | None:
    """Why a claim that copies an evidence sentence reads better with two of its names exchanged
    ("Die Pittsburgh Steelers besiegten die Broncos" against "Die Broncos besiegten die Pittsburgh
    Steelers"), else None. Works on word order alone, so only within one language; a passive on
    either side ("wurde von … besiegt") legitimately exchanges them and is left alone."""
    ct = _tokens(claim)
    runs = [r for r in _name_runs(ct, claim) if not _TITLES.match(ct[r[1] - 1])]
    if len(runs) < 2 or _language_of(claim) != _language_of(evidence) or _SYMMETRIC.search(claim):
        return None
    def copied(tokens: list[str], et: list[str]) -> float:
        """The share of the claim's words found in the sentence in the same order."""
        stems = _stems(tokens)
        blocks = SequenceMatcher(None, stems, et, autojunk=False).get_matching_blocks()
        return sum(b.size for b in blocks) / max(1, len(stems))

    for sentence in (evidence[a:b] for a, b, _ in sentence_spans(evidence)):
        et = _stems(_tokens(sentence))
        base = copied(ct, et)
        if base < 0.4:
            continue
        for i, (a0, a1) in enumerate(runs):
            for b0, b1 in runs[i + 1 :]:
                if fold(" ".join(ct[a0:a1])) == fold(" ".join(ct[b0:b1])):
                    continue
                swapped = ct[:a0] + ct[b0:b1] + ct[a1:b0] + ct[a0:a1] + ct[b1:]
                after = copied(swapped, et)
                # exchanged, the claim is (nearly) the sentence: a swap, not a paraphrase that moved a name
                if (after >= 0.95 and after - base >= 0.04 or after >= 0.7 and after - base >= margin) \
                        and not _passive(claim) and not _passive(sentence):
                    return f"the evidence has {' '.join(ct[a0:a1])} and {' '.join(ct[b0:b1])} the other way round"
    return None


# --------------------------------------------------------------------------------------------------
# Figures attached to what they count: "48 Gesetze" against "123 Gesetze" is a changed figure, even
# when 48 stands elsewhere in the passage ("48 Sitzungen").

_NUMBER_WORDS = {
    **{w: str(i) for i, w in enumerate(
        "null eins zwei drei vier fünf sechs sieben acht neun zehn elf zwölf".split()) if i >= 2},
    **{w: str(i) for i, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve".split()) if i >= 2},
}
#: words for two that are no number word: "beide Politiker" is "the two politicians"
_BOTH = frozenset("beide beiden beider both".split())


def spelled_figures(text: str, *, in_compounds: bool = False) -> set[str]:
    """The values of the number words of a text ("drei", "seven"; "ten-hour" -> 10), and with
    ``in_compounds`` those that open a German compound ("zehnstündigen", "dreifache"), read leniently."""
    out = set()
    for w in re.findall(r"[^\W\d_]+", text.lower()):
        if w in _NUMBER_WORDS:
            out.add(_NUMBER_WORDS[w])
        elif w in _BOTH:
            out.add("2")
        elif in_compounds:
            out |= {v for n, v in _NUMBER_WORDS.items() if len(n) >= 4 and w.startswith(n)}
    return out


_ORDINAL = re.compile(
    r"\b(?:(erst|zweit|dritt|viert|fünft|sechst|siebt|acht|neunt|zehnt)(?:e|er|en|em|es)"
    r"|(first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth))\b",
    re.IGNORECASE,
)
_ORDINAL_VALUE = {w: i + 1 for i, w in enumerate("erst zweit dritt viert fünft sechst siebt acht neunt zehnt".split())} | {
    w: i + 1 for i, w in enumerate("first second third fourth fifth sixth seventh eighth ninth tenth".split())}


def ordinals(text: str) -> set[int]:
    """Ordinal words a text has ("zweiten", "second" -> 2)."""
    return {_ORDINAL_VALUE[(m.group(1) or m.group(2)).lower()] for m in _ORDINAL.finditer(text)}


def _figure(token: str) -> str | None:
    """The value of a token that is a figure ('1.000' -> '1000', 'zwei' -> '2', 'ersten' -> '1.')."""
    if token[:1].isdigit():
        return re.sub(r"[.,]", "", token)
    low = token.lower()
    if low in _NUMBER_WORDS:
        return _NUMBER_WORDS[low]
    m = _ORDINAL.fullmatch(low)
    return f"{_ORDINAL_VALUE[(m.group(1) or m.group(2))]}." if m else None


#: Units written as a sign or a word in either language.
_UNITS = {"%": "Prozent", "percent": "Prozent", "prozent": "Prozent", "€": "Euro", "$": "Dollar", "us-dollar": "Dollar"} | {
    en: de for en, de in (
        ("votes", "Stimmen"), ("people", "Menschen"), ("persons", "Personen"), ("seats", "Sitze"), ("years", "Jahre"),
        ("points", "Punkte"), ("goals", "Tore"), ("laws", "Gesetze"), ("sessions", "Sitzungen"), ("hours", "Stunden"),
        ("minutes", "Minuten"), ("days", "Tage"), ("weeks", "Wochen"), ("months", "Monate"), ("children", "Kinder"),
        ("soldiers", "Soldaten"), ("members", "Mitglieder"), ("countries", "Länder"), ("tons", "Tonnen"),
        ("billion", "Milliarden"), ("million", "Millionen"), ("euros", "Euro"), ("dollars", "Dollar"),
    )
}


def counted(text: str) -> list[tuple[str, str]]:
    """(figure, what it counts) pairs: the first content word after a figure, skipping function words
    and other figures ("58 of the 100 votes" -> votes); or "Tackles (118)", the figure in brackets
    after its noun. Dates are left out."""
    for d in reversed(date_mentions(text)):
        text = text[: d.start] + " ; " + text[d.end :]
    tokens = [_UNITS.get(t.lower(), t) for t in _tokens(text)]
    out = []
    for i, t in enumerate(tokens):
        value = _figure(t)
        if value is None:
            continue
        if i >= 2 and tokens[i - 1] == "(" and tokens[i - 2][:1].isalpha() and tokens[i - 2].lower() not in STOPWORDS:
            out.append((value, fold(tokens[i - 2])))
            continue
        for u in tokens[i + 1 : i + 5]:
            if u in _UNITS.values():
                out.append((value, fold(u)))
                break
            if not u[:1].isalpha():
                if u[:1].isdigit():
                    continue
                break
            if u.lower() in STOPWORDS or _figure(u) is not None:
                continue
            out.append((value, fold(u)))
            break
    return out


def figure_mismatch(claim: str, evidence: str) -> str | None:
    """Why a figure of the claim is attached to something the evidence counts differently, else None."""
    ev = counted(evidence)
    for value, unit in counted(claim):
        given = {v for v, u in ev if u == unit or _similar(u, unit)}
        if given and value not in given:
            return f"the evidence gives {unit!r} as {', '.join(sorted(given))}, not {value}"
    c_ord, e_ord = ordinals(claim), ordinals(evidence)
    if c_ord and e_ord and not c_ord & e_ord:
        return f"the evidence has another ordinal ({', '.join(map(str, sorted(e_ord)))} vs {', '.join(map(str, sorted(c_ord)))})"
    return None


# --------------------------------------------------------------------------------------------------
# Places bound to their preposition: "nahe Kabul" against "in Kabul … nahe Maimana" is another place.

# Not "im": German puts its nouns there ("im Jahr 2022"), and a noun is no place.
_PLACE_GROUPS = {
    "in": "in", "at": "in", "nahe": "near", "near": "near", "bei": "near", "nach": "to", "to": "to",
    "aus": "from", "from": "from",
}


#: words that say which way a quantity goes: whole words, and stems of words written in lower case
#: (German inflects, "geringere", "höheren"; a capitalised "Greater London" or "Mehrheit" is not one)
_UP_WORDS = frozenset("more rise rises rising rose risen grow grows growing grew mehr anstieg zunahme".split())
_DOWN_WORDS = frozenset("less fewer fall falls falling fell drop drops dropped weniger rückgang abnahme".split())
_UP_STEMS = ("higher", "greater", "larger", "bigger", "increas", "höher", "größer", "grösser", "steigend", "gestiegen",
             "erhöht", "zunehmend", "wachsend")
_DOWN_STEMS = ("lower", "smaller", "reduc", "decreas", "declin", "shrink", "niedriger", "geringer", "kleiner", "sinkend",
               "gesunken", "verringer", "reduzier", "abnehmend", "schrumpf")


def _direction(word: str) -> int:
    w = word.lower()
    if w in _UP_WORDS:
        return 1
    if w in _DOWN_WORDS:
        return -1
    if word[:1].islower():
        if w.startswith(_UP_STEMS):
            return 1
        if w.startswith(_DOWN_STEMS):
            return -1
    return 0


def directed(text: str) -> list[tuple[int, str]]:
    """(direction, what it is said of) for each direction word of ``text`` followed by a content word:
    "a higher consumption demand" -> (1, "consumption demand"), "geringere Konsumnachfrage" -> (-1,
    "Konsumnachfrage"). "more than" and the like, which compare a figure, are left to the figure rules."""
    words = WORD.findall(text)
    out = []
    for i, w in enumerate(words):
        d = _direction(w)
        if not d:
            continue
        target = []
        for nxt in words[i + 1 : i + 4]:
            if nxt.lower() in STOPWORDS or _direction(nxt) or nxt.isdigit():
                break
            target.append(nxt)
            if nxt[:1].isupper() and _language_of(text) == "de":
                break  # a German noun ends the phrase: "geringere Konsumnachfrage"
        if target:
            out.append((d, " ".join(target)))
    return out


def direction_mismatch(claim: str, evidence: str, similar) -> str | None:
    """Why the evidence says the opposite way of the same thing ("a higher consumption demand" against
    "eine geringere Konsumnachfrage"), else None. ``similar(a, b)`` is a cosine that reads across
    languages; the thing must be the same (≥ 0.62) and nearer to the opposite than to any same-way one."""
    claimed, given = directed(claim), directed(evidence)
    if not claimed or not given:
        return None
    for d, target in claimed:
        scored = sorted(((similar(target, t), e, t) for e, t in given), reverse=True)
        best_sim, best_dir, best_target = scored[0]
        if best_sim >= 0.62 and best_dir == -d:
            return f"the evidence says the opposite of '{target}' ('{best_target}' goes the other way)"
    return None


# --------------------------------------------------------------------------------------------------
# Nationalities bound to people: "German politicians Keir Starmer, …" against "der britische
# Premierminister Keir Starmer".

_NATIONALITIES = {
    "deutsch": "de", "german": "de", "britisch": "gb", "british": "gb", "englisch": "gb", "english": "gb",
    "französisch": "fr", "french": "fr", "italienisch": "it", "italian": "it", "finnisch": "fi", "finnish": "fi",
    "russisch": "ru", "russian": "ru", "ukrainisch": "ua", "ukrainian": "ua", "amerikanisch": "us", "american": "us",
    "us": "us", "türkisch": "tr", "turkish": "tr", "chinesisch": "cn", "chinese": "cn", "österreichisch": "at",
    "austrian": "at", "spanisch": "es", "spanish": "es", "polnisch": "pl", "polish": "pl", "japanisch": "jp",
    "japanese": "jp", "ungarisch": "hu", "hungarian": "hu", "kanadisch": "ca", "canadian": "ca", "indisch": "in",
    "indian": "in", "israelisch": "il", "israeli": "il", "iranisch": "ir", "iranian": "ir", "niederländisch": "nl",
    "dutch": "nl", "schwedisch": "se", "swedish": "se", "norwegisch": "no", "norwegian": "no", "dänisch": "dk",
    "danish": "dk", "griechisch": "gr", "greek": "gr", "kenianisch": "ke", "kenyan": "ke",
}
_NAT_TOKEN = re.compile(r"[^\W\d_][\w\-]*|[,;:.()]", re.UNICODE)


def _nationality(word: str) -> str | None:
    w = fold(word).split("-")[0]
    if w == "us" and not word.startswith("US"):
        return None  # the pronoun
    for stem, key in _NATIONALITIES.items():
        s = fold(stem)
        if w == s or (len(s) >= 5 and w.startswith(s) and len(w) - len(s) <= 3):  # britische, deutschen
            return key
    return None


def nationalities(text: str) -> dict[str, str]:
    """Surname -> the nationality the text gives its person: the nearest nationality word among the
    three words before the capitalised run that ends in the surname, or inside it ("der britische
    Premierminister Keir Starmer", "German politicians Keir Starmer", "Russian President Vladimir Putin").
    Only a run of two capitalised words or more is a person's name; a comma ends the search."""
    tokens = _NAT_TOKEN.findall(text)
    out: dict[str, str] = {}
    i = 0
    while i < len(tokens):
        j = i
        while j < len(tokens) and tokens[j][:1].isupper() and tokens[j][:1].isalpha():
            j += 1
        if j - i >= 2 and not _nationality(tokens[j - 1]):
            for u in reversed(tokens[max(0, i - 3) : j - 1]):
                if not u[:1].isalpha():
                    break
                key = _nationality(u)
                if key:
                    out.setdefault(fold(tokens[j - 1]), key)
                    break
        i = max(j, i + 1)
    return out


def nationality_mismatch(claim: str, evidence: str) -> str | None:
    """Why the claim gives a person another nationality than the evidence does, else None ("German
    politicians Keir Starmer, …" against "der britische Premierminister Keir Starmer")."""
    given = nationalities(evidence)
    for name, key in nationalities(claim).items():
        if name in given and given[name] != key:
            return f"the evidence gives {name.capitalize()} another nationality"
    return None


def bound_places(text: str) -> list[tuple[int, str, str]]:
    """(token position, preposition group, name) for a name right after a place preposition (English:
    after "the" too). German nouns after an article are not places ("in der Nacht")."""
    tokens = _tokens(text)
    found = set(names(text))
    out = []
    for i, t in enumerate(tokens[:-1]):
        group = _PLACE_GROUPS.get(t.lower())
        if not group:
            continue
        j = i + 2 if tokens[i + 1].lower() == "the" and i + 2 < len(tokens) else i + 1
        w = tokens[j]
        if w[:1].isupper() and (w in found or any(w.startswith(n) for n in found)) and w.lower() not in MONTHS and not weekdays(w):
            out.append((j, group, w))
    return out


def place_mismatch(claim: str, evidence: str) -> str | None:
    """Why a place of the claim is not where the evidence puts it, else None: the evidence binds the
    same preposition to another place and never to the claim's, or the claim's place sits next to a
    name for which the evidence gives another place ("Scheele … in Uppsala", "Priestley in Wiltshire")."""
    et = _tokens(evidence)
    ev_places = bound_places(evidence)
    ct = _tokens(claim)
    for pos, group, place in bound_places(claim):
        same = [(j, w) for j, g, w in ev_places if g == group]
        if not same:
            continue
        if not any(_Words(w).has(place) for _, w in same):
            # "in" is too common in German to read it so ("im KBA"); "nahe", "nach", "aus" are not
            if group != "in" and (any(_Words(w).has(place) for _, _, w in ev_places) or _find_all(place, et)):
                return f"the evidence puts {place!r} with another preposition, and has {', '.join(w for _, w in same)} {group} it"
            continue
        # The place is there: is it the one the evidence gives for the claim's names before it?
        verdicts = []
        for head in (t for t in ct[:pos] if t[:1].isupper() and t in set(names("Und " + claim))):
            found = _find_all(head, et)
            if not found:
                continue
            at = found[0]
            after = [(j, w) for j, w in same if 0 < j - at <= 12]
            if after:
                verdicts.append(_Words(min(after)[1]).has(place))
        if verdicts and not any(verdicts):
            return f"the evidence gives another place than {place!r} for who the claim names"
    return None


# --------------------------------------------------------------------------------------------------
# Coverage: a claim in the passage's language whose content words are mostly not in the passage
# says something the passage does not.


def _language_of(text: str) -> str:
    words = [w.lower() for w in WORD.findall(text)]
    de = sum(w in STOPWORDS_DE for w in words)
    en = sum(w in STOPWORDS_EN for w in words)
    return "de" if de >= en else "en"


def coverage(claim: str, passage: str) -> float:
    """The share of the claim's content words (four letters or more) found, tolerantly, in the passage."""
    words = [w for w in _content(claim) if len(w) >= 4]
    if not words:
        return 1.0
    have = _Words(passage)
    return sum(have.has(w) for w in words) / len(words)


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
        min_coverage: float = 0.5,
        answer_judge: AnswerJudge | None = None,
        min_answer: float = 0.5,
        alternative_margin: float = 0.03,
        alternatives: int = 2,
    ):
        self.embedder = getattr(embedder, "first", embedder)
        # USE, when the index fuses it with e5: trained on translation pairs, it tells a name's
        # translation from a related name (``_translated``)
        second = getattr(embedder, "second", None)
        self.translator = second if getattr(second, "name", "").startswith("use") else None
        self.min_similarity = min_similarity
        self.neighbour_margin = neighbour_margin
        self.entailment = entailment
        self.min_entailment = min_entailment
        self.min_coverage = min_coverage
        self.answer_judge = answer_judge
        self.alternative_margin = alternative_margin
        self.alternatives = alternatives
        self.min_answer = min_answer
        self._cache: dict[str, tuple[list[tuple[int, int]], np.ndarray]] = {}

    #: USE cosine at which two words are one name in two languages ("Germany" / "Deutschland" 0.90,
    #: "Finnish" / "finnische" 0.83, "Indian" / "indischen" 0.78; unrelated names 0.6 at most)
    TRANSLATION_SIMILARITY = 0.75
    #: words of a passage compared, at most (each a few milliseconds of USE)
    TRANSLATION_CANDIDATES = 400

    def _translated(self, names: list[str], text: str) -> bool:
        """Whether ``text`` has one of ``names`` in the other language, by the multilingual sentence
        encoder trained for translation (USE, the fused embedder's second model); False without it."""
        use = self.translator
        if use is None:
            return False
        # lower-case words too: a name's adjective is one in German ("Indian" / "indischen")
        words = [w for w in WORD.findall(text) if len(w) >= 3 and w.lower() not in STOPWORDS]
        # a German compound of a direction and a place: "Südkalifornien" names "Kalifornien" too
        words += [m.group(1).capitalize() for w in words if (m := _DIRECTION_COMPOUND.match(w))]
        candidates = list(dict.fromkeys(words))
        candidates = candidates[: self.TRANSLATION_CANDIDATES]
        if not candidates:
            return False
        vectors = use.embed([*names, *candidates], "passage")
        return bool((vectors[: len(names)] @ vectors[len(names):].T).max() >= self.TRANSLATION_SIMILARITY)

    def _phrase_similarity(self, a: str, b: str) -> float:
        """How much two short phrases mean the same thing, across languages (USE); without USE, only
        the same words count."""
        if self.translator is None:
            return 1.0 if fold(a) == fold(b) else 0.0
        va, vb = self.translator.embed([a, b], "passage")
        return float(va @ vb)

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
        if unfinished(text):
            return ClaimCheck(text, "not_found", reasons=("the sentence breaks off (…)",))

        fragment = bool(question) and len(WORD.findall(text)) <= FRAGMENT_WORDS
        q = self.embedder.embed([f"{question} {text}" if fragment else text], "query")[0]
        candidates: list[Evidence] = []
        per_source: dict[int, list[Evidence]] = {}
        for i, src in numbered:
            spans, vectors = self._sentences(src.text)
            sims = vectors @ q
            ev = [Evidence(i, a, b, src.text[a:b], float(s)) for (a, b), s in zip(spans, sims)]
            if headline_statement(src.title):
                spans, vectors = self._sentences(src.title)
                ev += [Evidence(i, a, b, src.title[a:b], float(s), in_title=True) for (a, b), s in zip(spans, vectors @ q)]
            per_source[i] = ev
            candidates += ev
        ranked = sorted(candidates, key=lambda e: -e.similarity)
        first = self._verdict(text, ranked[0], per_source, sources, question, fragment)
        if first.supported:
            # a near-equal sentence that says the opposite decides: "The 1979 Scottish devolution
            # referendum succeeded" is closest to the sentence that sets the referendum's terms, and the
            # next one says "Das Referendum … scheiterte"
            for alt in ranked[1 : 1 + self.alternatives]:
                if alt.similarity < max(ranked[0].similarity - self.alternative_margin, self.min_similarity):
                    break
                best = ranked[0]
                if alt.source == best.source and alt.in_title == best.in_title and alt.start < best.end and best.start < alt.end:
                    continue  # a clause of the best sentence
                if negations_against(text, alt.text) % 2 != negations_against(alt.text, text) % 2:
                    # only when its polarity is all it disagrees in: a sentence with another year is
                    # about another event ("Kublais zweite Invasion Japans im Jahr 1281 scheiterte, und
                    # die Regierung geriet in Geldnot" does not deny "geriet nach 1279 in Geldnot")
                    check = self._verdict(text, alt, per_source, sources, question, fragment)
                    if check.verdict == "contradicted" and all(r.startswith(("the evidence negates", "the claim negates"))
                                                               for r in check.reasons):
                        return check
            return first
        if not _may_try_other_evidence(first):
            return first
        # The most similar sentence is not always the one that states the claim: of two near-equal
        # sentences of a passage, the one with the claim's figure or date ("nach 1279" next to "1281").
        # A claim contradicted by its polarity, roles or places is not looked at again.
        tried, attempts = list(first.evidence), 0
        for alt in ranked[1:]:
            if alt.similarity < ranked[0].similarity - self.alternative_margin or attempts >= self.alternatives:
                break
            if any(alt.source == t.source and alt.in_title == t.in_title and alt.start < t.end and t.start < alt.end
                   for t in tried):
                continue  # a clause of a sentence already tried
            attempts += 1
            check = self._verdict(text, alt, per_source, sources, question, fragment)
            if check.supported:
                return check
            tried += check.evidence
        return first

    def _verdict(
        self, text: str, best: Evidence, per_source: dict[int, list[Evidence]], sources: Sequence[Source],
        question: str, fragment: bool,
    ) -> ClaimCheck:
        """The verdict on ``text`` with ``best`` as its main evidence sentence."""
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
                ev_months = {_month_of(w) for w in WORD.findall(evidence_text)} - {None}
                if not other and month in ev_months and (year == "????" or year in evidence_text + src.date):
                    continue  # "im Februar" in the passage, dated 2025 by its header: "February 2025"
                if other:
                    verdict = "contradicted"
                    reasons.append(f"the date {text[d.start:d.end]!r} differs from the passage's ({', '.join(other)})")
                else:
                    verdict = _worse(verdict, "not_found")
                    reasons.append(f"the date {text[d.start:d.end]!r} is not in the passage")
        # numbers (outside dates); a year may come from the header date
        ev_numbers = set(numbers_outside_dates(evidence_text)) | set(re.findall(r"\d+", src.date)) | roman_numerals(evidence_text)
        for n in numbers_outside_dates(text):
            if n in ev_numbers:
                continue
            if numbers_outside_dates(evidence_text):
                verdict = "contradicted"
                reasons.append(f"the figure {n} differs from the evidence's ({', '.join(numbers_outside_dates(evidence_text))})")
            else:
                verdict = _worse(verdict, "not_found")
                reasons.append(f"the figure {n} is not in the evidence")
        # figures written as words: "three market segments" against "neun Branchensegmente" (the rule
        # on what a figure counts cannot pair words across languages); evidence without figures may say
        # "both" or "a pair", so it only contradicts when it gives other figures
        ev_figures = set(numbers_outside_dates(evidence_text)) | spelled_figures(evidence_text, in_compounds=True)
        spelled = sorted(spelled_figures(text) - ev_figures - ev_numbers, key=int)
        if spelled and ev_figures:
            verdict = "contradicted"
            reasons.append(f"the figure {', '.join(spelled)} (in words) differs from the evidence's ({', '.join(sorted(ev_figures))})")
        why = misquoted(text, f"{src.text} {src.title}")
        if why:
            verdict = _worse(verdict, "not_found")
            reasons.append(why)
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
        # a claim that names things of which its evidence has none is about something else, however
        # close its embedding ("Die Inflation steigt." against "Russische Öllieferungen … gestoppt");
        # the sentence before the evidence counts, for what its pronouns stand for ("Die Republikaner
        # verfehlten … Sie hätten 60 der 100 Stimmen benötigt")
        named = [n for n in dict.fromkeys(names(text)) if fold(n) not in _NO_CONTENT]
        before = [e.text for e in per_source[best.source] if not e.in_title and e.end <= evidence[0].start][-1:]
        before = before if not evidence[0].in_title else []
        near_words = _Words(" ".join([*before, evidence_text, header]))
        if named and not fragment and not any(near_words.has(n) for n in named):
            verdict = _worse(verdict, "not_found")
            reasons.append(f"the evidence names none of {', '.join(named)}")
        # of a list or a companion, some in the evidence and some only elsewhere in the passage: the
        # sentence that states this names others ("between Newcastle and Sunderland" against "Newcastle
        # und Gateshead", Sunderland named further on)
        elsewhere = [n for n in required if not ev_words.has(n) and n not in missing]
        if elsewhere and any(ev_words.has(n) for n in required) and not fragment:
            verdict = _worse(verdict, "not_found")
            reasons.append(f"the passage names {', '.join(elsewhere)} elsewhere, not with the others")
        # the question's own names that the claim repeats: the passage must be about them ("Jacksonville
        # began to decline after Hurricane Katrina" from a passage about New Orleans)
        if question and not fragment:
            asked = {fold(n) for n in _question_names(question)}
            about_text = f"{src.whole} {src.text} {header}" if src.whole else f"{src.text} {header}"
            about = _Words(about_text)
            absent = [
                n for n in dict.fromkeys(names(f"x {text}"))
                if fold(n) in asked and not about.has(n) and not _named_by_neighbour(n, text, about)
                and not _head_named(n, about)
            ]
            # across languages the passage may name it in its own ("southern California" against
            # "Südkalifornien")
            if absent and _language_of(question) != _language_of(src.text):
                absent = [n for n in absent if not self._translated([n], about_text)]
            if absent:
                verdict = _worse(verdict, "not_found")
                reasons.append(f"the passage does not name {', '.join(absent)}, which the question asks about")
            # and when the claim repeats none of them: a passage with none of the question's proper
            # names is about something else ("Wer half beim Entwurf der Main Quadrangles?" answered
            # from an article about an election campaign)
            proper = question_proper_names(question)
            if proper and not any(about.has(n) or _head_named(n, about) for n in proper) and not self._translated(
                proper, about_text
            ):
                verdict = _worse(verdict, "not_found")
                reasons.append(f"the passage names none of {', '.join(proper)}, which the question asks about")
        # a name the claim repeats from the question is checked above, against the whole article
        repeated = {fold(n) for n in _question_names(question)} if question else set()
        whole_words = _Words(src.whole) if src.whole and repeated else None
        loose_missing = [
            n for n in others if not src_words.has(n) and not (fold(n) in repeated and whole_words and whole_words.has(n))
        ]
        if len(loose_missing) >= 2 and len(loose_missing) > 0.5 * len(others):
            verdict = _worse(verdict, "not_found")
            reasons.append(f"mostly not in the passage: {', '.join(loose_missing)}")
        # weekdays
        claim_days, ev_days = weekdays(text), weekdays(evidence_text)
        if claim_days and ev_days and not claim_days & ev_days:
            verdict = "contradicted"
            reasons.append(f"the weekday differs ({', '.join(sorted(claim_days))} vs {', '.join(sorted(ev_days))})")
        # a single date or figure must be the best sentence's, not only its neighbour's ("den 7. Juni als
        # Tag der Neuwahlen" against "den 1. November als Tag der Neuwahlen", next to "vom 7. Juni")
        claim_dates, best_dates = date_mentions(text), date_mentions(best.text)
        if len(claim_dates) == 1 and best_dates and len(evidence) > 1 and verdict != "contradicted":
            if not any(same_date(claim_dates[0].value, b.value) for b in best_dates):
                verdict = "contradicted"
                reasons.append(f"the date {text[claim_dates[0].start:claim_dates[0].end]!r} is not the one the best sentence gives")
        # figures attached to what they count; names in their roles; places bound to their preposition
        for rule in (figure_mismatch, role_swap, name_swap, place_mismatch, nationality_mismatch):
            why = rule(text, evidence_text)
            if why:
                verdict = "contradicted"
                reasons.append(why)
        # a quantity going the other way, across languages: "a higher consumption demand" against "eine
        # geringere Konsumnachfrage" (embeddings put such antonyms close together)
        why = direction_mismatch(text, evidence_text, self._phrase_similarity)
        if why:
            verdict = "contradicted"
            reasons.append(why)
        # a year in another relation: "ran out of money in 1279" against "geriet nach 1279 in …"; a
        # weekday or year that dates another event: "nachdem er sich am Freitag mit Putin getroffen hatte"
        why = year_relation_mismatch(text, evidence_text) or time_of_another_event(text, best.text)
        if why:
            verdict = _worse(verdict, "not_found")
            reasons.append(why)
        # a claim in the passage's language that mostly uses words the passage does not have
        if _language_of(text) == _language_of(src.text) and len(_content(text)) >= 4 and not fragment:
            share = coverage(text, src.text + " " + header)
            if share < self.min_coverage:
                verdict = _worse(verdict, "not_found")
                reasons.append(f"most of its words are not in the passage ({share:.0%} are)")
        # polarity against the best sentence; when the best is a clause, its whole sentence must disagree
        # too: "Auf die Frage, ob die Treffen am Montag das" is cut before the quotation whose end
        # answers it ("…, sagte Trump, das sei nicht der Fall")
        claim_neg, evidence_neg = negations_against(text, best.text), negations_against(best.text, text)
        sentence = _sentence_of(best, per_source[best.source])
        disagree = claim_neg % 2 != evidence_neg % 2 and (
            sentence is None or claim_neg % 2 != negations_against(sentence.text, text) % 2
        )
        if disagree and best.similarity >= self.min_similarity - 0.05:
            verdict = "contradicted"
            reasons.append("the claim negates what the evidence says" if claim_neg % 2 else "the evidence negates the claim")
        elif sentence is not None and claim_neg % 2 != evidence_neg % 2:
            # the clause's polarity comes from the rest of its sentence: that sentence is the evidence
            # (for the model's judgement and the reader), not the clause without its "nicht"
            evidence = tuple(sorted(
                [sentence, *(e for e in evidence if not (sentence.start <= e.start and e.end <= sentence.end))],
                key=lambda e: e.start,
            ))
            evidence_text = " ".join(e.text for e in evidence)
        # modality against the best sentence: "schloss … nicht aus" does not state "would send troops"
        following = "" if best.in_title else re.split(r"(?<=[.!?])\s", src_text[best.end : best.end + 200], maxsplit=1)[0]
        if verdict == "supported" and not fragment and possibility(best.text, following) and not possibility(text):
            verdict = "not_found"
            reasons.append("the evidence says only that this may be so, the claim that it is so")
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


#: words a question uses for the articles themselves ("Welche Agentur wird in dem Artikel zitiert?")
_ABOUT_THE_ARTICLES = frozenset(
    "artikel artikeln article articles text texte texts passage passages bericht berichte report reports meldung".split()
)


_DIRECTION_COMPOUND = re.compile(r"^(?:Süd|Nord|Ost|West|Mittel|Zentral|Südost|Südwest|Nordost|Nordwest)-?(\w{4,})$")
#: words of a time, which the weekday and date rules check: not what a question is about
_TIME_WORDS = frozenset(fold(w) for w in [*MONTHS, *WEEKDAYS, *WEEKDAYS.values()])


def _question_names(question: str) -> list[str]:
    """The capitalised words of a question (in German its nouns too) that say what it is about: its
    first word counts (a name may open a question), unless it is an English -ing form ("Completing Q
    with respect to what …"); weekdays and months do not (they date the event, and are checked as
    dates)."""
    words = WORD.findall(question)
    gerund = bool(words) and words[0].lower().endswith("ing") and _language_of(question) == "en"
    found = names(question) if gerund else names(f"x {question}")  # "x": a first word is a name too
    return [n for n in found if fold(n) not in _ABOUT_THE_ARTICLES | _TIME_WORDS]


_ROMAN = re.compile(r"(?<=[A-Za-zÄÖÜäöüß] )([IVX]{1,5})\b")
_ROMAN_VALUES = {"I": 1, "V": 5, "X": 10}


def roman_numerals(text: str) -> set[str]:
    """The values of Roman numerals after a name ("Grade I", "Louis XIV", "Super Bowl XLIX" is too long
    to matter): a lone "I" counts only after a capitalised word inside a sentence ("Grade I", not "Then I")."""
    out = set()
    for m in _ROMAN.finditer(text):
        r = m.group(1)
        before = text[: m.start()].rstrip().split()
        if r == "I" and (not before or not before[-1][:1].isupper() or len(before) < 2 or before[-2].endswith((".", "!", "?"))):
            continue
        values = [_ROMAN_VALUES[c] for c in r]
        total = sum(-v if i + 1 < len(values) and v < values[i + 1] else v for i, v in enumerate(values))
        if total > 0:
            out.add(str(total))
    return out


def question_proper_names(question: str) -> list[str]:
    """The words of a question that are surely names, not nouns: in English every capitalised word
    after the first; in German, where every noun is capitalised, only runs of two or more capitalised
    words ("Main Quadrangles", "Haydon Burns") and words with a capital or digit inside ("MLS-Team",
    "Internet2", "McDonald"). A question's first word is never one: it is capitalised anyway."""
    words = [w for w in WORD.findall(question)]
    capital = [i > 0 and w[:1].isupper() and w.lower() not in STOPWORDS | _ABOUT_THE_ARTICLES and len(w) >= 3
               for i, w in enumerate(words)]
    # a place the question sets its event in ("im Weißen Haus", "at the White House") is often not
    # repeated by the passage that answers it: only what the question is about counts
    for i in range(len(words)):
        if capital[i] and _after_place_word(words, i):
            j = i
            while j < len(words) and capital[j]:
                capital[j] = False
                j += 1
    if _language_of(question) == "en":
        # a demonym describes someone without naming the subject ("Which famous Indian took a plea?"
        # over a passage that says "Mohandas Gandhi")
        picked = [w for w, c in zip(words, capital) if c and not _demonym(w)]
    else:
        picked = [
            w for i, (w, c) in enumerate(zip(words, capital))
            if c and ((i > 0 and capital[i - 1]) or (i + 1 < len(words) and capital[i + 1])
                      or any(ch.isupper() or ch.isdigit() for ch in w[1:]))
        ]
    return list(dict.fromkeys(_POSSESSIVE_END.sub("", w) for w in picked if fold(w) not in _TIME_WORDS))


_POSSESSIVE_END = re.compile(r"(?:'s|’s)$")
_QUESTION_PLACE_WORDS = frozenset("in im am at bei beim nach aus from near auf vor".split())
_ARTICLES = frozenset("der die das dem den des the a an".split())


def _after_place_word(words: list[str], i: int) -> bool:
    """Whether ``words[i]`` follows a place preposition, with or without an article between."""
    j = i - 1
    if j >= 0 and words[j].lower() in _ARTICLES:
        j -= 1
    return j >= 0 and words[j].lower() in _QUESTION_PLACE_WORDS
_DEMONYMS_IN_AN = frozenset("american german african korean mexican european cuban chilean peruvian".split())


def _demonym(word: str) -> bool:
    """Whether an English capitalised word is a nationality or people's adjective ("Indian",
    "Finnish", "Chinese", "American"); a first name that looks like one ("Sebastian") only makes
    the rule that uses this refuse less."""
    w = word.lower()
    return w in _DEMONYMS_IN_AN or (len(w) >= 6 and w.endswith(("ian", "ish", "ese", "ean")))


def _named_by_neighbour(name: str, text: str, about: _Words) -> bool:
    """Whether ``name`` is one word of a longer name whose neighbouring word the passage has
    ("Vladimir Putin" against a passage that says "Putin")."""
    words = WORD.findall(text)
    for i, w in enumerate(words):
        if w == name or w.startswith(name):
            for j in (i - 1, i + 1):
                if 0 <= j < len(words) and words[j][:1].isupper() and len(words[j]) >= 3 and about.has(words[j]):
                    return True
    return False


def _head_named(word: str, about: _Words) -> bool:
    """Whether a German compound's head noun of six letters or more is in the passage
    ("Wirtschaftswachstum" against a passage that says "Wachstum")."""
    f = fold(word)
    return len(f) >= 10 and any(len(w) >= 6 and len(f) - len(w) >= 4 and f.endswith(w) for w in about.words)


def _may_try_other_evidence(check: ClaimCheck) -> bool:
    """Whether another evidence sentence may decide: the claim was not found, or contradicted only by a
    figure or date that another sentence of the passage may give."""
    if check.entailment is not None:
        return False  # the rules passed and the model said no: it is not asked twice
    if check.verdict == "not_found":
        return True
    return all(r.startswith(("the figure", "the date")) for r in check.reasons)


def _month_of(word: str) -> int | None:
    """The month a word names, also as the head of a compound ("Februarwoche" -> 2)."""
    w = word.lower().rstrip(".")
    if w in MONTHS:
        return MONTHS[w]
    return next((n for m, n in MONTHS.items() if len(m) >= 4 and w.startswith(m)), None)


def _adjacent(text: str, a: Evidence, b: Evidence) -> bool:
    """Whether ``b`` is the sentence right before or after ``a`` (only white space between) in the
    passage's text (a headline has no neighbours)."""
    if a.in_title or b.in_title:
        return False
    if b.end <= a.start:
        return not text[b.end : a.start].strip()
    if b.start >= a.end:
        return not text[a.end : b.start].strip()
    return False


_WEEKDAY = re.compile(r"(montag|dienstag|mittwoch|donnerstag|freitag|samstag|sonntag|sonnabend"
                      r"|monday|tuesday|wednesday|thursday|friday|saturday|sunday)", re.IGNORECASE)
_WEEKDAY_EN = {v: k for k, v in WEEKDAYS.items()} | {"sonnabend": "saturday"}


def _sentence_of(clause: Evidence, candidates: Sequence[Evidence]) -> Evidence | None:
    """The whole sentence a clause was cut from (``candidate_spans`` gives both), or None when
    ``clause`` is a whole sentence."""
    around = [e for e in candidates if e.in_title == clause.in_title and e.start <= clause.start
              and clause.end <= e.end and (e.end - e.start) > (clause.end - clause.start)]
    return max(around, key=lambda e: e.end - e.start) if around else None


_QUOTATION = re.compile(r"[“„\"»«‚]([^“”„\"»«]{3,200})[”“\"«»‘]")


def misquoted(claim: str, passage: str) -> str | None:
    """Why a quotation of the claim is not the passage's words, else None. A quotation most of whose
    words the passage has is a copy, and a copy must be faithful: the model wrote "wage-sterke
    ökonomische und politische Schocks" for "gewaltsame ökonomische und politisches Schocks". One
    with few of them is a translation ("violent economic and political shocks"), left to the other checks."""
    have = _Words(passage)
    for m in _QUOTATION.finditer(claim):
        words = [w for w in WORD.findall(m.group(1)) if len(w) >= 4 and w.lower() not in STOPWORDS]
        if len(words) < 2:
            continue
        found = [have.has(w) for w in words]
        if sum(found) >= 0.7 * len(words) and not all(found):
            missing = ", ".join(w for w, f in zip(words, found) if not f)
            return f"the quotation {m.group(0)} is not the passage's words ({missing})"
    return None


def unfinished(text: str) -> bool:
    """Whether a sentence breaks off: it ends in an ellipsis ("The Main Quadrangles were designed by
    the University of …"), as when the model copies a passage that was cut. What it would have said
    is not there to check."""
    return bool(re.search(r"(…|\.\.\.)\s*[.!?]?\s*$", text))


def weekdays(text: str) -> set[str]:
    """The weekdays a text names (also inside 'Dienstagabend'), in English."""
    return {_WEEKDAY_EN.get(w.lower(), w.lower()) for w in _WEEKDAY.findall(text)}


class PromptJudge:
    """P(yes) from the answer model's next-token probabilities for a yes/no prompt file whose
    demonstrations sit in the cached prefix, so a question costs only its own tokens. Back ends
    without token probabilities give None."""

    def __init__(self, model, prompt: Prompt):
        self.model = model
        self.prompt = prompt
        head = [{"role": "system", "content": prompt.system}]
        for user, assistant in prompt.examples:
            head += [{"role": "user", "content": user}, {"role": "assistant", "content": assistant}]
        self.head = head

    def probability(self, **fields: str) -> float | None:
        ask = getattr(self.model, "yes_probability", None)
        if ask is None:
            return None
        return ask([*self.head, {"role": "user", "content": self.prompt.user.format(**fields)}])


class ModelJudge(PromptJudge):
    """An ``Entailment``: "does the passage state the claim?" (``prompts/verify.en.txt``)."""

    def __call__(self, evidence: str, claim: str) -> float | None:
        return self.probability(evidence=evidence, claim=claim)


class AnswerJudge(PromptJudge):
    """The abstention decision after the support check: "does this answer, with the passage sentences
    it rests on, give what the question asks?" (``prompts/answers.en.txt``). A true sentence about
    a near-topic passage (another city, another event, a related figure) is supported but no answer."""

    #: evidence beyond this many characters is cut, to bound the judge's new tokens
    MAX_EVIDENCE_CHARS = 700

    def __call__(self, question: str, evidence: str, answer: str) -> float | None:
        if len(evidence) > self.MAX_EVIDENCE_CHARS:
            evidence = evidence[: self.MAX_EVIDENCE_CHARS].rsplit(" ", 1)[0] + " …"
        return self.probability(question=question, evidence=evidence, answer=answer)


_SEVERITY = {"supported": 0, "not_found": 1, "contradicted": 2}


def _worse(a: Verdict, b: Verdict) -> Verdict:
    return a if _SEVERITY[a] >= _SEVERITY[b] else b
