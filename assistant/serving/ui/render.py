"""Pure functions from our types to the HTML the UI shows, each rendering one template of
``templates/``. Autoescape is on for every template, so article and model text is escaped wherever
it lands; Python prepares plain values and passes only rendered sub-templates as ``Markup``."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlparse

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from jinja2.ext import Extension
from jinja2.lexer import Token, TokenStream
from markupsafe import Markup, escape

from vectorstore.text import MARKER_WITH_SPACE, marker_numbers
from vectorstore.types import Hit

from ...types import Answer, Citation, SentenceCheck


def esc(value: object) -> str:
    """HTML-escape anything (None -> empty), quotes included, so it is safe in text and attributes."""
    return str(escape("" if value is None else value))


def safe_url(url: str | None) -> str | None:
    """The URL if it is an absolute http(s) link, else None (no javascript:, data: or relative links)."""
    if not url:
        return None
    try:
        parsed = urlparse(url.strip())
    except ValueError:
        return None
    if parsed.scheme.lower() not in ("http", "https") or not parsed.netloc:
        return None
    return url.strip()


def as_sentence(msg: str) -> str:
    """A message as a sentence: trimmed, first letter upper case."""
    msg = msg.strip()
    return (msg[:1].upper() + msg[1:]) if msg else msg


# =================================================================================================
# The template environment


class _DropLineBreaks(Extension):
    """Line breaks in the templates are for their reader: a break with the white space around it
    vanishes, except inside running text ("word<break>word"), where it is one space. Only the
    templates' own text is touched, never the values put into it."""

    _BREAK = re.compile(r"\s*\n\s*")

    def filter_stream(self, stream: TokenStream) -> Iterable[Token]:
        for token in stream:
            if token.type == "data":
                token = Token(token.lineno, "data", self._BREAK.sub(self._join, token.value))
            yield token

    @staticmethod
    def _join(m: re.Match) -> str:
        text = m.string
        before, after = text[m.start() - 1 : m.start()], text[m.end() : m.end() + 1]
        return "" if before in ("", ">") or after in ("", "<") else " "


def _nl2br(value: object) -> Markup:
    """Escaped text with its line breaks kept."""
    return escape("" if value is None else value).replace("\n", Markup("<br>"))


def plural(n: int, noun: str) -> str:
    """``3|plural("source")`` -> "3 sources"."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _host(url: str) -> str:
    host = urlparse(url).netloc
    return host[4:] if host.startswith("www.") else host


def _shorten(text: str, limit: int) -> str:
    """At most ``limit`` characters, cut at a word, with an ellipsis."""
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + " …"


#: The UI's templates: every one autoescapes, and a name missing from a render call is an error.
TEMPLATES = Environment(
    loader=PackageLoader("assistant.serving.ui", "templates"),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=True, default=True),
    undefined=StrictUndefined,
    finalize=lambda value: "" if value is None else value,  # None shows as nothing, as esc() does
    extensions=[_DropLineBreaks],
)
TEMPLATES.filters.update(nl2br=_nl2br, plural=plural, host=_host, shorten=_shorten, sentence=as_sentence)
TEMPLATES.globals.update(safe_url=safe_url)


def render_template(name: str, **values: object) -> str:
    return TEMPLATES.get_template(name).render(**values)


def _inner(name: str, **values: object) -> Markup:
    """A rendered template, to be placed inside another one (it is escaped already)."""
    return Markup(render_template(name, **values))


# =================================================================================================
# Pieces of an answer


def passage_html(text: str, start: int | None = None, end: int | None = None) -> str:
    """The passage, escaped, with ``text[start:end]`` (the supporting words) highlighted."""
    return str(TEMPLATES.get_template("macros.html").module.passage(text, start, end))


def marker_parts(text: str) -> list[str | int]:
    """``text`` cut at its ``[n]`` markers: the text between them and each marker's numbers.
    A marker takes the white space before it (the button stands right after the word)."""
    parts: list[str | int] = []
    pos = 0
    for m in MARKER_WITH_SPACE.finditer(text):
        parts.append(text[pos : m.start()])
        parts.extend(marker_numbers(m))
        pos = m.end()
    parts.append(text[pos:])
    return parts


def align_sentences(text: str, sentences: list[SentenceCheck]) -> list[tuple[str, SentenceCheck | None]] | None:
    """Split ``text`` into segments, each the span of one checked sentence (its markers included) or
    the plain text between them. None when a sentence cannot be found in the text."""
    stripped, index = [], []
    pos = 0
    for m in MARKER_WITH_SPACE.finditer(text):
        for i in range(pos, m.start()):
            stripped.append(text[i])
            index.append(i)
        pos = m.end()
    for i in range(pos, len(text)):
        stripped.append(text[i])
        index.append(i)
    plain = "".join(stripped)
    segments: list[tuple[str, SentenceCheck | None]] = []
    cursor_plain, cursor = 0, 0
    for s in sentences:
        if not s.text:
            continue
        p = plain.find(s.text, cursor_plain)
        if p < 0:
            return None
        start, end = index[p], index[p + len(s.text) - 1] + 1
        trailing = MARKER_WITH_SPACE.match(text, end)  # markers after the sentence's full stop belong to it
        while trailing:
            end = trailing.end()
            trailing = MARKER_WITH_SPACE.match(text, end)
        if start > cursor:
            segments.append((text[cursor:start], None))
        segments.append((text[start:end], s))
        cursor, cursor_plain = end, p + len(s.text)
    if cursor < len(text):
        segments.append((text[cursor:], None))
    return segments


def _rebuild_from_sentences(sentences: list[SentenceCheck]) -> list[tuple[str, SentenceCheck | None]]:
    segs: list[tuple[str, SentenceCheck | None]] = []
    for i, s in enumerate(sentences):
        marks = "".join(f"[{n}]" for n in s.citations)
        body = s.text
        if marks:
            body = f"{body[:-1]} {marks}{body[-1]}" if body[-1:] in ".!?" else f"{body} {marks}"
        if i:
            segs.append((" ", None))
        segs.append((body, s))
    return segs


@dataclass(frozen=True)
class _Segment:
    """A piece of the answer text as the template shows it: its text and markers, and for a
    sentence the checks did not find supported, the verdict and why."""

    parts: list[str | int]
    verdict: str = ""  # "" for supported sentences and the text between sentences
    why: str = ""


def _segments(answer: Answer) -> list[_Segment]:
    """The answer text by sentence. Any verdict but "supported" is flagged, so a new kind of
    verdict can never pass as supported."""
    segments = align_sentences(answer.text, answer.sentences) if answer.sentences else None
    if segments is None:
        segments = _rebuild_from_sentences(answer.sentences) if answer.sentences else [(answer.text, None)]
    out = []
    for text, s in segments:
        if s is None or s.verdict == "supported":
            out.append(_Segment(marker_parts(text)))
            continue
        why = "The cited passage does not support this sentence"
        if s.missing:
            why += " (not found there: " + ", ".join(s.missing) + ")"
        out.append(_Segment(marker_parts(text), s.verdict, why))
    return out


def _details(a: Answer) -> list[tuple[str, str]]:
    """How the answer was made: the question as searched, the checks' notes, timings, prompt."""
    rows = []
    if a.standalone_question and a.standalone_question != a.question:
        rows.append(("Searched for", a.standalone_question))
    rows += [("Check", note) for note in a.notes]
    timings = ", ".join(f"{k.removesuffix('_s').replace('_', ' ')} {v:.2f} s" for k, v in a.timings.items() if k.endswith("_s"))
    if timings:
        rows.append(("Timings", timings))
    if "prompt_tokens" in a.timings:
        rows.append(("Prompt tokens", f"{a.timings['prompt_tokens']:.0f}, of which {a.timings['new_prompt_tokens']:.0f} new (not cached)"))
    if a.prompt_id:
        rows.append(("Prompt", a.prompt_id))
    return rows


_ABSTAIN_HINT = {
    "de": "Keine passende Stelle in den Artikeln gefunden. Formulieren Sie die Frage um oder fügen Sie Artikel hinzu.",
    "en": "No passage of the indexed articles answers this. Try rephrasing, or add articles in the Articles tab.",
}


#: The small print under a follow-up's answer, in the question's language: how it was understood.
_UNDERSTOOD_AS = {"de": "Verstanden als", "en": "Understood as"}


def _understood(a: Answer) -> str:
    """The question as it was searched, when that is not what the user typed (a rewritten follow-up),
    so that a reader sees what the answer answers; empty otherwise."""
    standalone = (a.standalone_question or "").strip()
    return standalone if standalone and standalone != a.question.strip() else ""


@dataclass
class _Claim:
    """One checked sentence of the answer and the passage sentence its verdict rests on, shown under
    the answer so a reader can compare the two."""

    verdict: str
    citations: tuple[int, ...]
    evidence: str


def _claims(a: Answer) -> list[_Claim]:
    return [_Claim(s.verdict, s.citations, s.evidence[0]) for s in a.sentences if s.evidence]


def _answer_values(a: Answer, turn: int) -> dict:
    total = a.timings.get("total_s")
    return dict(
        a=a,
        turn=turn,
        segments=_segments(a) if not (a.error or a.abstained) else [],
        claims=_claims(a) if not (a.error or a.abstained) else [],
        cites={c.number: c for c in a.citations},
        flagged=sum(1 for s in a.sentences if s.verdict != "supported"),
        abstain_hint=_ABSTAIN_HINT["de" if a.language == "de" else "en"],
        total=f"{total:.1f} s" if total is not None else "",
        details=_details(a),
        understood=_understood(a),
        understood_label=_UNDERSTOOD_AS["de" if a.language == "de" else "en"],
    )


def answer_html(a: Answer, turn: int) -> str:
    """A finished answer: normal, abstention or LLM failure (with the passages found anyway)."""
    return render_template("answer.html", **_answer_values(a, turn))


# =================================================================================================
# The conversation and its sources


@dataclass
class Exchange:
    """One question of a session's conversation and what became of it."""

    question: str
    status: Literal["queued", "searching", "writing", "checking", "done", "failed", "stopped"] = "queued"
    draft: str = ""  # the model's text so far, while it writes
    passages: list[Hit] = field(default_factory=list)
    best: list[tuple[int, int] | None] = field(default_factory=list)  # per passage, the sentence closest to the question
    answer: Answer | None = None
    error: str | None = None  # one line, for a question that could not be answered at all
    error_kind: str = ""

    @property
    def finished(self) -> bool:
        return self.status in ("done", "failed", "stopped")


_ERROR_TEXT = {
    "QuestionError": ("Please check the question", "Change the question or the search settings and ask again."),
    "EmptyIndexError": ("No articles yet", "Add articles in the Articles tab, then ask again."),
    "StoreUnavailableError": ("The article index is unavailable", "Check that the index (or the Chroma server) is reachable, then ask again."),
    "IndexMismatchError": ("The index does not match the embedding model", "Rebuild the index or configure the matching embedding model."),
    "LLMUnavailableError": ("The language model is unavailable", "Check the model back end, then ask again."),
    "ModelError": ("A model could not be loaded", "Check the model settings and files, then restart."),
}
_UNKNOWN_ERROR = ("Something went wrong", "The app is still running; please try again.")


def _exchange_values(ex: Exchange, turn: int) -> dict:
    finished = ex.status == "done" and ex.answer is not None
    title, hint = _ERROR_TEXT.get(ex.error_kind, _UNKNOWN_ERROR)
    return dict(
        ex=ex,
        turn=turn,
        draft=marker_parts(ex.draft),
        answer=_inner("answer.html", **_answer_values(ex.answer, turn)) if finished else "",
        error_title=title,
        error_hint=hint,
    )


def exchange_html(ex: Exchange, turn: int) -> str:
    """One question and its answer (or its progress, abstention or error)."""
    return render_template("exchange.html", **_exchange_values(ex, turn))


def conversation_html(exchanges: list[Exchange]) -> str:
    """The whole conversation of one session."""
    turns = [_inner("exchange.html", **_exchange_values(ex, i)) for i, ex in enumerate(exchanges, 1)]
    return render_template("conversation.html", turns=turns)


_WAITING = {"queued": "Waiting for a free answer slot…", "searching": "Searching the articles…"}


@dataclass(frozen=True)
class _Card:
    """One passage of the sources panel: its number, the citation that points at it, open or folded,
    and its sentence closest to the question (highlighted until a citation says what supports it)."""

    number: int
    hit: Hit
    citation: Citation | None
    open: bool
    best: tuple[int, int] | None = None

    @property
    def snippet(self) -> str:
        """What the folded card shows: the closest sentence, else the passage's start."""
        return self.hit.text[self.best[0] : self.best[1]] if self.best else self.hit.text


def sources_html(ex: Exchange | None) -> str:
    """The passages behind the last answer: cited ones first marked and open, supporting words highlighted."""
    if ex is None:
        return render_template("sources.html", empty="The passages used for an answer appear here.")
    a = ex.answer
    passages = a.passages if a is not None else ex.passages
    if not passages:
        empty = _WAITING.get(ex.status, "No passages were found for this question.")
        return render_template("sources.html", empty=empty)
    cited = {c.chunk_id: c for c in (a.citations if a else [])}
    show_all = a is not None and bool(a.error)
    best = ex.best if len(ex.best) == len(passages) else [None] * len(passages)
    cards = [
        _Card(i, h, cited.get(h.chunk.id), bool(h.chunk.id in cited or show_all or (not cited and i == 1)), b)
        for (i, h), b in zip(enumerate(passages, 1), best)
    ]
    counts = plural(len(passages), "passage")
    if a and not a.error and not a.abstained:
        counts += f" · {sum(1 for c in cards if c.citation)} cited"
    heading = "Closest passages" if a is not None and a.abstained else "Sources"
    return render_template("sources.html", cards=cards, empty="", heading=heading, counts=counts)
