"""The web UI: a Gradio app whose chat streams answers with inspectable ``[n]`` citations.

    >>> from assistant.serving.ui import build_app, launch
    >>> app = build_app(Assistant(settings))
    >>> launch(app, host="127.0.0.1", port=7860)          # or: serve(settings)

``render`` (the conversation, its sources) and ``panels`` (articles, ingest report, header) turn our
types into HTML from autoescaping Jinja2 templates (``templates/``);
``handlers`` answers the page's events; ``app`` lays the page out and serves it. The chat's script
(``assets/chat.js``) only clones nodes the server built; it never turns text into HTML.
"""

import os

# The UI must never phone home (no internet here, and none needed): set before gradio is imported.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from .app import EXAMPLES, build_app, free_port, launch, serve, theme  # noqa: E402
from .panels import articles_html, header_html, info_html, ingest_report_html  # noqa: E402
from .render import (  # noqa: E402
    Exchange,
    align_sentences,
    answer_html,
    conversation_html,
    esc,
    exchange_html,
    passage_html,
    safe_url,
    sources_html,
)

__all__ = [
    "EXAMPLES", "Exchange", "align_sentences", "answer_html", "articles_html", "build_app", "conversation_html", "esc",
    "exchange_html", "free_port", "header_html", "info_html", "ingest_report_html", "launch", "passage_html", "safe_url",
    "serve", "sources_html", "theme",
]
