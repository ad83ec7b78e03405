"""Several users at once: the JSON API for a second client, and two browser sessions whose answers
are in flight together must each get their own."""

from __future__ import annotations

import threading

import pytest

from assistant.assistant import Assistant

from .conftest import fast_settings, hash_store, quoting_model, served


@pytest.fixture(scope="module")
def gate():
    return threading.Event()


@pytest.fixture(scope="module")
def url(tmp_path_factory, gate):
    root = tmp_path_factory.mktemp("ui-sessions")
    # Two answers generated at once, so that two sessions really share the server at the same moment.
    settings = fast_settings(root / "index", **{"ui.concurrency": 2, "answering.max_question_chars": 300})
    gate.set()
    assistant = Assistant(settings, store=hash_store(root, settings), llm=quoting_model(gate))
    with served(assistant) as u:
        yield u


def test_the_ask_endpoint_returns_the_checked_answer_as_json(url):
    from gradio_client import Client

    client = Client(url, verbose=False)
    result = client.predict("Wo traf Trump am Freitag Putin?", api_name="/ask")
    assert result["language"] == "de" and not result["abstained"] and result["error"] is None
    cite = result["citations"][0]
    assert result["text"] == f"Trump traf Putin am Freitag in Anchorage, Alaska [{cite['number']}]."
    assert "Anchorage, Alaska" in cite["passage"][cite["support_start"] : cite["support_end"]]
    assert cite["title"].startswith("Trump verspricht") and cite["date"] == "2025-08-18"
    assert result["sentences"][0]["verdict"] == "supported"
    assert 1 <= len(result["passages"]) <= 5  # the chosen sentences of the top hits, grouped (evidence_selection)

    english = client.predict("What did the weather report say?", api_name="/ask")
    assert english["language"] == "en" and english["citations"][0]["title"].startswith("Evil")

    filtered = client.predict("Wo traf Trump am Freitag Putin?", 0, "", "", "2025-08-19", "", api_name="/ask")
    assert {p["title"][:4] for p in filtered["passages"]} == {"Evil"}


def test_the_ask_endpoint_reports_bad_questions(url):
    from gradio_client import Client
    from gradio_client.exceptions import AppError

    client = Client(url, verbose=False)
    with pytest.raises(AppError, match="too long"):
        client.predict("Warum? " * 100, api_name="/ask")
    with pytest.raises(AppError, match="empty"):
        client.predict("   ", api_name="/ask")
    # the server is still answering
    assert not client.predict("Wer nimmt an den Gesprächen teil?", api_name="/ask")["abstained"]


def test_two_sessions_get_their_own_answers(url, new_page, gate, artifacts):
    from gradio_client import Client

    de, en = new_page(url), new_page(url)
    gate.clear()  # hold the model: both answers wait, written, at the same time
    try:
        n_de = de.submit("Wer nimmt an den Gesprächen teil?")
        n_en = en.submit("What did the weather report say?")
        de.page.wait_for_selector("#nqa-chat .nqa-a[data-status=writing]")
        en.page.wait_for_selector("#nqa-chat .nqa-a[data-status=writing]")
        # a third client, through the API, and a third browser session queue behind them; the
        # session sees its question at once, waiting for a free slot
        job = Client(url, verbose=False).submit("Schloss Trump die Entsendung von US-Truppen aus?", api_name="/ask")
        third = new_page(url)
        n_third = third.submit("Wo traf Trump am Freitag Putin?")
        third.page.wait_for_selector("#nqa-chat .nqa-a[data-status=queued]")
    finally:
        gate.set()
    a_de, a_en = de.answer(n_de).inner_text(), en.answer(n_en).inner_text()
    assert "Keir Starmer" in a_de and "The weather report said" not in a_de
    assert "The weather report said" in a_en and "Keir Starmer" not in a_en
    assert de.turns() == 1 and en.turns() == 1
    assert "weather" not in de.page.locator("#nqa-chat").inner_text()
    assert "Wer nimmt" not in en.page.locator("#nqa-chat").inner_text()
    assert "Entsendung von US-Streitkräften" in job.result(timeout=60)["text"]
    assert "Anchorage" in third.answer(n_third).inner_text() and third.turns() == 1
    # each session's sources belong to its own answer
    assert "Keir Starmer" in de.sources().locator(".nqa-cited").inner_text()
    assert "weather report" in en.sources().locator(".nqa-cited").inner_text()
    en.screenshot(artifacts / "ui-second-session.png")


def test_stop_ends_an_answer_and_the_session_goes_on(url, new_page, gate):
    page = new_page(url)
    gate.clear()
    try:
        page.submit("Wer nimmt an den Gesprächen teil?")
        page.page.wait_for_selector("#nqa-chat .nqa-a[data-status=writing]")
        page.page.locator("#nqa-stop").click()
        page.page.wait_for_selector("#nqa-chat .nqa-a[data-status=stopped]")
    finally:
        gate.set()
    page.page.locator("#nqa-send").wait_for(state="visible")
    assert page.ask("What did the weather report say?").get_attribute("data-status") == "answered"
    assert page.turns() == 2
    assert page.page.locator("#nqa-chat .nqa-turn[data-turn='1'] .nqa-a").get_attribute("data-status") == "stopped"


def test_a_pinned_citation_stays_open_while_the_next_answer_streams(url, new_page, gate):
    page = new_page(url)
    page.ask("Wer nimmt an den Gesprächen teil?")
    gate.clear()
    try:
        n = page.submit("What did the weather report say?")
        page.page.wait_for_selector("#nqa-chat .nqa-a[data-status=writing]")
        card = page.open_citation(1)
        key = card.get_attribute("data-for")
    finally:
        gate.set()
    page.answer(n)  # re-rendered many times meanwhile
    assert card.is_visible() and card.get_attribute("data-for") == key
    assert "Keir Starmer" in card.locator("mark").inner_text()


def test_a_new_question_stops_the_running_answer(url, new_page, gate):
    page = new_page(url)
    gate.clear()
    try:
        page.submit("Wer nimmt an den Gesprächen teil?")
        page.page.wait_for_selector("#nqa-chat .nqa-a[data-status=writing]")
        n = page.submit("What did the weather report say?")
        page.page.wait_for_selector(f"#nqa-chat .nqa-turn[data-turn='{n}'] .nqa-a")
    finally:
        gate.set()
    assert "The weather report said" in page.answer(n).inner_text()
    first = page.page.locator("#nqa-chat .nqa-turn[data-turn='1'] .nqa-a")
    assert first.get_attribute("data-status") == "stopped" and "Keir Starmer" not in first.inner_text()
    assert page.turns() == 2
    page.page.locator("#nqa-send").wait_for(state="visible")
    assert not page.page.locator("#nqa-stop").is_visible()
