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
from dataclasses import dataclass, field

from vectorstore.language import detect_language
from vectorstore.text import (
    MARKER,
    MARKER_WITH_SPACE,
    fold,
    marker_numbers,
    names,
    sentence_spans,
    split_sentences,
)
from vectorstore.types import Hit

from ..types import REFUSAL, Checked, Citation, SentenceCheck
from ..verify import ClaimCheck, Code, Evidence, Source, Verifier
from ..verify.checks import negations
from ..verify.question import question_fit
from .safety import neutralize
from .yesno import is_yes_no

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


@dataclass
class _Run:
    """What checking one answer shares: the passages as sources, the question, and the notes."""

    passages: list[Hit]
    sources: list[Source]
    language: str
    verifier: Verifier
    question: str
    evidence_passages: list[int] | None
    notes: list[str] = field(default_factory=list)

    def check(self, body: str, cited: list[int] | None) -> ClaimCheck:
        return self.verifier.check(body, self.sources, cited, language=self.language, question=self.question)


def check_answer(
    raw: str, passages: list[Hit], language: str, verifier: Verifier, question: str = "",
    evidence_passages: list[int] | None = None, whole: list[str] | None = None,
) -> Checked:
    """Turn the model's text into a checked answer (see module docstring). ``evidence_passages``:
    the passages of the sentences an evidence-first reply chose, where a sentence without a marker is
    looked for first. ``whole``: each passage's whole article text."""
    run = _Run(passages, sources_of(passages, whole), language, verifier, question, evidence_passages)
    text = re.sub(r"^\s*(antwort|answer)\s*:\s*", "", raw.strip(), flags=re.IGNORECASE)
    kept: list[tuple[SentenceCheck, ClaimCheck]] = []
    refusal_seen = False
    for sent in split_sentences(text):
        body = re.sub(r"\s+([.!?,;:])", r"\1", MARKER_WITH_SPACE.sub("", sent)).strip()
        if not body or not re.search(r"\w", body):
            continue
        if is_refusal(body):
            refusal_seen = True
            continue
        got = _check_sentence(run, body, [n for m in MARKER.finditer(sent) for n in marker_numbers(m)])
        if got:
            kept.append(got)
    return _decide(run, kept, refusal_seen, whole)


def _cited(run: _Run, body: str, cited: list[int]) -> tuple[list[int], ClaimCheck | None]:
    """The valid citations of a sentence and its check: an uncited sentence is cited where a passage
    supports it; a sentence its cited passage does not state is re-pointed to one that does, unless
    the cited one contradicts it (a hostile article must not rescue it). None: drop the sentence."""
    everything = list(range(1, len(run.passages) + 1))
    valid = []
    for n in dict.fromkeys(cited):
        if 1 <= n <= len(run.passages):
            valid.append(n)
        else:
            run.notes.append(f"removed citation [{n}]: it points at no passage")
    if not valid:
        check = run.check(body, run.evidence_passages) if run.evidence_passages else None
        if check is None or not check.supported:
            check = run.check(body, everything)
        if not check.supported:
            run.notes.append(f"dropped a sentence that no passage supports: {body[:60]!r}")
            return [], None
        run.notes.append(f"added citation [{check.evidence[0].source}] to an uncited sentence after checking it")
        return [check.evidence[0].source], check
    check = run.check(body, valid)
    others = [n for n in everything if n not in valid]
    if not check.supported and check.verdict != "contradicted" and check.evidence and others:
        alt = run.check(body, others)
        if alt.supported:
            run.notes.append(f"corrected citation {''.join(f'[{n}]' for n in valid)} to [{alt.evidence[0].source}]: "
                             f"the cited passage does not state the sentence, [{alt.evidence[0].source}] does")
            return [alt.evidence[0].source], alt
    return valid, check


def _check_sentence(run: _Run, body: str, cited: list[int]) -> tuple[SentenceCheck, ClaimCheck] | None:
    """One sentence of the answer, checked; None when it is dropped (with a note why)."""
    links = foreign_links(body, run.passages)
    if links:
        run.notes.append(f"dropped a sentence carrying a link that is no cited article's address: {links[0][:80]!r}")
        return None
    valid, check = _cited(run, body, cited)
    if check is None:
        return None
    if not check.evidence:  # "Ja.", "Yes, he did.", a sentence that breaks off — nothing to check or show
        run.notes.append(f"dropped a sentence with nothing to check ({'; '.join(check.reasons)}): {body[:60]!r}")
        return None
    reasons = "; ".join(check.reasons)
    if check.verdict == "contradicted" and not (is_yes_no(run.question, run.language) and _same_matter(body, check, run.verifier)):
        run.notes.append(f"dropped a sentence the passage contradicts: {body[:60]!r} ({reasons}; "
                         f"the passage says: {check.evidence[0].text[:120]!r})")
        return None
    if check.verdict == "contradicted":
        ev, words = evidence_to_quote(check, run.sources)
        run.notes.append(f"replaced a sentence the passage contradicts by what the passage says: {body[:60]!r} ({reasons})")
        quote = quote_evidence(words, run.language)
        return (SentenceCheck(text=quote, citations=(ev.source,), verdict="supported", evidence=(words,)),
                ClaimCheck(quote, "supported", (ev,), similarity=1.0))
    return SentenceCheck(text=body, citations=tuple(valid), verdict=check.verdict, missing=check.reasons,
                         evidence=tuple(e.text for e in check.evidence)), check


def _decide(run: _Run, kept: list[tuple[SentenceCheck, ClaimCheck]], refusal_seen: bool, whole: list[str] | None) -> Checked:
    """The answer from its checked sentences: the refusal without a supported sentence that gives
    what the question asks (``verify.question``, then the answer model's judgement)."""
    sentences = [s for s, _ in kept]
    refuse = Checked(REFUSAL.get(run.language, REFUSAL["en"]), [], [], False, True, run.notes)
    if not any(s.verdict == "supported" for s in sentences):
        if sentences and not refusal_seen:
            why = "; ".join(f"{s.text[:50]!r}: {', '.join(s.missing) or s.verdict}" for s in sentences)
            run.notes.append(f"no sentence of the model's answer could be verified against the passages ({why})")
        return refuse
    supported_text = " ".join(s.text for s in sentences if s.verdict == "supported")
    cited = sorted({n for s in sentences if s.verdict == "supported" for n in s.citations})
    articles = " ".join((whole[n - 1] if whole and whole[n - 1] else run.passages[n - 1].text) for n in cited)
    fit = question_fit(run.question, supported_text, articles, detect_language(articles or supported_text),
                       run.verifier.translated, question_language=run.language,
                       yes_no=is_yes_no(run.question, run.language))
    if fit:
        run.notes.append(f"refused: {'; '.join(f.describe() for f in fit)}: {supported_text[:120]!r}")
        return refuse
    answers = answers_question(run.question, kept, run.verifier)
    if answers is not None:
        run.notes.append(f"P(the answer answers the question) {answers:.3f}")
        if answers < run.verifier.min_answer:
            run.notes.append(f"refused: the supported sentences do not answer the question (the model's P {answers:.2f} "
                             f"< {run.verifier.min_answer}): {supported_text[:120]!r}")
            return refuse
    parts = []
    for s in sentences:
        marks = "".join(f"[{n}]" for n in s.citations)
        parts.append(s.text[:-1] + f" {marks}" + s.text[-1] if s.text[-1:] in ".!?" else f"{s.text} {marks}")
    return Checked(" ".join(parts), citations_of(kept, run.passages), sentences, True, False, run.notes)


def answers_question(question: str, kept: list[tuple[SentenceCheck, ClaimCheck]], verifier: Verifier) -> float | None:
    """The model's P(yes) that the supported sentences, with the passage sentences they rest on, give
    what the question asks (``AnswerJudge``); None without a question or a judge."""
    supported = [s for s, _ in kept if s.verdict == "supported"]
    if not question or verifier.answer_judge is None or not supported:
        return None
    answer = " ".join(s.text for s in supported)
    evidence = " ".join(dict.fromkeys(e for s in supported for e in s.evidence))
    return verifier.answer_judge(question, evidence, answer)


def citations_of(kept: list[tuple[SentenceCheck, ClaimCheck]], passages: list[Hit]) -> list[Citation]:
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
