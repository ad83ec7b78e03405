"""Failures show up as clear messages in the chat and the app keeps serving; the articles tab shows
the index and ingests uploads and server folders with a result per file."""

from __future__ import annotations

import pytest

from assistant.assistant import Assistant
from assistant.backends.llm import FailingChatModel

from .conftest import SEEDS, fast_settings, hash_store, quoting_model, served


class BrittleAssistant(Assistant):
    """Raises an unexpected error for questions with 'boom' in them, like a bug would."""

    def stream(self, question, history=None, **kwargs):
        if "boom" in question:
            raise RuntimeError("kaputt")
        yield from super().stream(question, history, **kwargs)


@pytest.fixture(scope="module")
def down_url(tmp_path_factory):
    root = tmp_path_factory.mktemp("ui-llm-down")
    settings = fast_settings(root / "index", **{"answering.max_question_chars": 200})
    llm = FailingChatModel("cannot reach LLM server http://127.0.0.1:9/v1: ConnectError: connection refused")
    with served(BrittleAssistant(settings, store=hash_store(root, settings), llm=llm)) as u:
        yield u


def test_llm_down_shows_the_error_and_the_passages_found(down_url, new_page, artifacts):
    page = new_page(down_url)
    a = page.ask("Wer nimmt an den Gesprächen teil?")
    assert a.get_attribute("data-status") == "llm-error"
    text = a.text_content()
    assert "The language model is unavailable" in text and "Cannot reach LLM server http://127.0.0.1:9/v1" in text
    assert a.locator(".nqa-fallback li").count() == 3
    assert page.sources().locator(".nqa-source").count() == 3
    page.screenshot(artifacts / "ui-llm-down.png")
    # the app keeps serving: another question gets its own (failed) answer
    assert page.ask("Wo traf Trump am Freitag Putin?").get_attribute("data-status") == "llm-error"
    assert page.turns() == 2


def test_bad_questions_and_internal_errors_are_messages_in_the_chat(down_url, new_page):
    page = new_page(down_url)
    a = page.ask("Warum? " * 40)
    assert a.get_attribute("data-status") == "failed" and a.get_attribute("data-error-kind") == "QuestionError"
    assert "Please check the question" in a.text_content() and "too long" in a.text_content()
    b = page.ask("boom")
    assert b.get_attribute("data-status") == "failed" and "internal error (RuntimeError: kaputt)" in b.inner_text()
    c = page.ask("Wer nimmt an den Gesprächen teil?")  # still serving
    assert c.get_attribute("data-status") == "llm-error"
    assert not page.errors


def test_empty_index_then_ingest_uploads_and_a_folder(tmp_path, new_page, artifacts):
    from vectorstore import open_store
    from vectorstore.embedder import HashEmbedder

    # server paths are allowed inside ui.ingest_roots only
    settings = fast_settings(tmp_path / "index", **{"ui.ingest_roots": [str(SEEDS), str(tmp_path / "more")]})
    assistant = Assistant(settings, store=open_store(settings, embedder=HashEmbedder()), llm=quoting_model())
    upload = tmp_path / "to-upload"
    upload.mkdir()
    (upload / "neu.md").write_text(
        "---\ntitle: Neues Gesetz\ndate: 2025-09-01\nsource: Testquelle\nlanguage: de\n---\nDer Bundestag hat heute ein neues Gesetz beschlossen.\n",
        encoding="utf-8",
    )
    (upload / "kaputt.json").write_text("{not json", encoding="utf-8")
    (upload / "bild.png").write_bytes(b"\x89PNG")
    with served(assistant) as url:
        page = new_page(url)
        a = page.ask("Wer nimmt an den Gesprächen teil?")
        assert a.get_attribute("data-error-kind") == "EmptyIndexError" and "No articles yet" in a.text_content()

        page.articles_tab()
        assert "No articles are indexed yet" in page.page.locator("#nqa-articles").inner_text()
        page.page.set_input_files("#nqa-upload input[type=file]", [str(upload / n) for n in ("neu.md", "kaputt.json", "bild.png")])
        page.page.wait_for_function(  # the three files are uploaded and listed (name and suffix apart)
            "() => ['neu', 'kaputt', 'bild'].every(n => document.querySelector('#nqa-upload').innerText.includes(n))"
        )
        page.ingest()
        rows = {r.locator("td").first.inner_text(): r for r in page.page.locator("#nqa-ingest-table tbody tr").all()}
        assert rows["neu.md"].get_attribute("data-status") == "added"
        assert rows["kaputt.json"].get_attribute("data-status") == "failed" and "invalid JSON" in rows["kaputt.json"].inner_text()
        assert rows["bild.png"].get_attribute("data-status") == "failed" and "unsupported file type" in rows["bild.png"].inner_text()
        table = page.page.locator("#nqa-article-table").inner_text()
        assert "Neues Gesetz" in table and "2025-09-01" in table and "Testquelle" in table

        # a folder on the server, typed in; then the same folder again changes nothing
        page.page.locator("#nqa-folder textarea, #nqa-folder input").first.fill(str(SEEDS))
        page.ingest()
        # files of a folder are named by their path inside it
        row = page.page.locator("#nqa-ingest-table tbody tr", has_text="2025-08-18-trump-ukraine-schutz.md")
        assert row.get_attribute("data-status") == "added"
        assert row.locator("td").first.inner_text() == "2025-08-18-trump-ukraine-schutz.md"
        assert "neu.md" not in page.page.locator("#nqa-ingest-table").inner_text()  # the uploads were cleared
        page.screenshot(artifacts / "ui-articles-ingest.png")
        page.ingest()
        assert row.get_attribute("data-status") == "unchanged"
        assert page.page.locator("#nqa-articles .nqa-stat b").first.inner_text() == "2"
        assert "2 articles" in page.page.locator("#nqa-header").inner_text()

        (tmp_path / "more").mkdir()
        page.page.locator("#nqa-folder textarea, #nqa-folder input").first.fill(str(tmp_path / "more" / "nowhere"))
        page.ingest()
        assert "no such file or folder" in page.page.locator("#nqa-ingest-report .nqa-bad").inner_text()

        # the new articles answer questions now
        page.page.get_by_role("tab", name="Ask").click()
        b = page.ask("Wer nimmt an den Gesprächen teil?")
        assert b.get_attribute("data-status") == "answered"
    assert (tmp_path / "index" / "uploads" / "neu.md").is_file()  # uploads are kept next to the index
