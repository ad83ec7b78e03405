"""End to end: the app with the real models (e5-small and the Qwen2.5-Coder-0.5B GGUF) over seeds/,
driven in Chromium. Asks in German and in English, waits for the streamed answer, opens a citation
and checks that the passage it shows carries the fact. Screenshots go to test-artifacts/."""

from __future__ import annotations

import pytest

from assistant.assistant import Assistant

from .conftest import SEEDS, served, ui_settings

pytestmark = [pytest.mark.e2e, pytest.mark.models]

# (question, language the answer must be in, a fact word the answer and its cited passage must share)
QUESTIONS = [
    ("In welcher Stadt traf Trump am Freitag Putin?", "de", "Anchorage"),
    ("In which city did Trump meet Putin on Friday?", "en", "Anchorage"),
]


@pytest.fixture(scope="module")
def url(tmp_path_factory, e5):
    from vectorstore import open_store

    settings = ui_settings(tmp_path_factory.mktemp("ui-e2e") / "index", **{"llm.model": "qwen2.5-coder-0.5b"})
    store = open_store(settings, embedder=e5)
    assert store.ingest([SEEDS]).added
    assistant = Assistant(settings, store=store)  # builds the real GGUF chat model from the settings
    with served(assistant) as u:
        yield u


@pytest.mark.xfail(strict=True, reason="the plain learned fit (no model judgement, as with the 0.5B model) refuses the cross-lingual answer (docs/trust.md)")
def test_real_model_answers_both_languages_with_citations_that_show_the_fact(url, new_page, artifacts):
    page = new_page(url, timeout_s=900)
    for n, (question, language, fact) in enumerate(QUESTIONS, 1):
        page.submit(question)
        # the answer streams in: the model's words show up before the checked answer replaces them
        page.page.wait_for_function(
            """n => {
                const body = document.querySelector(`#nqa-chat .nqa-turn[data-turn='${n}'] .nqa-a[data-status=writing] .nqa-a-body`);
                return !!body && !body.querySelector('.nqa-dots') && body.textContent.trim().length > 0;
            }""",
            arg=n, timeout=900_000,
        )
        answer = page.answer(n)
        assert answer.get_attribute("data-status") == "answered", answer.text_content()
        assert answer.get_attribute("data-lang") == language
        body = answer.locator(".nqa-a-body").inner_text()
        assert fact in body, body
        markers = answer.locator(".nqa-cite")
        assert markers.count() >= 1
        # the marker on the sentence that states the fact opens a passage that states it too
        opened = []
        for i in range(markers.count()):
            card = page.open_citation(n, i)
            passage = card.locator(".nqa-passage").inner_text()
            opened.append(passage)
            if fact in passage:
                break
        assert any(fact in p for p in opened), opened
        assert "Trump verspricht" in card.inner_text() and "2025-08-18" in card.inner_text()
        assert card.locator("mark").count() == 1 and card.locator("mark").inner_text() in passage
        page.screenshot(artifacts / f"ui-e2e-{language}.png")
        page.page.keyboard.press("Escape")
        card.wait_for(state="hidden")
    assert not page.dialogs and not page.errors
