"""The Gradio app: layout and wiring of the handlers, the theme, and starting the server. The
page's CSS and the chat's script are package files, read with importlib.resources so an
installed wheel finds them."""

from __future__ import annotations

import functools
import socket
from importlib import resources

import gradio as gr

from .access import Access, Gate
from .handlers import Handlers
from .panels import articles_html, header_html
from .render import conversation_html, sources_html

_ASSETS = resources.files("assistant.serving.ui") / "assets"
COMPONENT_CSS = (_ASSETS / "components.css").read_text(encoding="utf-8")
PAGE_CSS = (_ASSETS / "ui.css").read_text(encoding="utf-8")
CHAT_JS = (_ASSETS / "chat.js").read_text(encoding="utf-8")

SYSTEM_FONTS = ["ui-sans-serif", "system-ui", "-apple-system", "Segoe UI", "Roboto", "Helvetica Neue", "Arial", "sans-serif"]
MONO_FONTS = ["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "Liberation Mono", "monospace"]

#: Example questions about the seed article (seeds/2025-08-18-trump-ukraine-schutz.md), both languages.
EXAMPLES = [
    "In welcher Stadt traf Trump am Freitag Putin?",
    "Wer nimmt an den Gesprächen im Weißen Haus teil?",
    "In which city did Trump meet Putin on Friday?",
    "Did Trump rule out sending US troops to Ukraine?",
]

LANGUAGES = [("Any language", ""), ("Deutsch", "de"), ("English", "en")]


def build_app(assistant, access: Access | None = None) -> gr.Blocks:
    """The Gradio app for ``assistant`` (an ``assistant.Assistant``). Launch it with ``launch(app, ...)``
    (which adds the theme, page CSS and sign-in) or ``serve(settings)``. ``access`` is the serving
    policy (default: ``Access.from_settings``, i.e. sign-in when accounts exist)."""
    s = assistant.settings
    access = access or Access.from_settings(s)
    h = Handlers(assistant, access)
    html_opts = dict(css_template=COMPONENT_CSS, js_on_load=None, padding=False)
    with gr.Blocks(title="News Q&A", analytics_enabled=False) as app:
        conv = gr.State([])
        header = gr.HTML(header_html({"llm_model": s.llm.model, "llm_backend": s.llm.backend, "embedding_model": s.embedding.model}), **html_opts)
        whoami = gr.HTML("", elem_id="nqa-user", **html_opts)
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
                    # Editors only: hidden until the page knows the user is one (refresh), and the
                    # handlers check the role again, so hiding is never the only guard.
                    with gr.Column(scale=2, visible=not access.auth, elem_id="nqa-editor") as editor_col:
                        gr.Markdown("### Add articles\nMarkdown or text with front matter, JSON, JSONL or HTML. "
                                    "Files already indexed are left alone; changed ones are updated.")
                        files = gr.File(file_count="multiple", label="Upload article files", elem_id="nqa-upload")
                        roots = ", ".join(str(r) for r in access.roots)
                        folder = gr.Textbox(
                            label="…or a file or folder on the server", elem_id="nqa-folder",
                            placeholder=f"a path inside {roots}" if roots else "off: set ui.ingest_roots to allow folders",
                        )  # typing stays possible even when off: the refusal then says which setting to change
                        ingest = gr.Button("Add to index", variant="primary", elem_id="nqa-ingest")
                        report = gr.HTML("", elem_id="nqa-ingest-report", **html_opts)
                        gr.Markdown("### Remove an article\nIt comes back if its file is ingested again.")
                        with gr.Row():
                            # custom values pass Gradio's own check, so the handler's role check is what refuses
                            doomed = gr.Dropdown([], value=None, label="Article", elem_id="nqa-remove-article", scale=4,
                                                 allow_custom_value=True)
                            remove = gr.Button("Remove", variant="stop", elem_id="nqa-remove", scale=1)

        refresh_outputs = [header, info, articles, source, whoami, editor_col, doomed]
        app.load(h.refresh, [source], refresh_outputs, api_visibility="private", queue=False, show_progress="hidden")

        search_inputs = [conv, k, language, source, date_from, date_to]
        accepted = [chat, sources, conv, question, send, stop]
        runs = []

        def ask_on(trigger, fn, inputs):
            # Accepting is instant and per session; answering is queued (settings.ui.concurrency at once).
            ev = trigger(fn, inputs, accepted, queue=False, api_visibility="private", show_progress="hidden")
            # "multiple": a question asked while an answer runs must still get its own run (the running
            # one sees it was stopped and ends).
            answer = ev.then(h.respond, search_inputs, [chat, sources, conv, send, stop], concurrency_id="answer",
                             api_visibility="private", show_progress="hidden", trigger_mode="multiple")
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
        remove.click(h.remove, [doomed, source], [report, *refresh_outputs], concurrency_id="ingest",
                     api_visibility="private")
        gr.api(h.api_ask, api_name="ask", concurrency_id="answer")
    app.queue(default_concurrency_limit=s.ui.concurrency)
    app.newsqa_access = access  # launch() puts the sign-in and the gate in front of it
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
    ``prevent_thread_lock``; then ``app.close()`` stops it. With sign-in on (the app's ``Access``),
    Gradio's login page is in front of the UI and ``access.Gate`` in front of every route."""
    from starlette.middleware import Middleware

    access: Access | None = getattr(app, "newsqa_access", None)
    port = port or free_port(host)
    signin = {}
    if access is not None and access.auth:
        signin = dict(auth=access.check_login, auth_message="Sign in with your newsqa account.")
    max_mb = access.max_upload_mb if access is not None else 50
    _, url, _ = app.launch(
        server_name=host, server_port=port, inbrowser=open_browser, prevent_thread_lock=True,
        quiet=quiet, share=False, ssr_mode=False, show_error=False, theme=theme(), css=PAGE_CSS,
        footer_links=["api"], max_file_size=f"{max_mb:g}mb", mcp_server=False, pwa=False,
        app_kwargs={"middleware": [Middleware(Gate, access=access)]} if access is not None else None,
        **signin,
    )
    if access is not None:
        access.install(app.server_app)
    if not prevent_thread_lock:
        app.block_thread()
    return url


def serve(settings=None, *, open_browser: bool = False, assistant=None, access: Access | None = None) -> None:
    """Build the assistant (unless given) and serve the UI on ``settings.ui.host``/``port`` until stopped."""
    from ...assistant import Assistant
    from ...settings import Settings

    settings = settings or (assistant.settings if assistant is not None else Settings())
    access = access or Access.from_settings(settings)
    assistant = assistant or Assistant(settings)
    app = build_app(assistant, access)
    app.queue(default_concurrency_limit=settings.ui.concurrency)
    signin = f"sign-in on, {len(access.accounts)} account(s)" if access.auth else "no sign-in"
    print(f"News Q&A: serving on http://{settings.ui.host}:{settings.ui.port or '(free port)'} ({signin}; Ctrl+C stops)", flush=True)
    launch(app, host=settings.ui.host, port=settings.ui.port, open_browser=open_browser, quiet=False)
