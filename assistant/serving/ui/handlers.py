"""The UI's event handlers: one instance per app, shared by all sessions, whose state (the
conversation) Gradio passes in and out. They turn our errors into lines a person can act on."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import gradio as gr

from vectorstore.types import Filters

from ...errors import AccessDeniedError, AssistantError, QuestionError, RateLimitError
from ...types import Turn
from ..roots import allowed_path
from .access import Access
from .panels import articles_html, header_html, info_html, ingest_report_html, ingest_rows, user_html
from .render import Exchange, as_sentence, conversation_html, sources_html

log = logging.getLogger(__name__)

UPLOAD_DIR = "uploads"  # inside paths.index_dir: uploaded articles are kept, so re-uploading updates them
STREAM_EVERY_S = 0.08  # re-render the streaming answer at most this often


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


class Handlers:
    """The event handlers; one instance per app, shared by all sessions (their state is passed in)."""

    def __init__(self, assistant, access: Access | None = None):
        self.assistant = assistant
        self.settings = assistant.settings
        self.access = access or Access.from_settings(assistant.settings)

    # ------------------------------------------------------------------ chat
    def accept(self, question, conv, request: gr.Request = None) -> tuple:
        """Put the question into the conversation at once (not queued): the user sees it while the
        answer waits for its turn. Counts it against the user's questions per minute.
        Returns (chat, sources, state, question box, send, stop)."""
        question = (question or "").strip()
        if not question:
            gr.Warning("Type a question first.")
            return (gr.skip(),) * 6
        try:
            self.access.limits.admit(self.access.user(request).key)
        except (RateLimitError, AccessDeniedError) as e:
            gr.Warning(as_sentence(str(e)))
            return (gr.skip(),) * 6
        conv = list(conv or [])
        for old in conv:  # one answer at a time per conversation: a new question stops the running one
            if not old.finished:
                old.status = "stopped"
        ex = Exchange(question=question, status="queued")
        conv.append(ex)
        return conversation_html(conv), sources_html(ex), conv, "", gr.Button(visible=False), gr.Button(visible=True)

    def respond(self, conv, k, language, source, date_from, date_to, request: gr.Request = None) -> Iterator[tuple]:
        """Stream the answer to the question ``accept`` queued. Yields (chat, sources, state, send, stop):
        the last one brings the send button back, unless a newer question of this conversation is still on
        its way. (Done here, in the run's own last output, not in a follow-up event: the browser sends
        follow-ups itself, in an order of its own when two runs of one conversation overlap, and in CI
        one such order once left the send button hidden after a new question stopped the running one.)"""
        conv = list(conv or [])
        if not conv or conv[-1].status != "queued":
            yield (gr.skip(),) * 5
            return
        ex = conv[-1]
        question = ex.question
        ex.status = "searching"
        yield conversation_html(conv), gr.skip(), conv, gr.skip(), gr.skip()
        history = [Turn.of(e.question, e.answer) for e in conv[:-1] if e.answer is not None and not e.answer.error]
        last = 0.0
        events = None
        held = contextlib.ExitStack()  # the user's answer slot, released however the run ends
        try:
            held.enter_context(self.access.limits.slot(self.access.user(request).key))
            events = self.assistant.stream(question, history, k=_k(k), filters=_filters(language, source, date_from, date_to))
            for ev in events:
                if ex.status == "stopped":  # Stop was pressed (stop() shares this Exchange): end here, quietly
                    return
                if ev.kind == "passages":
                    ex.passages, ex.best, ex.status = list(ev.passages or []), list(ev.best or []), "writing"
                    yield conversation_html(conv), sources_html(ex), conv, gr.skip(), gr.skip()
                elif ev.kind == "token":
                    ex.draft, ex.status = ev.text, "writing"
                    now = time.monotonic()
                    if now - last >= STREAM_EVERY_S:
                        last = now
                        yield conversation_html(conv), gr.skip(), conv, gr.skip(), gr.skip()
                elif ev.kind == "checking":
                    ex.draft, ex.status = ev.text, "checking"
                    yield conversation_html(conv), gr.skip(), conv, gr.skip(), gr.skip()
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
            held.close()
        if ex.status == "stopped":
            return
        if ex.status != "done" and ex.status != "failed":
            ex.status, ex.error, ex.error_kind = "failed", "the answer stream ended without an answer", "internal"
        yield conversation_html(conv), sources_html(ex), conv, *self.idle(conv)

    def idle(self, conv):
        """At the end of an answer run: the send button back and the stop button away, unless another
        answer of this conversation is still on its way; then nothing changes (``accept`` already
        swapped them). It never hides: a stopped run's end must not hide the button for good."""
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
        self, question: str, k: int = 0, language: str = "", source: str = "", date_from: str = "", date_to: str = "",
        request: gr.Request = None,
    ) -> dict:
        """Answer one question (no conversation) and return the checked answer as JSON: text, language,
        citations (with passage and support offsets), per-sentence verdicts, passages, error.
        k=0 uses the configured number of passages; empty filters are ignored."""
        try:
            # The question was counted when it arrived (access.Gate); here it holds an answer slot.
            with self.access.limits.slot(self.access.user(request).key):
                answer = self.assistant.ask(question, None, k=_k(k), filters=_filters(language, source, date_from, date_to))
        except AssistantError as e:
            raise gr.Error(as_sentence(str(e)), print_exception=False) from None
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

    def refresh(self, source_value=None, request: gr.Request = None):
        """Header, model info, article list, the source filter's choices, who is signed in, and the
        editor's controls (shown to editors only; the handlers check the role again)."""
        info = self._info()
        stats, articles, error = self._articles()
        sources = sorted({a["source"] for a in articles if a.get("source")})
        value = source_value if source_value in sources else ""
        editor = self.access.is_editor(request)
        return (
            header_html(info), info_html(info), articles_html(stats, articles, error),
            gr.Dropdown(choices=[("Any source", "")] + [(s, s) for s in sources], value=value),
            self._whoami(request), gr.Column(visible=editor),
            gr.Dropdown(choices=[(_article_label(a), a["article_id"]) for a in articles] if editor else [], value=None),
        )

    def _whoami(self, request) -> str:
        if not self.access.auth:
            return ""
        try:
            u = self.access.user(request)
        except AccessDeniedError:
            return ""
        return user_html(u.name, u.role)

    def _refused(self, message: str, source_value, request) -> tuple:
        return (ingest_report_html(None, error=as_sentence(message)), *self.refresh(source_value, request), gr.skip())

    def ingest(self, files, folder, source_value, request: gr.Request = None, progress=gr.Progress()):
        """Copy uploads into the index folder's uploads/, ingest them and/or a server folder inside
        ``ui.ingest_roots``, report per file. Editors only; every run and refusal is audited."""
        paths: list[Path] = []
        names: dict[str, str] = {}
        folder = (folder or "").strip()
        files = list(files or [])
        uploads = [Path(f if isinstance(f, str) else getattr(f, "name", str(f))) for f in files]
        what = {"paths": [folder] if folder else [], "files": [p.name for p in uploads]}
        access, ui = self.access, self.settings.ui
        try:
            user = access.editor(request, "ingest", **what)
        except AccessDeniedError as e:
            return self._refused(str(e), source_value, request)
        try:
            if len(uploads) > ui.max_upload_files:
                raise AccessDeniedError(f"{len(uploads)} files uploaded; at most {ui.max_upload_files} at once (ui.max_upload_files)")
            for src in uploads:
                if src.stat().st_size > ui.max_upload_mb * 1_000_000:
                    raise AccessDeniedError(f"{src.name} is larger than {ui.max_upload_mb:g} MB (ui.max_upload_mb)")
            root = None
            if folder:
                root = allowed_path(folder, access.roots, access.never_ingest)
        except AccessDeniedError as e:
            access.audit.record(user.name, "ingest", outcome="refused", reason=str(e), **what)
            return self._refused(str(e), source_value, request)
        except OSError as e:
            return self._refused(f"Cannot read the upload: {e}", source_value, request)
        try:
            if uploads:
                updir = Path(self.settings.paths.index_dir) / UPLOAD_DIR
                updir.mkdir(parents=True, exist_ok=True)
                for src in uploads:
                    dest = updir / src.name
                    shutil.copyfile(src, dest)
                    paths.append(dest)
                    names[str(dest.resolve())] = src.name
            if root is not None:
                paths.append(root)  # the resolved path that was checked, not the one typed
            if not paths:
                return (ingest_report_html(None, error="Choose files to upload or type a folder path first."), *self.refresh(source_value, request), gr.skip())

            def on_progress(done: int, total: int, chunks: int) -> None:
                progress((done, total), desc=f"Indexing: {done}/{total} files, {chunks} passages embedded", unit="files")

            progress(0, desc="Reading the files")
            report = self.assistant.store.ingest(paths, progress=on_progress)
        except AssistantError as e:
            access.audit.record(user.name, "ingest", outcome="failed", reason=str(e), **what)
            return self._refused(str(e), source_value, request)
        except OSError as e:
            return self._refused(f"Cannot read the upload: {e}", source_value, request)
        access.audit.record(
            user.name, "ingest", paths=[str(p) for p in paths],
            added=self._ids(report.added), replaced=self._ids(report.replaced), removed=report.removed,
            unchanged=len(report.unchanged), failed=[k for k, _ in report.failed],
        )
        if root is not None and root.is_dir():  # show files of the folder by their path inside it
            for key, *_ in ingest_rows(report):
                path = key.split("#", 1)[0]
                if path.startswith(str(root) + os.sep):
                    names.setdefault(path, os.path.relpath(path, root))
        return (ingest_report_html(report, names=names), *self.refresh(source_value, request), None)

    def _ids(self, keys: list[str]) -> list[dict]:
        catalog = getattr(self.assistant.store, "catalog", None)
        return [{"source": k, "article_id": catalog.source_article(k) if catalog else None} for k in keys]

    def remove(self, article_id, source_value, request: gr.Request = None):
        """Remove one article from the index. Editors only; audited."""
        try:
            user = self.access.editor(request, "remove", article_id=article_id)
            if not article_id:
                raise QuestionError("Choose an article to remove first.")
            keys = self.assistant.store.remove(article_id)
        except AssistantError as e:
            return (ingest_report_html(None, error=as_sentence(str(e))), *self.refresh(source_value, request))
        self.access.audit.record(user.name, "remove", article_id=article_id, sources=keys)
        return (ingest_report_html(None, note=f"Removed {len(keys) or 1} article file(s): {', '.join(Path(k).name for k in keys)}"),
                *self.refresh(source_value, request))


def _article_label(a: dict) -> str:
    return f"{a.get('date') or 'undated'} · {a.get('title') or 'Untitled article'}"
