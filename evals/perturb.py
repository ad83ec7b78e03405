"""General edits of one sentence for the verifier corpus (``evals/corpus.py``), on top of those of
``evals/synthetic.py`` (edits of names are in ``evals/perturb_names.py``). Each takes a sentence and returns the edited claim, or None where the edit
does not apply. The word lists below are small per-language function-word and direction lists, not
taken from any article.

- ``sub_claim``: a clause that still stands alone (a parenthesis, a non-restrictive relative clause,
  a trailing or leading adverbial clause dropped) -> supported.
- ``number_format``: 1,000 -> 1000, "drei" -> "3" -> supported.
- ``flip_quantifier``: a quantity or direction flipped (mehr als -> weniger als, rose -> fell,
  north -> south, before -> after, alle -> nur einige) -> contradicted.
- ``negate_clean``: ``synthetic.negate`` on sentences without double-negation or conditional traps.
- ``state_as_fact_more``: ``synthetic.state_as_fact`` plus hedging adverbs dropped -> not_found.
- ``add_phrase``: a place, time or cause put in -> not_found (``synthetic.add_person`` adds a person).
"""

from __future__ import annotations

import random
import re
from functools import lru_cache

from evals.synthetic import negate, state_as_fact
from vectorstore.text import WORD, date_mentions, fold, numbers

# --------------------------------------------------------------------------------------------------
# Word lists (function words and directions only).


def _forms(a: str, b: str, endings: tuple[str, ...] = ("", "e", "en", "er", "es", "em")) -> list[tuple[str, str]]:
    """Both directions of an adjective pair with its German endings: höher/niedriger, höhere/niedrigere …"""
    return [(a + e, b + e) for e in endings] + [(b + e, a + e) for e in endings]


def _both(*pairs: tuple[str, str]) -> list[tuple[str, str]]:
    return [p for a, b in pairs for p in ((a, b), (b, a))]


_NUM = r"(?= (?:\d+|zwei|drei|vier|fünf|sechs|sieben|acht|neun|zehn|zwölf|hundert|tausend|two|three|four|five|six|seven|eight|nine|ten|twelve|hundred|thousand|a hundred)\b)"
#: (phrase, replacement, lookahead): the phrase as a whole word, the lookahead after it.
FLIPS: dict[str, list[tuple[str, str, str]]] = {
    "de": [(a, b, "") for a, b in [
        *_both(("mehr als", "weniger als"), ("immer mehr", "immer weniger"), ("stieg", "sank"), ("stiegen", "sanken"),
               ("steigt", "sinkt"), ("steigen", "sinken"), ("gestiegen", "gesunken"), ("Anstieg", "Rückgang"),
               ("Zunahme", "Abnahme"), ("Mehrheit", "Minderheit"), ("bevor", "nachdem"), ("die meisten", "die wenigsten"),
               ("viele", "wenige"), ("vielen", "wenigen"), ("im Norden", "im Süden"), ("im Osten", "im Westen"),
               ("gewann", "verlor"), ("gewannen", "verloren")),
        ("gewonnen", "verloren"),
        *_forms("höher", "niedriger"), *_forms("größer", "kleiner"), *_forms("größt", "kleinst", ("e", "en", "er", "es", "em")),
        *_forms("höchst", "niedrigst", ("e", "en", "er", "es", "em")), *_forms("erst", "letzt", ("e", "en", "er", "es", "em")),
        *_forms("nördlich", "südlich"), *_forms("östlich", "westlich"), *_forms("später", "früher"),
        *_forms("ältest", "jüngst", ("e", "en", "er", "es", "em")),
    ]] + [("mindestens", "höchstens", _NUM), ("höchstens", "mindestens", _NUM), ("über", "unter", _NUM),
          ("unter", "über", _NUM), ("alle", "nur einige", r"(?= (?:[a-zäöüß]+ )?[A-ZÄÖÜ])")],
    "en": [(a, b, "") for a, b in [
        *_both(("more than", "less than"), ("increased", "decreased"), ("increase", "decrease"), ("increases", "decreases"),
               ("increasing", "decreasing"), ("higher", "lower"), ("largest", "smallest"), ("highest", "lowest"),
               ("longest", "shortest"), ("oldest", "youngest"), ("majority", "minority"), ("won", "lost"), ("win", "lose"),
               ("victory", "defeat"), ("north", "south"), ("east", "west"), ("northern", "southern"),
               ("eastern", "western"), ("earlier", "later"), ("the first", "the last"), ("many", "few"),
               ("the most", "the least"), ("grew", "shrank")),
        ("biggest", "smallest"), ("fewer than", "more than"), ("rose to", "fell to"), ("fell to", "rose to"),
    ]] + [("before", "after", ""), ("after", "before", ""), ("at least", "at most", _NUM), ("at most", "at least", _NUM),
          ("over", "under", _NUM), ("under", "over", _NUM), ("above", "below", ""), ("below", "above", ""),
          ("all", "only some of", r"(?= the\b)"), ("all", "only some", r"(?= [a-z]+s\b)")],
}
#: words before a flip word that make it part of an idiom ("named after", "a few", "nicht mehr als" stays)
_FLIP_BLOCK = {
    "de": r"(?:nicht|kein|keine|unendlich)",
    "en": r"(?:named|look|looked|looking|take|took|taken|go|went|shortly|soon|a|not|no|at|far|once|ever|infinitely)",
}

#: sentences where adding or dropping a negation does not simply flip what is said
NEGATION_TRAPS = {
    "de": r"\b(?:nicht nur|nicht mehr|nicht zuletzt|nicht einmal|weder|noch nie|kaum|ob|wenn|falls|sofern|ohne|außer"
          r"|wie viele|wie viel|unklar|unbekannt|fraglich)\b",
    "en": r"\b(?:not only|no longer|not even|neither|nor|whether|if|unless|hardly|without|except|only|how many|how much"
          r"|unclear|unknown)\b",
}
#: hedges that say something may be so; dropped, the claim states it as so
HEDGES = {
    "de": r"\b(?:wahrscheinlich|vermutlich|angeblich|mutmaßlich|offenbar|offenbar|voraussichtlich) ",
    "en": r"\b(?:probably|likely|allegedly|apparently|presumably|supposedly) ",
}
#: clause openers dropped at the end of a sentence (no condition: "wenn", "if" change what is said)
_TRAILING = {
    "de": r"(?:weil|obwohl|nachdem|während|bevor|da|wobei|zumal|sodass|seitdem|um|ohne)",
    "en": r"(?:although|though|while|whereas|because|since|after|before|when|including|making|becoming|leading|followed|leaving)",
}
_LEADING_EN = r"(?:Although|Though|While|After|When|Because|Since|Before|Once|Whereas)"
_RELATIVE = {"de": r"(?:der|die|das|dessen|deren|dem|den|denen|welche[rsmn]?)", "en": r"(?:which|who|whom|whose|where)"}
_CAUSE_PREFIX = {"de": r"\b(?:wegen|aufgrund|infolge|weil|da|deshalb|daher|gründen)\b",
                 "en": r"\b(?:because|due to|owing to|as a result|since|therefore|reasons?)\b"}
_CAUSE_PHRASE = {
    "de": re.compile(r"\b(?:wegen|aufgrund) (?:der|des|eines|einer|seiner|ihrer|seines|ihres) (?:[a-zäöüß]+(?:en|er|es|em|e) )?"
                     r"[A-ZÄÖÜ][a-zäöüß]{3,}(?: (?:der|des) (?:[a-zäöüß]+(?:en|er) )?[A-ZÄÖÜ][a-zäöüß]{3,})?(?=[ .,;])"),
    "en": re.compile(r"\b(?:because of|due to|owing to) (?:the|a|an|his|her|its|their) (?:[a-z]+ ){0,2}[a-z]{4,}"
                     r"(?=[.,;]| and\b| in\b| at\b| on\b)"),
}
#: causes any sentence could be given, beside those the corpus's articles use
CAUSES = {
    "de": ["wegen schlechten Wetters", "aus Geldmangel", "wegen eines Streiks", "wegen technischer Probleme",
           "aus Sicherheitsgründen", "aufgrund eines Gerichtsurteils", "wegen öffentlichen Drucks", "aus finanziellen Gründen"],
    "en": ["because of bad weather", "due to a lack of funding", "because of a strike", "due to technical problems",
           "for security reasons", "due to a court ruling", "because of public pressure", "for financial reasons"],
}
_NUMBER_WORDS = {
    "de": ["zwei", "drei", "vier", "fünf", "sechs", "sieben", "acht", "neun", "zehn", "elf", "zwölf"],
    "en": ["two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"],
}
WEEKDAY_PHRASES = {
    "de": ["am Montag", "am Dienstag", "am Mittwoch", "am Donnerstag", "am Freitag", "am Samstag", "am Sonntag"],
    "en": ["on Monday", "on Tuesday", "on Wednesday", "on Thursday", "on Friday", "on Saturday", "on Sunday"],
}
_TIME_WORDS = (r"\b(?:heute|gestern|morgen|montag|dienstag|mittwoch|donnerstag|freitag|samstag|sonntag|today|yesterday"
               r"|tomorrow|monday|tuesday|wednesday|thursday|friday|saturday|sunday|woche|week|jahr|year|monat|month)")
_YEAR = re.compile(r"\b(?:1[0-9]\d\d|20[0-2]\d)\b")


def _capital(new: str, old: str) -> str:
    return new[:1].upper() + new[1:] if old[:1].isupper() else new


def _tidy(text: str) -> str:
    text = re.sub(r"\s+([,.;:!?])", r"\1", re.sub(r"\s{2,}", " ", text)).strip()
    return text[:1].upper() + text[1:]


def _standalone(claim: str, original: str) -> str | None:
    claim = _tidy(claim)
    if claim == original or len(claim.split()) < 5 or claim[-1:] not in ".!?" or claim.count('"') % 2 \
            or claim.count("(") != claim.count(")"):
        return None
    return claim


# --------------------------------------------------------------------------------------------------
# Supported: a shorter claim the sentence still states, a figure written another way.


def sub_claim(text: str, language: str, is_name=lambda w: False, rng: random.Random | None = None) -> str | None:
    """The sentence with one optional part dropped: a parenthesis, a non-restrictive relative clause
    (German: only after a name, as German commas do not tell restrictive ones apart), or a trailing
    (English also leading) adverbial clause. Conditions ("if", "wenn") are never dropped. With ``rng``
    one of the parts that can go is chosen at random, else the first."""
    found = [c for c in (_drop_parenthesis(text), _drop_relative(text, language, is_name),
                         _drop_trailing(text, language, is_name), _drop_leading(text, language)) if c]
    if not found:
        return None
    return rng.choice(found) if rng else found[0]


def _drop_parenthesis(text: str) -> str | None:
    m = re.search(r" \([^()]{2,80}\)", text)
    return _standalone(text[: m.start()] + text[m.end() :], text) if m else None


def _drop_relative(text: str, language: str, is_name) -> str | None:
    for m in re.finditer(rf", {_RELATIVE[language]} [^,;:()\"„“]+?, ", text):
        head = text[: m.start()].split()[-1] if text[: m.start()].split() else ""
        rest = text[m.end() :]
        if "," in rest or re.match(r"(?:and|or|und|oder|sowie)\b", rest) or not rest[:1].islower():
            continue
        if language == "de" and (not is_name(head) or not re.search(r"[a-zäöüß]$", m.group(0)[:-2])):
            continue
        return _standalone(text[: m.start()] + " " + rest, text)
    return None


def _drop_trailing(text: str, language: str, is_name) -> str | None:
    rel = _RELATIVE[language]
    end = re.search(rf", (?:{rel}|{_TRAILING[language]}) [^;:()\"„“]+(?=[.!?]$)", text)
    if not end:
        return None
    head = text[: end.start()].split()[-1]
    if language == "de" and re.match(rf", {rel} ", end.group(0)) and not is_name(head):
        return None
    return _standalone(text[: end.start()] + text[-1], text)


def _drop_leading(text: str, language: str) -> str | None:
    m = re.match(rf"^{_LEADING_EN} [^,;\"()]+, (?!and\b|or\b|but\b)([a-zA-Z].+)$", text) if language == "en" else None
    return _standalone(m.group(1), text) if m else None


def number_format(text: str, language: str) -> str | None:
    """A figure written another way: thousands separators dropped (1,000 / 1.000 -> 1000), or a number
    word in digits (drei -> 3)."""
    blanked = text
    for d in date_mentions(text):
        blanked = blanked[: d.start] + "#" * (d.end - d.start) + blanked[d.end :]
    sep = "." if language == "de" else ","
    m = re.search(rf"(?<![\d.,])\d{{1,3}}(?:\{sep}\d{{3}})+(?![\d.,]\d)", blanked)
    if m:
        return text[: m.start()] + m.group(0).replace(sep, "") + text[m.end() :]
    for i, w in enumerate(_NUMBER_WORDS[language]):
        m = re.search(rf"(?<![-\w]){w}(?![-\w])", text)
        if m:
            return text[: m.start()] + str(i + 2) + text[m.end() :]
    return None


# --------------------------------------------------------------------------------------------------
# Contradicted: a direction flipped, a polarity flipped, a name replaced.


_APPROX = {
    "de": r"(?:etwa|rund|ca\.|circa|knapp|fast|beinahe|gut|über|mehr als|weniger als|mindestens|bis zu|unter|an die)",
    "en": r"(?:about|around|approximately|some|nearly|almost|roughly|over|more than|less than|fewer than|at least|up to|under|c\.)",
}


def change_figure(text: str, language: str, article: str, rng: random.Random) -> str | None:
    """One exact figure (not a date, a year, a part of a longer number or an approximate one, "etwa
    900") changed by at least 15%: to another figure of the article of a similar size when there is
    one (a bag of numbers accepts it), else to a value nearby; or a number word to another."""
    blanked = text
    for d in date_mentions(text):
        blanked = blanked[: d.start] + "#" * (d.end - d.start) + blanked[d.end :]
    figure = r"(?<![\w.,#-])(?<!\d )\d{1,3}(?![\d.,]?\d)(?! \d)(?![^\W\d_])"
    cands = [m for m in re.finditer(figure, blanked)
             if not re.search(rf"\b{_APPROX[language]} $", text[: m.start()], re.IGNORECASE)]
    if cands:
        m = cands[rng.randrange(len(cands))]
        n, here = int(m.group(0)), set(numbers(text))
        far = lambda f: abs(int(f) - n) >= max(1, 0.15 * n)  # noqa: E731
        others = sorted({f for f in re.findall(figure, article) if f not in here and n / 3 <= int(f) <= n * 3 + 3 and far(f)})
        new = rng.choice(others) if others else str(n + max(1, round(n * rng.choice([0.2, 0.3, 0.5]))) * rng.choice([1, 2]))
        return text[: m.start()] + new + text[m.end() :]
    words = _NUMBER_WORDS[language][:9]
    for i, w in enumerate(words):
        m = re.search(rf"(?<![\w-]){w}(?![\w-])", text)
        if m and not re.search(rf"\b{_APPROX[language]} $", text[: m.start()], re.IGNORECASE):
            return text[: m.start()] + words[(i + rng.randint(1, len(words) - 1)) % len(words)] + text[m.end() :]
    return None


#: an embedded question or a condition: flipping a word inside it does not contradict the sentence
QUESTION_TRAPS = r"\b(?:wie viele|wie viel|ob|wenn|falls|unklar|unbekannt|how many|how much|whether|if|unless|unclear|unknown)\b"


def flip_quantifier(text: str, language: str, rng: random.Random) -> str | None:
    """One quantity, comparison or direction word turned into its opposite (FLIPS), outside questions
    and conditions."""
    if text.endswith("?") or re.search(QUESTION_TRAPS, text, re.IGNORECASE):
        return None
    block = _FLIP_BLOCK[language]
    found = []
    for phrase, new, ahead in FLIPS[language]:
        for cased in {phrase, phrase[:1].upper() + phrase[1:]}:
            for m in re.finditer(rf"(?<![\w-]){re.escape(cased)}(?![\w-]){ahead}", text):
                if re.search(rf"\b{block} $", text[: m.start()]) or re.match(r" (?:of all|all)\b", text[m.end() :]):
                    continue
                found.append((m.start(), m.end(), _capital(new, cased)))
    if not found:
        return None
    found.sort()
    a, b, new = found[rng.randrange(len(found))]
    return text[:a] + new + text[b:]


def negate_clean(text: str, language: str) -> str | None:
    """``synthetic.negate`` where a flip is a plain contradiction: no double negation, no condition,
    no question."""
    if text.endswith("?") or re.search(NEGATION_TRAPS[language], text, re.IGNORECASE):
        return None
    return negate(text, language)


def state_as_fact_more(text: str, language: str) -> str | None:
    """``synthetic.state_as_fact``, or a hedge ("wahrscheinlich", "probably") dropped."""
    new = state_as_fact(text, language)
    if new:
        return new
    m = re.search(HEDGES[language], text)
    if m and not re.search(NEGATION_TRAPS[language], text, re.IGNORECASE):
        return _tidy(text[: m.start()] + text[m.end() :])
    return None


# --------------------------------------------------------------------------------------------------
# Not found: a detail put in that the passage does not have.


def insert_phrase(text: str, language: str, phrase: str) -> str | None:
    """``phrase`` (an adverbial: "in Graz", "am Dienstag", "because of the war") put into the sentence:
    in English before the final stop, in German before the verbs that close it (or before the stop)."""
    if not re.search(r"[\w)]\.$", text):
        return None
    body = text[:-1]
    if language == "de":
        m = re.search(r" ((?:zu )?[a-zäöüß]{4,}(?: [a-zäöüß]{4,}){0,2})$", body)
        if m and not body[: m.start()].endswith((" zu", ",")):
            return body[: m.start()] + f" {phrase} " + m.group(1) + "."
    return body + f" {phrase}."


def has_time(text: str) -> bool:
    return bool(date_mentions(text) or _YEAR.search(text) or re.search(_TIME_WORDS, text, re.IGNORECASE))


def has_cause(text: str, language: str) -> bool:
    return bool(re.search(_CAUSE_PREFIX[language], text, re.IGNORECASE))


def cause_phrases(texts: list[str], language: str) -> list[str]:
    """Cause adverbials the texts use ("wegen der Finanzkrise", "due to the drought"), sorted."""
    return sorted({m.group(0) for t in texts for m in _CAUSE_PHRASE[language].finditer(t)})


@lru_cache(maxsize=4096)
def _stems(text: str) -> frozenset[str]:
    return frozenset(fold(w)[:6] for w in WORD.findall(text) if len(w) >= 4)


def content_overlap(claim: str, passage: str) -> float:
    """Share of the claim's content words (4+ letters, folded, first 6 letters) found in the passage."""
    words = _stems(claim)
    return len(words & _stems(passage)) / len(words) if words else 0.0
