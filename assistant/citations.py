"""Stage 5, check: the model's text becomes a checked answer. Citations are data: each ``[n]`` is
mapped to the passage the model was shown as [n], and each sentence is verified against the passages
it cites (``assistant.verify``: supported, contradicted or not found, with evidence).

- A marker that points at no passage is removed (and noted).
- A sentence the cited passage does not support, but another shown passage does, is re-pointed to
  that one (small models copy the fact right and the number wrong).
- A sentence without a marker gets one only when a passage supports it.
- A sentence with a link that is not the address of a shown article is dropped.
- A contradicted sentence is dropped: the user never sees the opposite of what the passage says. In
  the answer to a yes/no question it is replaced by the passage sentence that contradicts it, quoted
  word for word, when that sentence is about the same matter: that sentence is the answer ("Hat Trump
  … ausgeschlossen?" → „Trump schloss … nicht aus …“). A sentence without a marker that no
  passage supports is dropped, and so is a bare "Yes."/"Nein.".
- A cited sentence that no passage states is kept, marked ``not_found``: it never wears the
  supported badge and does not count as support.
- No supported sentence at all: the answer is the fixed refusal phrase of the question's language.
- A question that asks for a figure, an amount in a unit or a time gets the refusal too when the
  supported sentences give none, and so does an answer that only says the question back (by rule,
  with any model).
- Supported sentences that do not answer the question (a near-topic passage: another city, another
  event) give the refusal too, when the answer model's judge says so (``Verifier.answer_judge``).
"""

from __future__ import annotations

import re

from vectorstore.language import detect_language
from vectorstore.text import (
    MARKER,
    MARKER_WITH_SPACE,
    MONTHS,
    STOPWORDS_DE,
    WORD,
    content_words,
    date_mentions,
    fold,
    marker_numbers,
    names,
    sentence_spans,
    split_sentences,
)
from vectorstore.types import Hit

from .safety import neutralize
from .types import REFUSAL, Checked, Citation, SentenceCheck
from .verify import ClaimCheck, Code, Evidence, Source, Verifier
from .verify.checks import negations, weekdays

_REFUSAL_PATTERNS = [
    re.compile(p, re.IGNORECASE)
    for p in (
        r"steht nichts in den (artikeln|auszügen)", r"nicht in den (artikeln|auszügen)", r"keine (angaben|informationen)",
        r"(articles?|excerpts?|passages?|artikel) (do|does|did)( not|n't) (say|mention|contain|state)", r"no information", r"not (mentioned|stated) in the",
    )
]


_LINK = re.compile(r"(?:https?://|www\.)[^\s<>\"'“”„»«)\]]+", re.IGNORECASE)


def foreign_links(sentence: str, passages: list[Hit]) -> list[str]:
    """Links in the sentence that are not the address of an article shown: a link in an answer is
    the cited article's own ``url`` or nothing (a hostile article can ask for its phishing link)."""
    own = {h.url.rstrip("/").lower() for h in passages if h.url}
    return [m.group(0) for m in _LINK.finditer(sentence) if m.group(0).rstrip("/.,;:").lower() not in own]


def is_refusal(text: str) -> bool:
    t = text.strip()
    return any(t.startswith(r.rstrip(".")) for r in REFUSAL.values()) or any(p.search(t) for p in _REFUSAL_PATTERNS)


QUOTE = {"de": "Im Artikel heißt es: „{}“", "en": "The article says: “{}”"}


_LEAD_IN = re.compile(r"\s+(?:und|and)\s+\w+\s*[:,]?\s*$")


def evidence_to_quote(check: ClaimCheck, sources: list[Source]) -> tuple[Evidence, str]:
    """What to quote for a claim its passage contradicts: of the evidence sentences, the one that carries
    the polarity, when polarity decided ("Trump ruled out sending US troops" is contradicted by a
    sub-headline "US-Truppen können … stationiert werden" and by "Trump schloss … nicht aus"; the second
    answers the question), as its whole sentence, unless that runs on into a quotation: then the clause
    without the "und sagte" that led into it."""
    evidence = list(check.evidence)
    polar = [e for e in evidence if negations(e.text)]
    by_polarity = Code.POLARITY in check.codes
    ev = polar[0] if polar and by_polarity else evidence[0]
    if not ev.in_title:
        text = sources[ev.source - 1].text
        for span in sentence_spans(text):
            if span.start <= ev.start and ev.end <= span.end:
                if not re.search(r"[„“”\"»«]", text[ev.end : span.end]):
                    return ev, text[span.start : span.end]
                break
    cut = ev.text.rstrip()
    return ev, cut if cut[-1:] in ".!?" else _LEAD_IN.sub("", cut)


def quote_evidence(sentence: str, language: str) -> str:
    """A passage sentence given word for word: what the user sees instead of a claim the passage
    contradicts (a yes/no question answered the wrong way round, a garbled polarity)."""
    text = " ".join(sentence.split()).strip().strip("„“”\"»«").rstrip(".!?;:")
    return QUOTE.get(language, QUOTE["en"]).format(text) + "."


_W_WORDS = frozenset(
    """wer wen wem wessen was wann wo woher wohin warum wieso weshalb weswegen wie welche welcher welches
    welchen welchem womit wofür wodurch worüber wozu who whom whose what when where why how which""".split()
)
_AUXILIARIES = frozenset(
    """did does do is are was were has have had will would can could should shall may might must
    hat haben hatte hatten ist sind war waren wird werden wurde wurden kann können konnte konnten soll
    sollen sollte sollten will wollen wollte darf dürfen durfte muss müssen musste gibt gab""".split()
)


def is_yes_no(question: str) -> bool:
    """A question asked to be answered yes or no: English opens with an auxiliary ("Did Trump …?"),
    German with its finite verb ("Hat Trump …?", "Nimmt Merz teil?"), and neither has a question word
    near its start ("Und wer war dabei?", "In welchem Jahr …?" are not)."""
    words = [w.lower() for w in WORD.findall(question)][:4]
    if not words or any(w in _W_WORDS for w in words[:3]):
        return False
    if words[0] in _AUXILIARIES:
        return True
    first = WORD.findall(question)[0]
    return detect_language(question, default="de") == "de" and first[:1].isupper() and first.lower() not in STOPWORDS_DE | {"und", "aber", "laut"}


# A question that asks for a figure ("Wie viele …?", "In which year …?") is answered only by a figure.
_ASKS_FOR_A_FIGURE = re.compile(
    r"\b(?:wie\s*viele?|wie\s+(?:hoch|lange|alt)|(?:in\s+)?welche[ms]?\s+jahr|"
    r"how\s+(?:many|much|long|old)|(?:in\s+)?(?:which|what)\s+year)\b",
    re.IGNORECASE,
)
# Words that give an amount without digits: number words, German ones also as the start of a compound
# ("Zehnfache", "dreimal"), English ones with their endings ("tenth", "hundreds"), and the vague or
# zero ones ("mehrere", "keine", "none").
_FIGURE_STEMS_DE = tuple(
    """zwei drei vier fünf sechs sieben acht neun zehn elf zwölf zwanzig dreißig vierzig fünfzig hundert
    tausend million milliard dutzend doppel halb hälfte einmal einzig mehrere einige zahlreich kein""".split()
)
_FIGURE_WORDS_EN = frozenset(
    """two three four five six seven eight nine ten eleven twelve twenty thirty forty fifty hundred
    thousand million billion dozen double twice half once single several few numerous none""".split()
)
_EN_ENDINGS = ("", "s", "th", "ths", "fold", "teen", "ty")
_ONLY_ONE = re.compile(r"\b(?:nur|lediglich|genau|only|just|exactly)\s+(?:ein|eine|einen|einem|einer|one)\b", re.IGNORECASE)


def asks_for_a_figure(question: str) -> bool:
    """How many, how much, how long, how old, which year."""
    return bool(_ASKS_FOR_A_FIGURE.search(question))


def gives_a_figure(text: str) -> bool:
    """Whether a text states an amount or a year: a digit, a number word, "nur ein"/"only one". The
    plain article ("ein", "one") does not count: "Die Ukraine braucht ein langfristiges Engagement"
    gives no number of Patriot systems."""
    text = MARKER.sub("", text)
    if any(c.isdigit() for c in text) or _ONLY_ONE.search(text):
        return True
    for word in WORD.findall(text):
        w = word.lower()
        if w.startswith(_FIGURE_STEMS_DE) or any(w.removesuffix(e) in _FIGURE_WORDS_EN for e in _EN_ENDINGS if w.endswith(e)):
            return True
    return False


# A question that asks when ("Wann …?", "Seit wann …?", "When …?", "In which month …?") is answered
# only by a time: a date, a year or another figure, a month, a weekday, a word for a span of time, or
# a clause that places it ("nach dem Krieg", "after the vote", "als er …").
_ASKS_FOR_A_TIME = re.compile(
    r"^\W*(?:\w+\s+){0,3}?(?:wann|when)\b|\b(?:(?:in|an|zu)\s+welche[mn]?\s+(?:monat|tag|zeit\w*|jahrhundert|jahrzehnt)"
    r"|(?:in|on|at)\s+(?:which|what)\s+(?:month|day|date|time|century|decade))\b",
    re.IGNORECASE,
)
_TIME_WORDS = re.compile(
    r"\b(?:heute|gestern|morgen|vorgestern|übermorgen|bald|damals|früher|später|zuvor|zuletzt|derzeit|jetzt|nun"
    r"|today|yesterday|tomorrow|soon|earlier|later|previously|recently|currently|now|ago"
    r"|nach|vor|seit|während|bis|ab|nachdem|bevor|ehe|sobald|gleichzeitig"
    r"|after|before|since|during|until|till|when|while|by\s+the\s+time)\b"
    r"|\w*(?:jahr|jahre|jahren|jahres|jahrhundert\w*|jahrzehnt\w*|monat\w*|woche\w*|morgen|abend\w*|nacht)\b"
    r"|\b(?:tag|tage|tagen|tages|stunde|stunden|zeit|zeiten|frühling\w*|sommer\w*|herbst\w*|winter\w*|ära|epoche\w*"
    r"|periode\w*|year|years|century|centuries|decade|decades|month|months|week|weeks|day|days|hour|hours|time|times"
    r"|morning|evening|night|spring|summer|autumn|fall|winter|era|period|age)\b",
    re.IGNORECASE,
)


def asks_for_a_time(question: str) -> bool:
    """When, since when, in which month or century."""
    return bool(_ASKS_FOR_A_TIME.search(question))


def gives_a_time(text: str) -> bool:
    """Whether a text places something in time (see ``_ASKS_FOR_A_TIME``)."""
    text = MARKER.sub("", text)
    return (gives_a_figure(text) or bool(date_mentions(text)) or bool(_TIME_WORDS.search(text))
            or any(w.lower().rstrip(".") in MONTHS or weekdays(w) for w in WORD.findall(text)))


# A question for an amount in a unit ("Wie viele Quadratkilometer …?", "How many tons …?") is answered
# only by that unit: "30,6 Prozent der Landfläche" does not say how many square kilometres.
_UNITS = [
    (("quadratkilomet", "square kilomet", "square km"), ("quadratkilomet", "square kilomet", "km²", "km2", "sq km")),
    (("quadratmeil", "square mile"), ("quadratmeil", "square mile", "sq mi", "mi²")),
    (("hektar", "hectare"), ("hektar", "hectare", "ha")),
    (("kilomet",), ("kilomet", "km")),
    (("meile", "mile"), ("meile", "mile", "mi")),
    (("prozent", "percent", "per cent"), ("prozent", "percent", "per cent", "%")),
    (("tonne", "tons"), ("tonne", "tons", "ton", "t")),
    (("kilogram",), ("kilogram", "kg")),
    (("sekunde", "second"), ("sekunde", "second", "sek", "sec", "s")),
    (("minute",), ("minute", "min")),
    (("stunde", "hour"), ("stunde", "hour", "std", "h")),
    (("euro",), ("euro", "€", "eur")),
    (("dollar",), ("dollar", "$", "usd")),
]
_ASKED_UNIT = re.compile(r"\b(?:wie\s*viele?|how\s+(?:many|much))\s+(\w+(?:\s+\w+)?)", re.IGNORECASE)


def asked_unit(question: str) -> tuple[str, ...] | None:
    """The spellings of the unit a question asks an amount in, or None."""
    m = _ASKED_UNIT.search(question)
    if not m:
        return None
    asked = fold(m.group(1))
    return next((forms for heads, forms in _UNITS if asked.startswith(heads)), None)


def gives_unit(text: str, forms: tuple[str, ...]) -> bool:
    """Whether the text names one of the unit's spellings: a word by its start ("Quadratkilometern"),
    an abbreviation or symbol only next to a figure ("5.500.000 km²", "12 %", "$5"), so that the "s"
    of "Trump's" is no second."""
    folded = fold(MARKER.sub("", text))
    for form in forms:
        f = re.escape(form)
        if len(form) > 3 and form.replace(" ", "").isalpha():
            if re.search(rf"\b{f}", folded):
                return True
        elif re.search(rf"\d\s*{f}(?![^\W\d_])|(?<![^\W\d_]){f}\s*\d", folded):
            return True
    return False


# An answer that only says the question back ("Bei wem steht die Architektur … unter Denkmalschutz?" →
# "Die Architektur … steht seit 1954 unter Denkmalschutz.") gives nothing that was asked. Yes/no and
# either-or questions are exempt: there the answer is the question's own statement or one of its items.
# a question that offers a choice, which an answer of its own words makes ("which law takes precedence,
# if there is a conflict between EU law and national law?" - "EU law takes precedence")
_EITHER_OR = re.compile(r"\b(?:oder|or|entweder|either)\b|\b(?:zwischen|between)\b.+\b(?:und|and)\b", re.IGNORECASE)


def _stems(text: str) -> list[str]:
    text = MARKER.sub("", text)
    return [fold(w) for w in content_words(text, 3) if w.lower() not in _W_WORDS] + re.findall(r"\d+", text)


def restates_question(question: str, text: str) -> bool:
    """Whether every content word and figure of the text is the question's (compounds and endings
    aside), and the text repeats most of the question: an answer that adds nothing. A shorter answer
    made of the question's words ("EU-Recht hat Vorrang" for "Welches Recht hat Vorrang, … zwischen
    EU-Recht und nationalem Recht …?") picks something and is not a restatement."""
    if not question or is_yes_no(question) or _EITHER_OR.search(question):
        return False
    asked, said = _stems(question), _stems(text)

    def within(word: str, others: list[str]) -> bool:
        # "needs" is the question's "need": a stem of four letters is enough when one word starts the other
        return any(
            word[:5] == o[:5] or (len(o) >= 5 and o in word) or (len(word) >= 5 and word in o)
            or (min(len(word), len(o)) >= 4 and (word.startswith(o) or o.startswith(word)))
            for o in others
        )

    if not all(within(w, asked) for w in said):
        return False
    return sum(within(w, said) for w in asked) >= 0.75 * max(1, len(asked))


def _same_matter(claim: str, check: ClaimCheck, verifier: Verifier) -> bool:
    """Whether the contradicting sentence is about what the claim is about (nearly as similar as
    support needs, most of the claim's names in it), so that quoting it answers the question instead
    of changing the subject."""
    evidence = fold(check.evidence[0].text)
    found = [n for n in names(claim) if fold(n)[:5] in evidence]
    return check.similarity >= verifier.settings.same_matter_similarity and 2 * len(found) >= len(names(claim))


def sources_of(passages: list[Hit], whole: list[str] | None = None) -> list[Source]:
    """What claims are checked against: the passages as the model saw them (sentences that address
    the model are masked and never count as evidence, in the text or the title), with their header date and title, and the
    whole article each was taken from (``whole``), where the names a question asks about are looked for."""
    whole = whole or [""] * len(passages)
    return [Source(neutralize(h.text), neutralize(h.title), h.date, neutralize(w) if w else "") for h, w in zip(passages, whole)]


def check_answer(
    raw: str, passages: list[Hit], language: str, verifier: Verifier, question: str = "",
    evidence_passages: list[int] | None = None, whole: list[str] | None = None,
) -> Checked:
    """Turn the model's text into a checked answer (see module docstring). ``evidence_passages``:
    the passages of the sentences an evidence-first reply chose, where a sentence without a marker is
    looked for first. ``whole``: each passage's whole article text."""
    notes: list[str] = []
    text = re.sub(r"^\s*(antwort|answer)\s*:\s*", "", raw.strip(), flags=re.IGNORECASE)
    sources = sources_of(passages, whole)
    everything = list(range(1, len(passages) + 1))
    kept: list[tuple[SentenceCheck, ClaimCheck]] = []
    refusal_seen = False
    for sent in split_sentences(text):
        cited = [n for m in MARKER.finditer(sent) for n in marker_numbers(m)]
        body = re.sub(r"\s+([.!?,;:])", r"\1", MARKER_WITH_SPACE.sub("", sent)).strip()
        if not body or not re.search(r"\w", body):
            continue
        if is_refusal(body):
            refusal_seen = True
            continue
        links = foreign_links(body, passages)
        if links:
            notes.append(f"dropped a sentence carrying a link that is no cited article's address: {links[0][:80]!r}")
            continue
        valid = []
        for n in dict.fromkeys(cited):
            if 1 <= n <= len(passages):
                valid.append(n)
            else:
                notes.append(f"removed citation [{n}]: it points at no passage")
        if not valid:
            check = None
            if evidence_passages:
                check = verifier.check(body, sources, evidence_passages, language=language, question=question)
            if check is None or not check.supported:
                check = verifier.check(body, sources, everything, language=language, question=question)
            if check.supported:
                valid = [check.evidence[0].source]
                notes.append(f"added citation [{valid[0]}] to an uncited sentence after checking it")
            else:
                # Every claim shown carries a checked citation; a sentence no passage carries is dropped.
                notes.append(f"dropped a sentence that no passage supports: {body[:60]!r}")
                continue
        else:
            check = verifier.check(body, sources, valid, language=language, question=question)
            others = [n for n in everything if n not in valid]
            # A sentence its cited passage contradicts is not moved to another passage that states
            # it: the passages disagree, and the one the model read says otherwise (a hostile article
            # asserting the opposite of the news was how a false "Ja, … ausgeschlossen" got through).
            if not check.supported and check.verdict != "contradicted" and check.evidence and others:
                alt = verifier.check(body, sources, others, language=language, question=question)
                if alt.supported:
                    notes.append(
                        f"corrected citation {''.join(f'[{n}]' for n in valid)} to [{alt.evidence[0].source}]: "
                        f"the cited passage does not state the sentence, [{alt.evidence[0].source}] does"
                    )
                    check, valid = alt, [alt.evidence[0].source]
        if not check.evidence:  # "Ja.", "Yes, he did.", a sentence that breaks off — nothing to check or show
            why = check.reasons[0] if check.reasons else "the sentence states nothing to check"
            notes.append(f"dropped a sentence with nothing to check ({why}): {body[:60]!r}")
            continue
        if check.verdict == "contradicted" and not (is_yes_no(question) and _same_matter(body, check, verifier)):
            notes.append(
                f"dropped a sentence the passage contradicts: {body[:60]!r} ({'; '.join(check.reasons)}; "
                f"the passage says: {check.evidence[0].text[:120]!r})"
            )
            continue
        if check.verdict == "contradicted":
            ev, words = evidence_to_quote(check, sources)
            notes.append(
                f"replaced a sentence the passage contradicts by what the passage says: {body[:60]!r} "
                f"({'; '.join(check.reasons)})"
            )
            quote = quote_evidence(words, language)
            check = ClaimCheck(quote, "supported", (ev,), similarity=1.0)
            kept.append((SentenceCheck(text=quote, citations=(ev.source,), verdict="supported", evidence=(words,)), check))
            continue
        kept.append((SentenceCheck(
            text=body, citations=tuple(valid), verdict=check.verdict, missing=check.reasons,
            evidence=tuple(e.text for e in check.evidence),
        ), check))
    sentences = [s for s, _ in kept]
    grounded = any(s.verdict == "supported" for s in sentences)
    if not grounded:
        if sentences and not refusal_seen:
            why = "; ".join(f"{s.text[:50]!r}: {', '.join(s.missing) or s.verdict}" for s in sentences)
            notes.append(f"no sentence of the model's answer could be verified against the passages ({why})")
        return Checked(REFUSAL.get(language, REFUSAL["en"]), [], [], False, True, notes)
    supported_text = " ".join(s.text for s in sentences if s.verdict == "supported")
    if question and asks_for_a_figure(question) and not gives_a_figure(supported_text):
        notes.append(f"refused: the question asks for a figure and the supported sentences give none: {supported_text[:120]!r}")
        return Checked(REFUSAL.get(language, REFUSAL["en"]), [], [], False, True, notes)
    unit = asked_unit(question) if question else None
    if unit and not gives_unit(supported_text, unit):
        notes.append(f"refused: the question asks for an amount in {unit[0]}… and the supported sentences give none: "
                     f"{supported_text[:120]!r}")
        return Checked(REFUSAL.get(language, REFUSAL["en"]), [], [], False, True, notes)
    if question and asks_for_a_time(question) and not gives_a_time(supported_text):
        notes.append(f"refused: the question asks when and the supported sentences give no time: {supported_text[:120]!r}")
        return Checked(REFUSAL.get(language, REFUSAL["en"]), [], [], False, True, notes)
    if restates_question(question, supported_text):
        notes.append(f"refused: the supported sentences only say the question back: {supported_text[:120]!r}")
        return Checked(REFUSAL.get(language, REFUSAL["en"]), [], [], False, True, notes)
    answers = answers_question(question, kept, verifier)
    if answers is not None:
        notes.append(f"P(the answer answers the question) {answers:.3f}")
        if answers < verifier.min_answer:
            notes.append(
                f"refused: the supported sentences do not answer the question (the model's P {answers:.2f} < "
                f"{verifier.min_answer}): {' '.join(s.text for s in sentences)[:120]!r}"
            )
            return Checked(REFUSAL.get(language, REFUSAL["en"]), [], [], False, True, notes)
    parts = []
    for s in sentences:
        marks = "".join(f"[{n}]" for n in s.citations)
        body = s.text
        parts.append(body[:-1] + f" {marks}" + body[-1] if body[-1:] in ".!?" else f"{body} {marks}")
    return Checked(" ".join(parts), _citations(kept, passages), sentences, True, False, notes)


def answers_question(question: str, kept: list[tuple[SentenceCheck, ClaimCheck]], verifier: Verifier) -> float | None:
    """The model's P(yes) that the supported sentences, with the passage sentences they rest on, give
    what the question asks (``AnswerJudge``); None without a question or a judge."""
    supported = [s for s, _ in kept if s.verdict == "supported"]
    if not question or verifier.answer_judge is None or not supported:
        return None
    answer = " ".join(s.text for s in supported)
    evidence = " ".join(dict.fromkeys(e for s in supported for e in s.evidence))
    return verifier.answer_judge(question, evidence, answer)


def _citations(kept: list[tuple[SentenceCheck, ClaimCheck]], passages: list[Hit]) -> list[Citation]:
    """One citation per cited passage; its support span is the evidence sentence of the first
    supported claim that cites it, found in the passage as shown to the user."""
    out: list[Citation] = []
    for n in sorted({n for s, _ in kept for n in s.citations}):
        h = passages[n - 1]
        span = None
        for s, check in kept:
            if n in s.citations and check.supported:
                ev = next((e for e in check.evidence if e.source == n), None)
                at = h.text.find(ev.text) if ev else -1
                if at >= 0:
                    span = (at, at + len(ev.text))
                    break
        c = h.chunk
        out.append(Citation(
            number=n, chunk_id=c.id, article_id=c.article_id, title=h.title, date=h.date, source=h.source, url=h.url,
            passage=h.text, start=c.start, end=c.end,
            support_start=span[0] if span else None, support_end=span[1] if span else None,
        ))
    return out
