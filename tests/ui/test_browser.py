"""The app in Chromium, with the fast test model and HashEmbedder: streaming answers, citation cards,
sources, follow-ups, verdicts, abstentions, and article text that tries to run script."""

from __future__ import annotations

import pytest

from assistant.assistant import Assistant

from .conftest import fast_settings, hash_store, quoting_model, served


class RecordingAssistant(Assistant):
    """The real Assistant that also records the history each question came with."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.histories: list[list] = []

    def stream(self, question, history=None, **kwargs):
        self.histories.append(list(history or []))
        yield from super().stream(question, history, **kwargs)


@pytest.fixture(scope="module")
def assistant(tmp_path_factory):
    root = tmp_path_factory.mktemp("ui-browser")
    settings = fast_settings(root / "index")
    return RecordingAssistant(settings, store=hash_store(root, settings), llm=quoting_model())


@pytest.fixture(scope="module")
def url(assistant):
    with served(assistant) as u:
        yield u


def test_answer_streams_in_and_a_citation_reveals_its_passage(url, new_page, artifacts):
    page = new_page(url)
    a = page.ask("Wer nimmt an den Gesprächen teil?")
    assert a.get_attribute("data-status") == "answered"
    assert "Keir Starmer, Emmanuel Macron und Friedrich Merz" in a.inner_text()
    card = page.open_citation(1)
    text = card.inner_text()
    assert "Trump verspricht" in text and "2025-08-18" in text and "Seed-Artikel (Nachrichtenagentur)" in text
    support = card.locator("mark").inner_text()
    assert "Keir Starmer" in support and "Friedrich Merz" in support
    # the sources panel lists the passages of this answer and marks the cited one
    cited = page.sources().locator(".nqa-source.nqa-cited")
    assert cited.count() == 1 and "Keir Starmer" in cited.locator("mark").inner_text()
    assert page.sources().locator(".nqa-source").count() == 3  # answering.context_passages (3 in fast_settings)
    page.screenshot(artifacts / "ui-citation-card.png")
    # clicking elsewhere closes the card; Escape too
    page.page.locator("#nqa-question textarea").click()
    card.wait_for(state="hidden")
    assert not page.dialogs and not page.errors


def test_follow_ups_carry_the_conversation_and_new_conversation_clears_it(url, new_page, assistant):
    page = new_page(url)
    page.ask("Wer nimmt an den Gesprächen teil?")
    before = len(assistant.histories)
    a2 = page.ask("Und wo traf Trump am Freitag Putin?")
    assert "Anchorage" in a2.inner_text()
    history = assistant.histories[before]
    assert [t.question for t in history] == ["Wer nimmt an den Gesprächen teil?"]
    assert "Keir Starmer" in history[0].answer
    assert page.turns() == 2
    page.new_conversation()
    page.ask("Where did Trump meet Putin?")
    assert assistant.histories[-1] == [] and page.turns() == 1


def test_a_follow_up_shows_how_it_was_understood_and_other_turns_do_not(url, new_page, artifacts):
    page = new_page(url)
    first = page.ask("Wer nimmt an den Gesprächen teil?")
    follow_up = page.ask("Und wo traf er am Freitag Putin?")
    switch = page.ask("Hat Trump die Entsendung von US-Truppen in die Ukraine ausgeschlossen?")
    assert "Anchorage" in follow_up.inner_text() and "Entsendung" in switch.inner_text()
    small = follow_up.locator(".nqa-understood")
    assert small.count() == 1 and small.is_visible()
    assert small.inner_text() == "Verstanden als: Wo traf Trump vor den Gesprächen am Freitag Putin?"
    # small print: smaller than the answer itself
    size = lambda loc: float(loc.evaluate("e => parseFloat(getComputedStyle(e).fontSize)"))
    assert size(small) < size(follow_up.locator(".nqa-a-body"))
    assert first.locator(".nqa-understood").count() == 0 and switch.locator(".nqa-understood").count() == 0
    page.screenshot(artifacts / "ui-understood-as.png")
    assert not page.dialogs and not page.errors


def test_unsupported_sentences_and_abstentions_are_visible(url, new_page, artifacts):
    page = new_page(url)
    a = page.ask("Welche Sicherheitsgarantien will Trump der Ukraine geben?")
    assert a.get_attribute("data-status") == "answered"
    # the verifier finds no passage that names Olaf Scholz: "not found", never shown as supported
    flagged = a.locator(".nqa-a-body [data-verdict=not_found]")
    assert flagged.count() == 1 and "Olaf Scholz" in flagged.inner_text()
    # the evidence list under the answer marks the same sentence: no passage sentence supports it
    listed = a.locator(".nqa-evidence li[data-verdict=not_found]")
    assert listed.count() == 1 and listed.inner_text().startswith("Closest passage sentence")
    assert a.locator(".nqa-flag").inner_text() == "not found"
    assert "not supported" in a.locator(".nqa-legend").inner_text()
    # the supported sentence is not flagged
    assert "Sicherheitsgarantien" not in flagged.inner_text()

    page.new_conversation()  # not a follow-up: the back end would search with the question before
    b = page.ask("Wie ist das Wetter auf dem Mars?")
    assert b.get_attribute("data-status") == "abstained"
    assert "Dazu steht nichts in den Artikeln." in b.inner_text()
    assert b.locator(".nqa-cite").count() == 0
    assert page.sources().locator(".nqa-panel-title").text_content().startswith("Closest passages")
    page.screenshot(artifacts / "ui-unsupported-and-abstention.png")


def test_script_in_articles_and_answers_is_shown_as_text(url, new_page, artifacts):
    page = new_page(url)
    a = page.ask("What did the weather report say?")
    assert "<script>window.__xss='answer';alert('answer')</script>" in a.inner_text()
    card = page.open_citation(1)
    text = card.inner_text()
    assert "Evil <script>window.__xss='title';alert('title')</script> headline" in text
    assert "<script>window.__xss='body';alert('body')</script>" in text
    assert "<img src=x onerror=\"window.__xss='img';alert('img')\">" in text
    assert "javascript:window.__xss='url'" in text  # the javascript: URL is shown, not linked
    assert "${alert(1)} {{constructor}} <b>bold?</b>" in text  # nor read as a template
    page.articles_tab()
    table = page.page.locator("#nqa-article-table").inner_text()
    assert "Evil <script>window.__xss='title';alert('title')</script> headline" in table
    page.screenshot(artifacts / "ui-escaped-article.png")
    assert page.injected() == {"flag": None, "imgs": 0, "scripts": 0, "bold": 0, "js_links": 0}
    assert page.dialogs == [] and page.errors == []


def test_the_page_loads_nothing_from_the_internet(url, new_page):
    page = new_page(url)
    page.ask("Where did Trump meet Putin?")
    page.articles_tab()
    own = url.split("//", 1)[1].rstrip("/")
    assert page.hosts and page.hosts <= {own}, page.hosts


def test_filters_and_k_reach_the_search(url, new_page, assistant):
    page = new_page(url)
    page.page.locator("#nqa-settings").get_by_text("Search settings").click()
    page.page.locator("#nqa-date-from textarea, #nqa-date-from input").first.fill("2025-08-19")
    a = page.ask("Wer nimmt an den Gesprächen teil?")
    # only the evil article (2025-08-19) is left, and it does not carry the answer
    assert a.get_attribute("data-status") == "abstained"
    titles = page.sources().locator(".nqa-source-title").all_inner_texts()
    assert titles and all(t.startswith("Evil") for t in titles)
    page.page.locator("#nqa-date-from textarea, #nqa-date-from input").first.fill("18.08.2025")
    b = page.ask("Wer nimmt an den Gesprächen teil?")
    assert b.get_attribute("data-status") == "failed" and "YYYY-MM-DD" in b.inner_text()
    page.page.locator("#nqa-date-from textarea, #nqa-date-from input").first.fill("")
    page.page.locator("#nqa-k input[type=number]").fill("1")
    page.page.locator("#nqa-k input[type=number]").press("Enter")
    c = page.ask("Wer nimmt an den Gesprächen teil?")
    assert page.sources().locator(".nqa-source").count() == 1  # k=1: one passage retrieved
    # that one passage (the hashing embedder's pick) does not name the participants: the refusal, no guess
    shown = page.sources().inner_text()
    assert "Keir Starmer" not in shown and c.get_attribute("data-status") == "abstained", (shown, c.inner_text())
    assert "Dazu steht nichts in den Artikeln." in c.inner_text()
    # a question whose one passage holds the answer is answered from it, and cites it
    d = page.ask("What did the weather report say?")
    assert d.get_attribute("data-status") == "answered" and "in Anchorage, Alaska" in d.inner_text(), d.inner_text()
    assert page.sources().locator(".nqa-source").count() == 1
    assert page.sources().locator(".nqa-source.nqa-cited").count() == 1


def test_example_questions_ask_at_a_click(url, new_page):
    from assistant.serving.ui import EXAMPLES

    page = new_page(url)
    page.page.locator("#nqa-examples button", has_text=EXAMPLES[0]).click()
    a = page.answer(1)
    assert page.page.locator("#nqa-chat .nqa-q-bubble").inner_text() == EXAMPLES[0]
    assert a.get_attribute("data-lang") == "de"
