"""Fixtures for the UI tests: a real app served in-process on a free port, and Debian's Chromium
driven by Playwright (its own browser download does not work offline)."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.settings import Settings

from .fakes import QuotingChatModel, Rule

REPO = Path(__file__).resolve().parents[2]
SEEDS = REPO / "seeds"
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--no-first-run", "--disable-sync",
]

# An article whose every field tries to run script in the page. Each payload sets window.__xss, so
# the tests can check that none of them ran (besides no dialog opening).
EVIL_ARTICLE = """---
title: "Evil <script>window.__xss='title';alert('title')</script> headline"
date: 2025-08-19
source: "<img src=x onerror=\\"window.__xss='source';alert('source')\\">"
url: "javascript:window.__xss='url';alert('url')"
language: en
---
The weather report said <script>window.__xss='body';alert('body')</script> and <img src=x onerror="window.__xss='img';alert('img')"> were seen in Anchorage, Alaska today. ${alert(1)} {{constructor}} <b>bold?</b>
"""

#: Rules of the test model. Each names the words it cites, so its citations are right whatever the ranking.
RULES = [
    Rule("Gesprächen", "An den Gesprächen nehmen unter anderem Keir Starmer, Emmanuel Macron und Friedrich Merz teil", "Keir Starmer"),
    Rule("Freitag", "Trump traf Putin am Freitag in Anchorage, Alaska", "Anchorage, Alaska, mit"),
    Rule("meet Putin", "Trump met Putin in Anchorage, Alaska", "Anchorage, Alaska, mit"),
    # the article's sentence with the model's own script in it: seen as an injection, checked as a quotation
    Rule("weather", "The weather report said <script>window.__xss='answer';alert('answer')</script> and <img src=x onerror=\"window.__xss='answer-img'\"> were seen in Anchorage, Alaska today", "weather report"),
    Rule(
        "Sicherheitsgarantien",
        "Trump signalisierte seine Bereitschaft, der Ukraine US-Sicherheitsgarantien zu geben [{n}]. Auch Olaf Scholz sagte das zu [{n}].",
        "Sicherheitsgarantien zu geben",
    ),
    Rule("Entsendung", "Trump schloss die Entsendung von US-Streitkräften in die Ukraine nicht aus", "Entsendung von US-Streitkräften"),
]


def model_cache() -> Path:
    """The shared model cache of the test suite (same rule as tests/conftest.py)."""
    return Path(os.environ.get("NEWSQA_TEST_CACHE") or Path.home() / ".cache" / "newsqa")


def ui_settings(index_dir: Path, **overrides) -> Settings:
    base = {"paths.index_dir": str(index_dir), "paths.cache_dir": str(model_cache())}
    base.update(overrides)
    return Settings().with_overrides(**base)


def fast_settings(index_dir: Path, **overrides) -> Settings:
    """Settings for the HashEmbedder: its similarities are not e5's, so neither abstain for weak
    retrieval nor refuse a claim for low similarity (the verifier's similarity seam: its findings decide). Its
    ranking and passage trimming are arbitrary too, so the scripted model's passages must be in a
    wider context than the product's default (3 whole passages of the seed article's chunk size). For the
    same reason the evidence sentence the verifier aligns a claim to is arbitrary, so a paraphrase's checks
    may read the wrong sentence: the threshold is low (0.1), and what must be refused here (a name no
    passage has) scores near 0. These tests are about how verdicts are shown; tests/assistant judge them."""
    return ui_settings(index_dir, **{
        "answering.min_relevance": 0.0, "verify.fixed_similarity": 0.95, "verify.threshold": 0.1, "answering.evidence_selection": "passages",
        "answering.context_passages": 3, "answering.passage_max_tokens": 160, **overrides,
    })


def article_folder(root: Path) -> Path:
    """The seed article plus the script-laden one, in a folder of their own."""
    folder = root / "articles"
    folder.mkdir(parents=True, exist_ok=True)
    for seed in SEEDS.glob("*.md"):
        (folder / seed.name).write_text(seed.read_text(encoding="utf-8"), encoding="utf-8")
    (folder / "evil.md").write_text(EVIL_ARTICLE, encoding="utf-8")
    return folder


def hash_store(root: Path, settings: Settings, folder: Path | None = None):
    """A store over ``folder`` (seeds + the evil article by default) with the fast HashEmbedder."""
    from vectorstore import open_store
    from vectorstore.embedder import HashEmbedder

    store = open_store(settings, embedder=HashEmbedder())
    report = store.ingest([folder or article_folder(root)])
    assert not report.failed, report.failed
    return store


@contextlib.contextmanager
def served(assistant, access=None) -> Iterator[str]:
    """The app for ``assistant`` running in this process on a free port; yields its URL. ``access``
    (an ``assistant.serving.ui.access.Access``) defaults to the one its settings give."""
    from assistant.serving.ui import build_app, launch

    app = build_app(assistant, access)
    url = launch(app, host="127.0.0.1", port=0, prevent_thread_lock=True)
    try:
        yield url
    finally:
        app.close()


#: How the test model rewrites follow-ups (any other question comes back as it was asked).
REWRITES = {"Und wo traf er am Freitag Putin?": "Wo traf Trump vor den Gesprächen am Freitag Putin?"}


def quoting_model(gate: threading.Event | None = None) -> QuotingChatModel:
    return QuotingChatModel(RULES, gate=gate, rewrites=REWRITES)


@pytest.fixture(scope="session")
def browser():
    """Headless Debian Chromium. Missing Chromium skips the browser tests locally and fails them in CI."""
    if not CHROMIUM.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is missing; the UI tests need it in CI (apt-get install chromium)")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    pw = sync_playwright().start()
    b = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
    yield b
    b.close()
    pw.stop()


@pytest.fixture
def new_page(browser):
    """Open pages in fresh browser contexts (one per session); closed after the test."""
    from .pages import ChatPage

    contexts = []

    def open_page(url: str, *, timeout_s: float = 60.0) -> ChatPage:
        ctx = browser.new_context(viewport={"width": 1366, "height": 900})
        contexts.append(ctx)
        page = ChatPage(ctx.new_page(), url, timeout_s=timeout_s)
        page.open()
        return page

    yield open_page
    for ctx in contexts:
        ctx.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
