"""The one text module: sentence splitting, [n] markers, names and numbers, on the hard cases."""

from __future__ import annotations

import pytest

from vectorstore.text import fold, names, numbers, parse_markers, split_sentences, strip_markers

SENTENCES = [
    # German ordinals and dates
    ("Trump traf Putin am 18. August 2025 in Alaska. Danach flog er zurück.",
     ["Trump traf Putin am 18. August 2025 in Alaska.", "Danach flog er zurück."]),
    ("Am 18.08.2025 kamen sie. Es war Montag.", ["Am 18.08.2025 kamen sie.", "Es war Montag."]),
    ("Der 2. Weltkrieg endete 1945. Das ist bekannt.", ["Der 2. Weltkrieg endete 1945.", "Das ist bekannt."]),
    # abbreviations and initials
    ("The U.S. President spoke. He left.", ["The U.S. President spoke.", "He left."]),
    ("They met in Washington, D.C. on Monday. Then talks began.", ["They met in Washington, D.C. on Monday.", "Then talks began."]),
    ("Dr. Müller und Prof. Schmidt kamen. Sie sprachen.", ["Dr. Müller und Prof. Schmidt kamen.", "Sie sprachen."]),
    ("Das gilt z. B. für Kiew. Und für Moskau.", ["Das gilt z. B. für Kiew.", "Und für Moskau."]),
    ("John F. Kennedy was president. He died in 1963.", ["John F. Kennedy was president.", "He died in 1963."]),
    # quotes
    ("Er sagte: „Wir kommen.“ Dann ging er.", ["Er sagte: „Wir kommen.“", "Dann ging er."]),
    ('He said "we will come." Then he left.', ['He said "we will come."', "Then he left."]),
    # question and exclamation marks, paragraphs
    ("Wer kam? Trump! Und Putin.", ["Wer kam?", "Trump!", "Und Putin."]),
    ("Erste Zeile ohne Punkt\nZweite Zeile.", ["Erste Zeile ohne Punkt", "Zweite Zeile."]),
    # markers after a full stop belong to the sentence before
    ("Trump traf Putin in Anchorage. [1] Selenskyj kam am Montag [2].",
     ["Trump traf Putin in Anchorage. [1]", "Selenskyj kam am Montag [2]."]),
    ("Trump traf Putin [1]. [2] Selenskyj kam.", ["Trump traf Putin [1].", "[2] Selenskyj kam."]),
]


@pytest.mark.parametrize("text,expected", SENTENCES, ids=[t[:30] for t, _ in SENTENCES])
def test_sentences(text, expected):
    assert split_sentences(text) == expected


MARKERS = [
    ("A [1].", [1]),
    ("A [1, 2]. B [3;4].", [1, 2, 3, 4]),
    ("A [1-3].", [1, 2, 3]),
    ("A [2–3].", [2, 3]),
    ("A [1][2] B [ 5 ].", [1, 2, 5]),
    ("A [1-2, 4].", [1, 2, 4]),
    ("No markers here, only [a] and [] and 2024.", []),
    ("A [3-1].", [3, 1]),  # a backwards range names its two ends, nothing between
]


@pytest.mark.parametrize("text,expected", MARKERS)
def test_markers(text, expected):
    assert parse_markers(text) == expected


def test_strip_markers_leaves_no_space_before_punctuation():
    assert strip_markers("Trump traf Putin [1]. Er kam [2, 3] , sagte er [1-2].") == "Trump traf Putin. Er kam, sagte er."


@pytest.mark.parametrize("text,expected", [
    ("Trump met Putin in Anchorage.", ["Putin", "Anchorage"]),
    ("The Kremlin's envoy met Selenskyj.", ["Kremlin", "Selenskyj"]),
    ("Yes, Meloni and Stubb came.", ["Meloni", "Stubb"]),
    ("Laut Trump kam der Präsident.", ["Trump", "Präsident"]),
])
def test_names(text, expected):
    assert names(text) == expected


@pytest.mark.parametrize("text,expected", [
    ("Am 18.08.2025 um 10 Uhr", ["18082025", "10"]),
    ("1.000 Soldaten und 2,5 Prozent", ["1000", "25"]),
    ("in 2025 and 1,200 troops", ["2025", "1200"]),
])
def test_numbers(text, expected):
    assert numbers(text) == expected


def test_fold():
    assert fold("Weißen Präsident Selenskyj") == "weissen prasident selenskyj"
