"""Edits of names for the verifier corpus: a person or place swapped for another (``swap_entity``),
two actors swapped around a verb (``swap_actors``), an of-phrase made a possessive only where the
owner is a name (``possessive_checked``). Names come from the corpus's lexicons
(``evals.corpus_data.Lexicon``), never from lists of particular articles."""

from __future__ import annotations

import random
import re

from evals.synthetic import _TITLES, possessive
from vectorstore.text import STOPWORDS, WORD, fold

#: words that join two names into a list or a pair, not into who-did-what-to-whom
_JOINS = {"und", "and", "oder", "or", "sowie", "mit", "with", "zwischen", "between", "gegen", "against", "vs", "bzw",
          "von", "of", "nor", "noch", "sondern", "but", "than", "als", "wie", "like"}
#: verbs for which swapping the two sides says the same thing ("A met B" = "B met A")
_SYMMETRIC = {"met", "meet", "meets", "married", "marry", "marries", "played", "plays", "faced", "faces", "fought", "fights",
              "negotiated", "talked", "spoke", "speaks", "signed", "allied", "traf", "trafen", "trifft", "heiratete",
              "heirateten", "spielte", "spielten", "spielt", "verhandelte", "verhandelten", "telefonierte", "kämpfte",
              "kämpften", "sprach", "sprachen", "unterzeichneten", "drew", "tied", "remis", "unentschieden"}
_MONTHS_DAYS = r"(?:January|February|March|April|May|June|July|August|September|October|November|December|Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
_ROMAN = re.compile(r"[IVXLC]+")

_BEFORE_NAME = {"in", "im", "nach", "aus", "bei", "von", "vom", "zu", "zum", "at", "by", "of", "to", "from", "with", "for",
                "für", "mit", "über", "unter", "vor", "seit", "as", "and", "und", "oder", "or", "on", "gegen", "against"}


def _alone(text: str, a: int, b: int) -> bool:
    """Whether the name at ``text[a:b]`` is not part of a longer run of capitalised words ("Queen
    Elizabeth II", "Fresno Street"); a title or a preposition before it is fine."""
    if re.match(r"[ -]?[A-ZÄÖÜ0-9]", text[b:]):
        return False
    m = re.search(r"([A-ZÄÖÜ][^\W\d_]*)[ -]$", text[:a])
    if not m:
        return True
    word = m.group(1)
    return word.lower() in STOPWORDS or word.lower() in _BEFORE_NAME or bool(re.fullmatch(_TITLES, word))


def swap_entity(text: str, mentions: dict[str, list[str]], pools: dict[str, list[str]], avoid: str,
                rng: random.Random) -> str | None:
    """A person or place named in ``text`` replaced by another of the same type: ``mentions`` are the
    lexicon entries by type, ``pools`` the candidates by type (the same article's first, then the
    corpus's). The new name shares no word with the old one and is not in ``avoid`` (the evidence
    sentence, the claim's parallel), so it is not the same entity under another spelling."""
    found = []
    for kind, names_ in mentions.items():
        for name in sorted(set(names_), key=len, reverse=True):
            for m in re.finditer(rf"(?<![\w-]){re.escape(name)}(?![\w-])", text):
                if _alone(text, m.start(), m.end()) and not any(a < m.end() and m.start() < b for a, b, _, _ in found):
                    found.append((m.start(), m.end(), kind, name))
    if not found:
        return None
    found.sort()
    a, b, kind, name = found[rng.randrange(len(found))]
    old_words = {fold(w) for w in name.split()}
    folded_avoid = fold(avoid + " " + text)
    for cand in pools.get(kind, []):
        words = {fold(w) for w in cand.split()}
        if words & old_words or (len(cand.split()) > 1) != (len(name.split()) > 1):
            continue
        if re.search(rf"\b{re.escape(fold(cand))}\b", folded_avoid):
            continue
        return text[:a] + cand + text[b:]
    return None



#: English verbs between two actors: a past form in -ed, or one of these
_EN_VERB = re.compile(r"[a-z]{3,}ed|had|has|have|was|were|is|beat|beats|won|wins|led|leads|took|takes|sent|sends|told|gave"
                      r"|gives|made|hit|sold|bought|left|became|wrote|built|paid|held|ran|began|brought|caught|chose|drove"
                      r"|found|got|kept|knew|lost|overthrew|succeeds|replaces|defeats|hires|appoints|joins|leaves|sees")
_NAMING = {"named", "called", "titled", "known", "nicknamed", "dubbed", "genannt", "namens"}
_DEMONYM = re.compile(r"[A-Z][a-z]+(?:ish|ese|ian|ean|ic|an)s?")


def _actor_mentions(text: str, persons: list[str], proper: frozenset[str] = frozenset()) -> list[tuple[int, int, str]]:
    """(start, end, kind) of the people (lexicon), other names (runs of ``proper`` words, no
    demonyms) and organisations (acronyms: "ABC", "ÖVP") the sentence names on their own."""
    spans: list[tuple[int, int, str]] = []

    def add(a: int, b: int, kind: str) -> None:
        if _alone(text, a, b) and not any(x < b and a < y for x, y, _ in spans):
            spans.append((a, b, kind))

    for name in sorted({p for p in persons if p in text}, key=len, reverse=True):
        for m in re.finditer(rf"(?<![\w-]){re.escape(name)}(?![\w-])", text):
            add(m.start(), m.end(), "name")
    for m in re.finditer(r"(?<![\w-])[A-ZÄÖÜ]{2,5}(?![\w-])", text):
        if not _ROMAN.fullmatch(m.group(0)):
            add(m.start(), m.end(), "acronym")
    run: list[re.Match] = []
    for m in [*re.finditer(r"(?<![\w-])[A-ZÄÖÜ][^\W\d_]+(?![\w-])", text), None]:
        if m and m.group(0) in proper and not _DEMONYM.fullmatch(m.group(0)) and (not run or text[run[-1].end() : m.start()] == " "):
            run.append(m)
            continue
        if run and len(run) <= 3:
            add(run[0].start(), run[-1].end(), "name")
        run = [m] if m and m.group(0) in proper and not _DEMONYM.fullmatch(m.group(0)) else []
    return sorted(spans)


_NOT_SUBJECT = {"a", "an", "of", "on", "for", "with", "from", "to", "in", "at", "by", "against", "into", "about", "than",
                "ein", "eine", "einen", "einem", "von", "für", "mit", "aus", "zu", "zum", "zur", "in", "im", "an", "am", "bei",
                "beim", "gegen", "über", "unter", "nach", "vor", "als", "named", "called"}


def _subject_slot(text: str, a: int) -> bool:
    """Whether a name at ``a`` can be a subject: not after a preposition or an indefinite article
    ("of X", "a Norman"), nor after a noun that it names ("on cornerback Josh Norman")."""
    words = text[:a].split()
    if not words:
        return True
    last = words[-1].lower().strip(",;:")
    if words[-1][-1:] in ",;:–" or re.fullmatch(_TITLES, words[-1]):
        return True
    if last in _NOT_SUBJECT:
        return False
    return not (words[-1][:1].islower() and len(words) > 1 and words[-2].lower() in _NOT_SUBJECT | {"the", "der", "die", "das", "den", "dem"})


def swap_actors(text: str, persons: list[str], proper: frozenset[str] = frozenset(), places: list[str] = (),
                language: str = "en") -> str | None:
    """Two actors of one kind (two people, two organisations, or two other names, both places or
    neither) swapped around the verb between them ("Noble appointed Kintner" -> "Kintner appointed
    Noble"): the first in a subject's place, 1-6 words between with a verb, no comma, no word that
    joins them into a list or pair, and no verb for which both orders say the same."""
    spans = _actor_mentions(text, persons, proper)
    place_set = set(places)
    for i, (a0, a1, ka) in enumerate(spans):
        for b0, b1, kb in spans[i + 1 :]:
            a, b, between = text[a0:a1], text[b0:b1], text[a1:b0]
            words = WORD.findall(between)
            low = [w.lower() for w in words]
            if ka != kb or (a in place_set) != (b in place_set) or not _subject_slot(text, a0):
                continue
            if not 1 <= len(words) <= 6 or re.search(r"[,;:()\[\]–—\"„“']", between) or not between.startswith(" "):
                continue
            if any(w in _JOINS or w in _SYMMETRIC or w in _NAMING for w in low):
                continue
            verbs = [w for w in words if w[:1].islower() and w not in STOPWORDS]
            if not verbs or (language == "en" and not any(_EN_VERB.fullmatch(w) for w in low)):
                continue
            if {fold(w) for w in a.split()} & {fold(w) for w in b.split()}:
                continue
            return text[:a0] + b + between + a + text[b1:]
    return None


def possessive_checked(text: str, language: str, is_name) -> str | None:
    """``synthetic.possessive`` where the owner is a name (``is_name`` of each of its words, or a run
    of two capitalised words), not a month, a weekday or a German common noun."""
    new = possessive(text, language)
    if not new:
        return None
    if language == "en":
        m = re.search(r"\b[Tt]he [a-z]+ of ((?:[A-Z][^\W\d_]+ ?){1,3})(?=\W)", text)
        if re.search(rf"\b{_MONTHS_DAYS}'s\b", new) or (m and re.match(r"['’]s\b", text[m.start(1) + len(m.group(1).strip()) :])):
            return None  # "the publication of Charles Darwin's theory": the of-phrase is not a name
        return new
    m = re.search(r"\b(?:der|die|das|dem|den) [A-ZÄÖÜ][^\W\d_]+ von ((?:[A-ZÄÖÜ][^\W\d_]+ ?){1,3})(?=\W)", text)
    if m and re.match(r" ?(?:aus|an|bis|her)\b|-", text[m.start(1) + len(m.group(1).strip()) :]):
        return None  # "von Bad Ischl aus": a starting point; "von Österreichs EM-Gegnern": a compound
    owner = m.group(1).split() if m else []
    if len(owner) >= 2 and owner[0].endswith("s"):
        return None  # "von Österreichs Gegnern": the owner is already a genitive
    if owner and (len(owner) >= 2 or all(is_name(w) for w in owner)):
        return new
    return None
