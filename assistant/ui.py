"""The web UI: a Gradio app whose chat streams answers with inspectable ``[n]`` citations.

    >>> from assistant.ui import build_app, launch
    >>> app = build_app(Assistant(settings))
    >>> launch(app, host="127.0.0.1", port=7860)          # or: serve(settings)

Everything the user reads is HTML that this module builds itself: article and model text goes
through ``html.escape`` before it meets any markup, links are kept only when they are http(s), and
the small script of the chat (``ui_assets/chat.js``) only clones nodes the server built; it never
turns text into HTML. The conversation lives in per-session ``gr.State``; answers are queued with
``settings.ui.concurrency`` running at once. ``/ask`` is a JSON API endpoint for other clients.
"""

from __future__ import annotations

import functools
import html
import logging
import os
import re
import shutil
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import urlparse

# The UI must never phone home (no internet here, and none needed): set before gradio is imported.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402

from vectorstore.types import Filters, Hit, IngestReport  # noqa: E402

from .citations import MARKER  # noqa: E402
from .errors import AssistantError, QuestionError  # noqa: E402
from .types import Answer, Citation, SentenceCheck, Turn  # noqa: E402

log = logging.getLogger(__name__)

ASSETS = Path(__file__).resolve().parent / "ui_assets"
COMPONENT_CSS = (ASSETS / "components.css").read_text(encoding="utf-8")
PAGE_CSS = (ASSETS / "ui.css").read_text(encoding="utf-8")
CHAT_JS = (ASSETS / "chat.js").read_text(encoding="utf-8")

SYSTEM_FONTS = ["ui-sans-serif", "system-ui", "-apple-system", "Segoe UI", "Roboto", "Helvetica Neue", "Arial", "sans-serif"]
MONO_FONTS = ["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "Liberation Mono", "monospace"]

#: Example questions about the seed article (seeds/2025-08-18-trump-ukraine-schutz.md), both languages.
EXAMPLES = [
    "In welcher Stadt traf Trump am Freitag Putin?",
    "Wer nimmt an den Gesprächen im Weißen Haus teil?",
    "In which city did Trump meet Putin on Friday?",
    "Did Trump rule out sending US troops to Ukraine?",
]

# Icons are inline SVG (no emoji: a server without emoji fonts shows empty boxes). Trusted constants.
_SVG = '<svg class="nqa-icon" viewBox="0 0 24 24" width="{size}" height="{size}" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true">{body}</svg>'
_ICON_BODIES = {
    "news": '<path d="M4 22h16a2 2 0 0 0 2-2V4a2 2 0 0 0-2-2H8a2 2 0 0 0-2 2v16a2 2 0 0 1-2 2Zm0 0a2 2 0 0 1-2-2v-9c0-1.1.9-2 2-2h2"/><path d="M18 14h-8M15 18h-5M10 6h8v4h-8z"/>',
    "warn": '<path d="m21.73 18-8-14a2 2 0 0 0-3.48 0l-8 14A2 2 0 0 0 4 21h16a2 2 0 0 0 1.73-3Z"/><path d="M12 9v4M12 17h.01"/>',
    "info": '<circle cx="12" cy="12" r="10"/><path d="M12 16v-4M12 8h.01"/>',
}


def icon(name: str, size: int = 14) -> str:
    return _SVG.format(size=size, body=_ICON_BODIES[name])


LANGUAGES = [("Any language", ""), ("Deutsch", "de"), ("English", "en")]
UPLOAD_DIR = "uploads"  # inside paths.index_dir: uploaded articles are kept, so re-uploading updates them
STREAM_EVERY_S = 0.08  # re-render the streaming answer at most this often


# =================================================================================================
# Rendering: pure functions from our types to HTML. Every piece of outside text goes through esc().


def esc(value: object) -> str:
    """HTML-escape anything (None -> empty), quotes included, so it is safe in text and attributes."""
    return html.escape("" if value is None else str(value), quote=True)


def text_html(value: object) -> str:
    """Escaped text with line breaks kept."""
    return esc(value).replace("\n", "<br>")


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


def _host(url: str) -> str:
    host = urlparse(url).netloc
    return host[4:] if host.startswith("www.") else host


def meta_html(date: str = "", source: str = "", url: str | None = "", language: str = "") -> str:
    """The line under a title: date · source · language · link."""
    parts = []
    if date:
        parts.append(f"<span>{esc(date)}</span>")
    if source:
        parts.append(f"<span>{esc(source)}</span>")
    if language:
        parts.append(f"<span>{esc(language.upper())}</span>")
    link = safe_url(url)
    if link:
        parts.append(f'<span><a href="{esc(link)}" target="_blank" rel="noopener noreferrer nofollow">{esc(_host(link))} ↗</a></span>')
    elif url:
        parts.append(f"<span>{esc(url)}</span>")
    return f'<div class="nqa-meta">{"".join(parts)}</div>' if parts else ""


def passage_html(text: str, start: int | None = None, end: int | None = None) -> str:
    """The passage, escaped, with ``text[start:end]`` (the supporting words) highlighted."""
    if start is None or end is None or not 0 <= start < end <= len(text):
        return f'<blockquote class="nqa-passage">{text_html(text)}</blockquote>'
    return (
        f'<blockquote class="nqa-passage">{text_html(text[:start])}<mark>{text_html(text[start:end])}</mark>'
        f"{text_html(text[end:])}</blockquote>"
    )


def citation_card_html(c: Citation) -> str:
    """What a citation marker reveals: number, title, date, source, link, the passage with its support."""
    note = "" if c.support else '<div class="nqa-support-note">No single sentence of the passage matched; the whole passage is cited.</div>'
    return (
        f'<div class="nqa-card-head"><span class="nqa-num">{c.number}</span><div>'
        f'<div class="nqa-card-title">{esc(c.title) or "Untitled article"}</div>'
        f"{meta_html(c.date, c.source, c.url)}</div></div>"
        f"{passage_html(c.passage, c.support_start, c.support_end)}{note}"
    )


def _marker_buttons(numbers: list[int], cites: dict[int, Citation], turn: int) -> str:
    out = []
    for n in numbers:
        c = cites.get(n)
        if c is None:  # a marker the checks did not resolve (cannot happen in a checked answer): plain text
            out.append(f'<span class="nqa-cite-pending">[{n}]</span>')
            continue
        out.append(
            f'<button type="button" class="nqa-cite" data-cite="{turn}-{n}" data-chunk="{esc(c.chunk_id)}" '
            f'aria-label="Source {n}: {esc(c.title)}" title="Source {n}">{n}</button>'
        )
    return "".join(out)


def _marker_numbers(match: re.Match) -> list[int]:
    return [int(n) for n in re.split(r"\s*[,;]\s*", match.group(1).strip())]


def markers_html(text: str, cites: dict[int, Citation] | None, turn: int) -> str:
    """Escaped text whose ``[n]`` markers become citation buttons (``cites`` None: plain badges, while streaming)."""
    out, pos = [], 0
    for m in MARKER.finditer(text):
        out.append(text_html(text[pos : m.start()]))
        nums = _marker_numbers(m)
        if cites is None:
            out.append("".join(f'<span class="nqa-cite-pending">[{n}]</span>' for n in nums))
        else:
            out.append(_marker_buttons(nums, cites, turn))
        pos = m.end()
    out.append(text_html(text[pos:]))
    return "".join(out)


def align_sentences(text: str, sentences: list[SentenceCheck]) -> list[tuple[str, SentenceCheck | None]] | None:
    """Split ``text`` into segments, each the span of one checked sentence (its markers included) or
    the plain text between them. None when a sentence cannot be found in the text."""
    stripped, index = [], []
    pos = 0
    for m in MARKER.finditer(text):
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
        trailing = MARKER.match(text, end)  # markers after the sentence's full stop belong to it
        while trailing:
            end = trailing.end()
            trailing = MARKER.match(text, end)
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


def answer_body_html(answer: Answer, turn: int) -> str:
    """The answer text with clickable markers; unsupported sentences marked, uncited ones underlined."""
    cites = {c.number: c for c in answer.citations}
    segments = align_sentences(answer.text, answer.sentences) if answer.sentences else None
    if segments is None:
        segments = _rebuild_from_sentences(answer.sentences) if answer.sentences else [(answer.text, None)]
    out = []
    for seg, s in segments:
        inner = markers_html(seg, cites, turn)
        if s is None or s.verdict == "supported":
            out.append(inner)
        elif s.verdict == "unsupported":
            why = "The cited passage does not support this sentence"
            if s.missing:
                why += " (not found there: " + ", ".join(s.missing) + ")"
            out.append(
                f'<span class="nqa-sent-unsupported" data-verdict="unsupported" title="{esc(why)}">{inner}</span>'
                f'<span class="nqa-flag" title="{esc(why)}">unsupported</span>'
            )
        else:  # uncited
            out.append(f'<span class="nqa-sent-uncited" data-verdict="uncited" title="No source is cited for this sentence">{inner}</span>')
    return "".join(out)


@dataclass
class Exchange:
    """One question of a session's conversation and what became of it."""

    question: str
    status: Literal["queued", "searching", "writing", "done", "failed", "stopped"] = "queued"
    draft: str = ""  # the model's text so far, while it writes
    passages: list[Hit] = field(default_factory=list)
    answer: Answer | None = None
    error: str | None = None  # one line, for a question that could not be answered at all
    error_kind: str = ""

    @property
    def finished(self) -> bool:
        return self.status in ("done", "failed", "stopped")


def _fallback_passages_html(passages: list[Hit]) -> str:
    if not passages:
        return ""
    items = []
    for i, h in enumerate(passages, 1):
        snippet = h.text if len(h.text) <= 220 else h.text[:220].rsplit(" ", 1)[0] + " …"
        items.append(
            f'<li><span class="nqa-fallback-title">[{i}] {esc(h.title) or "Untitled article"}</span>'
            f'{meta_html(h.date, h.source, h.url)}<div>{text_html(snippet)}</div></li>'
        )
    return f'<ul class="nqa-fallback">{"".join(items)}</ul>'


def _answer_meta_html(a: Answer) -> str:
    parts = []
    if a.model:
        parts.append(f"<span>{esc(a.model)}</span>")
    if a.citations:
        parts.append(f"<span>{len(a.citations)} source{'s' if len(a.citations) != 1 else ''} cited</span>")
    elif a.passages:
        parts.append(f"<span>{len(a.passages)} passage{'s' if len(a.passages) != 1 else ''} read</span>")
    total = a.timings.get("total_s")
    if total is not None:
        parts.append(f"<span>{total:.1f} s</span>")
    meta = f'<div class="nqa-a-meta">{"".join(parts)}</div>' if parts else ""
    return meta + _answer_details_html(a)


def _answer_details_html(a: Answer) -> str:
    """How the answer was made, folded away: the question as searched, the checks' notes, timings."""
    rows = []
    if a.standalone_question and a.standalone_question != a.question:
        rows.append(("Searched for", a.standalone_question))
    for note in a.notes:
        rows.append(("Check", note))
    timings = ", ".join(f"{k.removesuffix('_s').replace('_', ' ')} {v:.2f} s" for k, v in a.timings.items())
    if timings:
        rows.append(("Timings", timings))
    if a.prompt_id:
        rows.append(("Prompt", a.prompt_id))
    if not rows:
        return ""
    items = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in rows)
    return f'<details class="nqa-details"><summary>How this answer was made</summary><dl class="nqa-info">{items}</dl></details>'


def exchange_html(ex: Exchange, turn: int) -> str:
    """One question and its answer (or its progress, abstention or error)."""
    q = f'<div class="nqa-q"><div class="nqa-q-bubble">{esc(ex.question)}</div></div>'
    if ex.status == "queued":
        a = '<div class="nqa-a nqa-pending" data-status="queued"><div class="nqa-a-label">Answer</div><div class="nqa-a-body"><span class="nqa-dots">Waiting for a free answer slot</span></div></div>'
    elif ex.status == "searching":
        a = '<div class="nqa-a nqa-pending" data-status="searching"><div class="nqa-a-label">Answer</div><div class="nqa-a-body"><span class="nqa-dots">Searching the articles</span></div></div>'
    elif ex.status == "writing":
        body = markers_html(ex.draft, None, turn) if ex.draft else '<span class="nqa-dots">Reading the passages</span>'
        n = len(ex.passages)
        a = (
            f'<div class="nqa-a nqa-writing" data-status="writing"><div class="nqa-a-label">Answer</div>'
            f'<div class="nqa-a-body">{body}<span class="nqa-cursor"></span></div>'
            f'<div class="nqa-a-meta"><span>{n} passage{"s" if n != 1 else ""} found</span></div></div>'
        )
    elif ex.status == "stopped":
        body = markers_html(ex.draft, None, turn) if ex.draft else ""
        a = (
            f'<div class="nqa-a nqa-abstain" data-status="stopped"><div class="nqa-a-label">Stopped</div>'
            f'<div class="nqa-a-body">{body or "You stopped this answer."}</div></div>'
        )
    elif ex.status == "failed" or ex.answer is None:
        a = (
            f'<div class="nqa-a nqa-error" data-status="failed" data-error-kind="{esc(ex.error_kind)}">'
            f'<div class="nqa-a-label">{icon("warn")} {esc(_error_title(ex.error_kind))}</div>'
            f'<div class="nqa-a-body"><div class="nqa-error-msg">{text_html(_sentence(ex.error or "no answer"))}</div>'
            f'<div class="nqa-error-hint">{esc(_error_hint(ex.error_kind))}</div></div></div>'
        )
    else:
        a = answer_html(ex.answer, turn)
    return f'<div class="nqa-turn" data-turn="{turn}">{q}{a}</div>'


def answer_html(a: Answer, turn: int) -> str:
    """A finished answer: normal, abstention or LLM failure (with the passages found anyway)."""
    if a.error:
        return (
            f'<div class="nqa-a nqa-error" data-status="llm-error"><div class="nqa-a-label">{icon("warn")} The language model is unavailable</div>'
            f'<div class="nqa-a-body"><div class="nqa-error-msg">{text_html(_sentence(a.error))}</div>'
            f'<div class="nqa-error-hint">{esc(a.text)}</div>{_fallback_passages_html(a.passages)}</div></div>'
        )
    if a.abstained:
        hint = (
            "Keine passende Stelle in den Artikeln gefunden. Formulieren Sie die Frage um oder fügen Sie Artikel hinzu."
            if a.language == "de"
            else "No passage of the indexed articles answers this. Try rephrasing, or add articles in the Articles tab."
        )
        return (
            f'<div class="nqa-a nqa-abstain" data-status="abstained" data-lang="{esc(a.language)}"><div class="nqa-a-label">{icon("info")} No answer in the articles</div>'
            f'<div class="nqa-a-body">{text_html(a.text)}</div><div class="nqa-error-hint">{esc(hint)}</div>'
            f"{_answer_meta_html(a)}</div>"
        )
    unsupported = sum(1 for s in a.sentences if s.verdict == "unsupported")
    legend = (
        f'<div class="nqa-legend">{icon("warn", 13)} {unsupported} sentence{"s are" if unsupported != 1 else " is"} not supported by '
        f"the passage{'s' if unsupported != 1 else ''} cited; read {'them' if unsupported != 1 else 'it'} with care.</div>"
        if unsupported
        else ""
    )
    srcs = "".join(f'<div data-cite-src="{turn}-{c.number}">{citation_card_html(c)}</div>' for c in a.citations)
    return (
        f'<div class="nqa-a" data-status="answered" data-lang="{esc(a.language)}"><div class="nqa-a-label">Answer</div>'
        f'<div class="nqa-a-body">{answer_body_html(a, turn)}</div>{legend}{_answer_meta_html(a)}'
        f'<div class="nqa-cite-srcs" hidden>{srcs}</div></div>'
    )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _sentence(msg: str) -> str:
    msg = msg.strip()
    return (msg[:1].upper() + msg[1:]) if msg else msg


_ERROR_TEXT = {
    "QuestionError": ("Please check the question", "Change the question or the search settings and ask again."),
    "EmptyIndexError": ("No articles yet", "Add articles in the Articles tab, then ask again."),
    "StoreUnavailableError": ("The article index is unavailable", "Check that the index (or the Chroma server) is reachable, then ask again."),
    "IndexMismatchError": ("The index does not match the embedding model", "Rebuild the index or configure the matching embedding model."),
    "LLMUnavailableError": ("The language model is unavailable", "Check the model back end, then ask again."),
    "ModelError": ("A model could not be loaded", "Check the model settings and files, then restart."),
}


def _error_title(kind: str) -> str:
    return _ERROR_TEXT.get(kind, ("Something went wrong", ""))[0]


def _error_hint(kind: str) -> str:
    return _ERROR_TEXT.get(kind, ("", "The app is still running; please try again."))[1]


def conversation_html(exchanges: list[Exchange]) -> str:
    """The whole conversation of one session."""
    if not exchanges:
        body = (
            '<div class="nqa-empty"><div class="nqa-empty-icon">' + icon("news", 40) + '</div><h3>Ask the news</h3>'
            "<p>Questions in German or English are answered in the same language, only from the indexed "
            "articles. Click a number like <span class=\"nqa-cite-pending\">[1]</span> in an answer to read the passage it cites.</p></div>"
        )
    else:
        body = "".join(exchange_html(ex, i) for i, ex in enumerate(exchanges, 1))
    return f'<div class="nqa-chat">{body}</div>'


def sources_html(ex: Exchange | None) -> str:
    """The passages behind the last answer: cited ones first marked and open, supporting words highlighted."""
    title = '<div class="nqa-panel-title">Sources</div>'
    if ex is None:
        return f'<div class="nqa-sources">{title}<div class="nqa-panel-empty">The passages used for an answer appear here.</div></div>'
    passages = ex.answer.passages if ex.answer is not None else ex.passages
    if not passages:
        msg = {
            "queued": "Waiting for a free answer slot…", "searching": "Searching the articles…",
        }.get(ex.status, "No passages were found for this question.")
        return f'<div class="nqa-sources">{title}<div class="nqa-panel-empty">{esc(msg)}</div></div>'
    cited = {c.chunk_id: c for c in (ex.answer.citations if ex.answer else [])}
    show_all = ex.answer is not None and bool(ex.answer.error)
    n_cited = sum(1 for h in passages if h.chunk.id in cited)
    counts = f"{len(passages)} passage{'s' if len(passages) != 1 else ''}" + (f" · {n_cited} cited" if ex.answer and not ex.answer.error and not ex.answer.abstained else "")
    cards = []
    for i, h in enumerate(passages, 1):
        c = cited.get(h.chunk.id)
        tag = '<span class="nqa-tag">cited</span>' if c else ""
        is_open = " open" if (c or show_all or (not cited and i == 1)) else ""
        body = passage_html(h.text, c.support_start, c.support_end) if c else passage_html(h.text)
        snippet = h.text if len(h.text) <= 140 else h.text[:140].rsplit(" ", 1)[0] + " …"
        cards.append(
            f'<details class="nqa-source{" nqa-cited" if c else ""}" data-chunk="{esc(h.chunk.id)}"{is_open}>'
            f'<summary><span class="nqa-num">{i}</span><div class="nqa-source-head"><div class="nqa-source-title">{esc(h.title) or "Untitled article"}</div>'
            f'{meta_html(h.date, h.source, h.url, h.language)}<div class="nqa-snippet">{esc(snippet)}</div></div>{tag}</summary>{body}</details>'
        )
    heading = "Closest passages" if ex.answer is not None and ex.answer.abstained else "Sources"
    return (
        f'<div class="nqa-sources"><div class="nqa-panel-title">{heading} <small>{esc(counts)}</small></div>{"".join(cards)}</div>'
    )


def articles_html(stats: dict | None, articles: list[dict], error: str | None = None) -> str:
    """The articles tab: counts, then every indexed article with its date, source and language."""
    if error:
        return f'<div class="nqa-panel-empty">{icon("warn")} {esc(error)}</div>'
    stats = stats or {}
    blocks = [
        f'<div class="nqa-stat"><b>{int(stats.get("articles") or 0)}</b><span>articles</span></div>',
        f'<div class="nqa-stat"><b>{int(stats.get("chunks") or 0)}</b><span>passages</span></div>',
        f'<div class="nqa-stat"><b>{len({a.get("source") for a in articles if a.get("source")})}</b><span>sources</span></div>',
    ]
    head = f'<div class="nqa-stats">{"".join(blocks)}</div>'
    if not articles:
        return head + '<div class="nqa-panel-empty">No articles are indexed yet. Upload files or type a folder path to add some.</div>'
    rows = []
    for a in articles:
        link = safe_url(a.get("url"))
        title = esc(a.get("title")) or "Untitled article"
        if link:
            title = f'<a href="{esc(link)}" target="_blank" rel="noopener noreferrer nofollow">{title}</a>'
        rows.append(
            f'<tr><td class="nqa-nowrap">{esc(a.get("date")) or "—"}</td><td>{title}</td><td>{esc(a.get("source")) or "—"}</td>'
            f'<td class="nqa-nowrap">{esc((a.get("language") or "").upper()) or "—"}</td><td class="nqa-nowrap">{int(a.get("chunks") or 0)}</td></tr>'
        )
    return (
        head + '<div class="nqa-table-wrap"><table class="nqa-table" id="nqa-article-table"><thead><tr><th>Date</th><th>Title</th>'
        f'<th>Source</th><th>Lang.</th><th>Passages</th></tr></thead><tbody>{"".join(rows)}</tbody></table></div>'
    )


def ingest_rows(report: IngestReport) -> list[tuple[str, str, str]]:
    """(source key, status, detail) for every file or record the ingest touched."""
    rows: list[tuple[str, str, str]] = []
    rows += [(k, "added", "") for k in report.added]
    rows += [(k, "updated", "the article changed; its passages were replaced") for k in report.replaced]
    rows += [(k, "unchanged", "already indexed") for k in report.unchanged]
    rows += [(k, "duplicate", f"same article as {other}") for k, other in report.duplicates]
    rows += [(k, "removed", "no longer in the folder") for k in report.removed]
    rows += [(k, "failed", _reason(k, reason)) for k, reason in report.failed]
    return rows


def _reason(path: str, reason: str) -> str:
    """The loader's reason without the file path it starts with (the row shows the file already)."""
    if not reason.startswith(path):
        return reason
    rest = reason[len(path):]
    if rest.startswith(": "):
        return rest[2:]
    if rest.startswith(":"):  # "path:LINE[ [field]]: reason"
        return "line " + rest[1:]
    return rest.strip()


def ingest_report_html(report: IngestReport | None, *, names: dict[str, str] | None = None, error: str | None = None) -> str:
    """The result of one ingest: a summary line and a row per file (added / unchanged / failed with reason)."""
    if error:
        return f'<div class="nqa-report-summary nqa-bad">{icon("warn")} {esc(error)}</div>'
    if report is None:
        return ""
    names = names or {}

    def display(key: str) -> str:
        path, sep, rec = key.partition("#")
        return names.get(path, path) + (f" (record {rec})" if sep else "")

    rows = "".join(
        f'<tr data-status="{esc(status)}"><td>{esc(display(key))}</td><td><span class="nqa-status nqa-status-{esc(status)}">{esc(status)}</span></td>'
        f'<td class="{"nqa-reason" if status == "failed" else ""}">{esc(detail)}</td></tr>'
        for key, status, detail in ingest_rows(report)
    )
    bad = " nqa-bad" if report.failed else ""
    table = (
        f'<div class="nqa-table-wrap"><table class="nqa-table" id="nqa-ingest-table"><thead><tr><th>File</th><th>Result</th>'
        f"<th>Detail</th></tr></thead><tbody>{rows}</tbody></table></div>"
        if rows
        else '<div class="nqa-panel-empty">No article files were found there.</div>'
    )
    warnings = "".join(f"<div>{esc(w)}</div>" for w in report.warnings[:20])
    return (
        f'<div class="nqa-report-summary{bad}">{esc(_sentence(report.summary()))}</div>{table}'
        + (f'<div class="nqa-warnings">{warnings}</div>' if warnings else "")
    )


def info_html(info: dict) -> str:
    """Model and index facts from ``Assistant.describe()`` as a definition list."""
    rows = []
    for key, value in info.items():
        if value in (None, "", {}, []):
            continue
        if isinstance(value, dict):
            value = ", ".join(f"{k}={v}" for k, v in value.items() if v not in (None, ""))
        rows.append(f"<dt>{esc(key.replace('_', ' '))}</dt><dd>{esc(value)}</dd>")
    return f'<dl class="nqa-info">{"".join(rows)}</dl>'


def header_html(info: dict) -> str:
    index = info.get("index") if isinstance(info.get("index"), dict) else {}
    badges = [
        ("Model", f"{info.get('llm_model', '?')} ({info.get('llm_backend', '?')})"),
        ("Embeddings", info.get("embedding_model", "?")),
        ("Index", _count(index["articles"], "article") if "articles" in index else index.get("error", "?")),
    ]
    spans = "".join(f'<span class="nqa-badge">{esc(k)}: <b>{esc(v)}</b></span>' for k, v in badges)
    return (
        '<div id="nqa-header"><div><h1>' + icon("news", 24) + ' News Q&amp;A</h1><div class="nqa-tagline">Answers from your articles, '
        f'every claim linked to its source</div></div><div class="nqa-badges">{spans}</div></div>'
    )


# =================================================================================================
# The app


def _filters(language: str | None, source: str | None, date_from: str | None, date_to: str | None) -> Filters | None:
    f = Filters(
        source=(source or "").strip() or None, language=(language or "").strip() or None,
        date_from=(date_from or "").strip() or None, date_to=(date_to or "").strip() or None,
    )
    return None if f.is_empty() else f


def _k(k: object) -> int | None:
    if k in (None, "", 0):
        return None
    try:
        return int(k)  # sliders deliver floats
    except (TypeError, ValueError):
        raise QuestionError(f"k must be a whole number, got {k!r}") from None


class _Handlers:
    """The event handlers; one instance per app, shared by all sessions (their state is passed in)."""

    def __init__(self, assistant):
        self.assistant = assistant
        self.settings = assistant.settings

    # ------------------------------------------------------------------ chat
    def accept(self, question, conv) -> tuple:
        """Put the question into the conversation at once (not queued): the user sees it while the
        answer waits for its turn. Returns (chat, sources, state, question box, send, stop)."""
        question = (question or "").strip()
        if not question:
            gr.Warning("Type a question first.")
            return (gr.skip(),) * 6
        conv = list(conv or [])
        for old in conv:  # one answer at a time per conversation: a new question stops the running one
            if not old.finished:
                old.status = "stopped"
        ex = Exchange(question=question, status="queued")
        conv.append(ex)
        return conversation_html(conv), sources_html(ex), conv, "", gr.Button(visible=False), gr.Button(visible=True)

    def respond(self, conv, k, language, source, date_from, date_to) -> Iterator[tuple]:
        """Stream the answer to the question ``accept`` queued. Yields (chat, sources, state)."""
        conv = list(conv or [])
        if not conv or conv[-1].status != "queued":
            yield gr.skip(), gr.skip(), gr.skip()
            return
        ex = conv[-1]
        question = ex.question
        ex.status = "searching"
        yield conversation_html(conv), gr.skip(), conv
        history = [Turn(e.question, e.answer.text) for e in conv[:-1] if e.answer is not None and not e.answer.error]
        last = 0.0
        events = None
        try:
            events = self.assistant.stream(question, history, k=_k(k), filters=_filters(language, source, date_from, date_to))
            for ev in events:
                if ex.status == "stopped":  # Stop was pressed (stop() shares this Exchange): end here, quietly
                    return
                if ev.kind == "passages":
                    ex.passages, ex.status = list(ev.passages or []), "writing"
                    yield conversation_html(conv), sources_html(ex), conv
                elif ev.kind == "token":
                    ex.draft, ex.status = ev.text, "writing"
                    now = time.monotonic()
                    if now - last >= STREAM_EVERY_S:
                        last = now
                        yield conversation_html(conv), gr.skip(), conv
                elif ev.kind == "answer":
                    ex.answer, ex.status = ev.answer, "done"
        except AssistantError as e:
            ex.status, ex.error, ex.error_kind = "failed", str(e), type(e).__name__
        except Exception as e:  # the app keeps serving whatever went wrong
            log.exception("answering %r failed", question)
            ex.status, ex.error_kind = "failed", "internal"
            ex.error = f"the answer failed with an internal error ({type(e).__name__}: {str(e)[:200]})"
        finally:
            if events is not None:
                events.close()  # stops the model's generation when the answer was stopped or cancelled
        if ex.status == "stopped":
            return
        if ex.status != "done" and ex.status != "failed":
            ex.status, ex.error, ex.error_kind = "failed", "the answer stream ended without an answer", "internal"
        yield conversation_html(conv), sources_html(ex), conv

    def idle(self, conv):
        """After an answer run: the send button back and the stop button away, unless another
        answer of this conversation is still on its way; then nothing changes (``accept`` already
        swapped them). Never hiding here matters: the browser sends these follow-ups itself, and the
        reply for a stopped run could arrive after the reply for the run that replaced it, hiding
        the send button for good."""
        if any(not e.finished for e in conv or []):
            return gr.skip(), gr.skip()
        return gr.Button(visible=True), gr.Button(visible=False)

    def stop(self, conv):
        conv = list(conv or [])
        for ex in conv:
            if not ex.finished:
                ex.status = "stopped"
        return conversation_html(conv), conv, gr.Button(visible=True), gr.Button(visible=False)

    def new_conversation(self):
        return conversation_html([]), sources_html(None), [], "", gr.Button(visible=True), gr.Button(visible=False)

    # ------------------------------------------------------------------ JSON API
    def api_ask(
        self, question: str, k: int = 0, language: str = "", source: str = "", date_from: str = "", date_to: str = ""
    ) -> dict:
        """Answer one question (no conversation) and return the checked answer as JSON: text, language,
        citations (with passage and support offsets), per-sentence verdicts, passages, error.
        k=0 uses the configured number of passages; empty filters are ignored."""
        try:
            answer = self.assistant.ask(question, None, k=_k(k), filters=_filters(language, source, date_from, date_to))
        except AssistantError as e:
            raise gr.Error(_sentence(str(e)), print_exception=False) from None
        return answer.to_dict()

    # ------------------------------------------------------------------ articles
    def _info(self) -> dict:
        try:
            return self.assistant.describe()
        except AssistantError as e:
            s = self.settings
            return {"llm_backend": s.llm.backend, "llm_model": s.llm.model, "embedding_model": s.embedding.model, "index": {"error": str(e)}}

    def _articles(self) -> tuple[dict | None, list[dict], str | None]:
        try:
            store = self.assistant.store
            return store.stats(), store.articles(), None
        except AssistantError as e:
            return None, [], str(e)

    def refresh(self, source_value=None):
        """Header, model info, article list and the source filter's choices, as they are now."""
        info = self._info()
        stats, articles, error = self._articles()
        sources = sorted({a["source"] for a in articles if a.get("source")})
        value = source_value if source_value in sources else ""
        return (
            header_html(info), info_html(info), articles_html(stats, articles, error),
            gr.Dropdown(choices=[("Any source", "")] + [(s, s) for s in sources], value=value),
        )

    def ingest(self, files, folder, source_value, progress=gr.Progress()):
        """Copy uploads into the index folder's uploads/, ingest them and/or a server folder, report per file."""
        paths: list[Path] = []
        names: dict[str, str] = {}
        folder = (folder or "").strip()
        try:
            if files:
                updir = Path(self.settings.paths.index_dir) / UPLOAD_DIR
                updir.mkdir(parents=True, exist_ok=True)
                for f in files:
                    src = Path(f if isinstance(f, str) else getattr(f, "name", str(f)))
                    dest = updir / src.name
                    shutil.copyfile(src, dest)
                    paths.append(dest)
                    names[str(dest.resolve())] = src.name
            if folder:
                p = Path(folder).expanduser()
                if not p.exists():
                    raise QuestionError(f"{folder}: no such file or folder on the server")
                paths.append(p)
                root = p.resolve()
            if not paths:
                return (ingest_report_html(None, error="Choose files to upload or type a folder path first."), *self.refresh(source_value), gr.skip())

            def on_progress(done: int, total: int, chunks: int) -> None:
                progress((done, total), desc=f"Indexing: {done}/{total} files, {chunks} passages embedded", unit="files")

            progress(0, desc="Reading the files")
            report = self.assistant.store.ingest(paths, progress=on_progress)
        except AssistantError as e:
            return (ingest_report_html(None, error=_sentence(str(e))), *self.refresh(source_value), gr.skip())
        except OSError as e:
            return (ingest_report_html(None, error=f"Cannot read the upload: {e}"), *self.refresh(source_value), gr.skip())
        if folder and root.is_dir():  # show files of the folder by their path inside it
            for key, *_ in ingest_rows(report):
                path = key.split("#", 1)[0]
                if path.startswith(str(root) + os.sep) or path.startswith(folder.rstrip(os.sep) + os.sep):
                    names.setdefault(path, os.path.relpath(path, root if path.startswith(str(root)) else folder))
        return (ingest_report_html(report, names=names), *self.refresh(source_value), None)


def build_app(assistant) -> gr.Blocks:
    """The Gradio app for ``assistant`` (an ``assistant.Assistant``). Launch it with ``launch(app, ...)``
    (which adds the theme and page CSS) or ``serve(settings)``."""
    h = _Handlers(assistant)
    s = assistant.settings
    html_opts = dict(css_template=COMPONENT_CSS, js_on_load=None, padding=False)
    with gr.Blocks(title="News Q&A", analytics_enabled=False) as app:
        conv = gr.State([])
        header = gr.HTML(header_html({"llm_model": s.llm.model, "llm_backend": s.llm.backend, "embedding_model": s.embedding.model}), **html_opts)
        with gr.Tabs():
            with gr.Tab("Ask", id="ask", elem_id="nqa-tab-ask"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=7, elem_id="nqa-chat-col"):
                        with gr.Row(elem_id="nqa-chat-head"):
                            gr.HTML('<div class="nqa-panel-title">Conversation</div>', **html_opts)
                            new = gr.Button("New conversation", variant="secondary", elem_id="nqa-new-btn", size="sm", scale=0)
                        chat = gr.HTML(
                            conversation_html([]), elem_id="nqa-chat", css_template=COMPONENT_CSS, js_on_load=CHAT_JS,
                            min_height=480, max_height=620, autoscroll=True, container=True, padding=True,
                        )
                        with gr.Row(elem_id="nqa-ask-row"):
                            question = gr.Textbox(
                                placeholder="Ask a question about the articles – auf Deutsch oder in English",
                                show_label=False, lines=1, max_lines=6, scale=8, elem_id="nqa-question", autofocus=True,
                                container=False,
                            )
                            send = gr.Button("Ask", variant="primary", scale=1, elem_id="nqa-send")
                            stop = gr.Button("Stop", variant="stop", scale=1, visible=False, elem_id="nqa-stop")
                        with gr.Row(elem_id="nqa-examples"):
                            gr.Markdown("Try:", elem_classes="nqa-examples-label")
                            example_buttons = [
                                gr.Button(q, size="sm", variant="secondary", elem_classes="nqa-example") for q in EXAMPLES
                            ]
                    with gr.Column(scale=5, elem_id="nqa-side-col"):
                        sources = gr.HTML(sources_html(None), elem_id="nqa-sources", **html_opts)
                        with gr.Accordion("Search settings", open=False, elem_id="nqa-settings"):
                            k = gr.Slider(
                                1, 20, value=s.retrieval.k, step=1, label="Passages to search (k)", elem_id="nqa-k",
                                info=f"The model reads the best {s.answering.context_passages} of them.",
                            )
                            language = gr.Dropdown(LANGUAGES, value="", label="Article language", elem_id="nqa-language")
                            source = gr.Dropdown([("Any source", "")], value="", label="Source", elem_id="nqa-source")
                            with gr.Row():
                                date_from = gr.Textbox(label="From date", placeholder="YYYY-MM-DD", elem_id="nqa-date-from")
                                date_to = gr.Textbox(label="To date", placeholder="YYYY-MM-DD", elem_id="nqa-date-to")
                        with gr.Accordion("Model and index", open=False, elem_id="nqa-model-info"):
                            info = gr.HTML("", **html_opts)
            with gr.Tab("Articles", id="articles", elem_id="nqa-tab-articles"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3):
                        articles = gr.HTML(articles_html(None, []), elem_id="nqa-articles", **html_opts)
                    with gr.Column(scale=2):
                        gr.Markdown("### Add articles\nMarkdown or text with front matter, JSON, JSONL or HTML. "
                                    "Files already indexed are left alone; changed ones are updated.")
                        files = gr.File(file_count="multiple", label="Upload article files", elem_id="nqa-upload")
                        folder = gr.Textbox(label="…or a file or folder on the server", placeholder="/path/to/articles",
                                            elem_id="nqa-folder")
                        ingest = gr.Button("Add to index", variant="primary", elem_id="nqa-ingest")
                        report = gr.HTML("", elem_id="nqa-ingest-report", **html_opts)

        refresh_outputs = [header, info, articles, source]
        app.load(h.refresh, [source], refresh_outputs, api_visibility="private", queue=False, show_progress="hidden")

        search_inputs = [conv, k, language, source, date_from, date_to]
        accepted = [chat, sources, conv, question, send, stop]
        runs = []

        def ask_on(trigger, fn, inputs):
            # Accepting is instant and per session; answering is queued (settings.ui.concurrency at once).
            ev = trigger(fn, inputs, accepted, queue=False, api_visibility="private", show_progress="hidden")
            # "multiple": a question asked while an answer runs must still get its own run (the running
            # one sees it was stopped and ends).
            answer = ev.then(h.respond, search_inputs, [chat, sources, conv], concurrency_id="answer",
                             api_visibility="private", show_progress="hidden", trigger_mode="multiple")
            answer.then(h.idle, [conv], [send, stop], queue=False, api_visibility="private", show_progress="hidden")
            runs.append(answer)

        ask_on(question.submit, h.accept, [question, conv])
        ask_on(send.click, h.accept, [question, conv])
        for btn, q in zip(example_buttons, EXAMPLES):
            ask_on(btn.click, functools.partial(h.accept, q), [conv])
        stop.click(h.stop, [conv], [chat, conv, send, stop], cancels=runs, api_visibility="private", queue=False)
        new.click(h.new_conversation, None, accepted, cancels=runs, api_visibility="private", queue=False)
        ingest.click(
            h.ingest, [files, folder, source], [report, *refresh_outputs, files],
            concurrency_id="ingest", concurrency_limit=1, api_visibility="private", show_progress_on=[report],
        )
        gr.api(h.api_ask, api_name="ask", concurrency_id="answer")
    app.queue(default_concurrency_limit=s.ui.concurrency)
    return app


def theme() -> gr.themes.Base:
    """The look: Gradio's default theme on system fonts (nothing is fetched from a font CDN)."""
    return gr.themes.Default(primary_hue="blue", neutral_hue="slate", font=SYSTEM_FONTS, font_mono=MONO_FONTS)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host if host not in ("0.0.0.0", "") else "127.0.0.1", 0))
        return sock.getsockname()[1]


def launch(app: gr.Blocks, *, host: str = "127.0.0.1", port: int = 7860, open_browser: bool = False,
           prevent_thread_lock: bool = False, quiet: bool = True) -> str:
    """Start the server for ``app`` (port 0: any free port) and return its local URL. Blocks unless
    ``prevent_thread_lock``; then ``app.close()`` stops it."""
    port = port or free_port(host)
    _, url, _ = app.launch(
        server_name=host, server_port=port, inbrowser=open_browser, prevent_thread_lock=prevent_thread_lock,
        quiet=quiet, share=False, ssr_mode=False, show_error=False, theme=theme(), css=PAGE_CSS,
        footer_links=["api"], max_file_size="50mb", mcp_server=False, pwa=False,
    )
    return url


def serve(settings=None, *, open_browser: bool = False, assistant=None) -> None:
    """Build the assistant (unless given) and serve the UI on ``settings.ui.host``/``port`` until stopped."""
    from .assistant import Assistant
    from .settings import Settings

    settings = settings or (assistant.settings if assistant is not None else Settings())
    assistant = assistant or Assistant(settings)
    app = build_app(assistant)
    app.queue(default_concurrency_limit=settings.ui.concurrency)
    print(f"News Q&A: serving on http://{settings.ui.host}:{settings.ui.port or '(free port)'} (Ctrl+C stops)", flush=True)
    launch(app, host=settings.ui.host, port=settings.ui.port, open_browser=open_browser, quiet=False)


__all__ = ["build_app", "launch", "serve", "conversation_html", "sources_html", "answer_html", "esc", "safe_url"]
