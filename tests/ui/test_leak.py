"""The leak of issue 14: a private note in a folder outside the allowed roots, typed into the Articles
tab's "…or a file or folder on the server". It must be refused, and its password must never reach an
answer, a source panel, the article list, a search or the /ask API.

Written against the page and the public API only, so the same test runs on code from before the
fix (where it fails: the note was ingested and the password came back, cited)."""

from __future__ import annotations

from assistant.assistant import Assistant

from .conftest import RULES, fast_settings, hash_store, served
from .fakes import QuotingChatModel, Rule

PASSWORD = "Zebra-Lampe-4711"
NOTE = f"""---
title: Interne Notiz
date: 2025-08-20
language: de
---
Das Passwort des Redaktionsservers lautet {PASSWORD}. Bitte nicht weitergeben.
"""
QUESTION = "Wie lautet das Passwort des Redaktionsservers?"


def test_a_private_folder_outside_the_roots_is_refused_and_never_answered(tmp_path, new_page, artifacts):
    from gradio_client import Client

    private = tmp_path / "outside" / "private"
    private.mkdir(parents=True)
    (private / "notiz.md").write_text(NOTE, encoding="utf-8")
    settings = fast_settings(tmp_path / "index")  # no ui.ingest_roots: server paths are off
    # A model that repeats whatever passage holds the password, as a small model would.
    model = QuotingChatModel([Rule("Passwort", f"Das Passwort lautet {PASSWORD}", PASSWORD), *RULES])
    assistant = Assistant(settings, store=hash_store(tmp_path, settings), llm=model)

    with served(assistant) as url:
        page = new_page(url)
        page.articles_tab()
        page.page.locator("#nqa-folder textarea, #nqa-folder input").first.fill(str(private))
        page.ingest()
        report = page.page.locator("#nqa-ingest-report").inner_text()
        assert PASSWORD not in page.page.locator("body").inner_text()

        page.page.get_by_role("tab", name="Ask").click()
        answer = page.ask(QUESTION)
        seen = page.page.locator("body").inner_text()
        page.screenshot(artifacts / "ui-leak-refused.png")
        api = Client(url, verbose=False).predict(QUESTION, api_name="/ask")

    assert PASSWORD not in answer.inner_text()
    assert PASSWORD not in seen  # answer, sources panel, citations
    assert PASSWORD not in str(api)
    for mode in ("hybrid", "dense", "lexical"):
        assert all(PASSWORD not in h.text for h in assistant.store.search("Passwort Redaktionsserver", k=20, mode=mode))
    assert all("Interne Notiz" != a["title"] for a in assistant.store.articles())
    # ... and the refusal said why, naming the setting that would allow it
    assert "server paths are off" in report.lower() and "ui.ingest_roots (NEWSQA_UI__INGEST_ROOTS)" in report
