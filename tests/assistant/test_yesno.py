"""Yes/no questions: the detector, the rendered answer, and the decision from P(yes) (scripted model;
one test on the bundled 0.5B GGUF). Every sentence here is invented."""

from __future__ import annotations

import pytest

from assistant.stages.yesno import YesNo, YesNoDecider, decide, is_yes_no, render


@pytest.mark.parametrize("question", [
    "Hat die Stadt das Hallenbad geschlossen?",
    "Ist der Bahnstreik beendet?",
    "Gab es bei dem Brand in der Lagerhalle Verletzte?",
    "Wurde die Bürgermeisterin wiedergewählt",
    "Und kann man das Museum am Montag besuchen?",
    "Gewann der Verein das Pokalfinale?",          # any finite verb, no question word
    "Die Brücke ist also gesperrt?",
    "Hat die Stadt das Bad geschlossen oder nicht?",
    "Stimmt es, dass die Mieten gestiegen sind?",
])
def test_german_yes_no_questions(question):
    assert is_yes_no(question, "de")


@pytest.mark.parametrize("question", [
    "Wer hat die Wahl gewonnen?",
    "Wann öffnet das Museum wieder?",
    "In welchem Jahr wurde die Brücke gebaut?",
    "Ist das Konzert am Freitag oder am Samstag?",  # a choice, not yes or no
    "Weißt du, wer die Wahl gewonnen hat?",
    "Nenne die Gewinner des Wettbewerbs.",
    "Die Kosten der Sanierung",
    "",
])
def test_german_other_questions(question):
    assert not is_yes_no(question, "de")


@pytest.mark.parametrize("question", [
    "Did the council approve the budget?",
    "Is the bridge closed",
    "Has the strike ended?",
    "Can visitors enter the museum on Mondays?",
    "Isn't the bridge closed for repairs?",
    "Doesn’t the plan include new schools?",
    "And were there injuries in the fire?",
    "The bridge is closed?",
    "Did the council approve the budget or not?",
])
def test_english_yes_no_questions(question):
    assert is_yes_no(question, "en")


@pytest.mark.parametrize("question", [
    "Who won the election?",
    "How many people were injured?",
    "Is the concert on Friday or Saturday?",
    "Do you know who won the election?",
    "Tell me about the strike.",
    "Which team scored first?",
])
def test_english_other_questions(question):
    assert not is_yes_no(question, "en")


def test_unknown_language_is_refused():
    with pytest.raises(ValueError, match="language"):
        is_yes_no("Est-ce que le pont est fermé ?", "fr")


def test_render_in_both_languages():
    quote = "Die Stadt schloss das  Hallenbad am Montag."
    assert render(YesNo("yes", 0.9, quote), "de", quote) == "Ja. Im Artikel heißt es: „Die Stadt schloss das Hallenbad am Montag.“ [1]"
    assert render(YesNo("no", 0.1, quote), "de", quote, marker=2).startswith("Nein. Im Artikel heißt es: „Die Stadt")
    assert render(YesNo("no", 0.1, quote), "en", quote, marker=None) == (
        "No. The article says: “Die Stadt schloss das Hallenbad am Montag.”"
    )
    assert render(YesNo("yes", 0.9, quote), "en", quote).startswith("Yes. The article says: “")


def test_render_refuses_undecided_and_empty_quote():
    with pytest.raises(ValueError, match="undecided"):
        render(YesNo(None, 0.5, "x"), "de", "x")
    with pytest.raises(ValueError, match="quote"):
        render(YesNo("yes", 0.9, "x"), "de", "  ")


class ScriptedModel:
    """A back end that answers every yes/no prompt with the same P(yes) and records the prompts."""

    def __init__(self, p_yes: float):
        self.p_yes = p_yes
        self.prompts: list[list[dict]] = []

    def yes_probability(self, messages):
        self.prompts.append(messages)
        return self.p_yes


SENTENCES = [
    "Das Wetter in Lindau war am Wochenende sonnig.",
    "Die Stadt Lindau schloss das Hallenbad am Montag wegen Bauarbeiten.",
    "Der Gemeinderat tagt im Juni.",
    "Der Eintritt ins Freibad kostet vier Euro.",
]


@pytest.mark.parametrize(("p", "answer"), [(0.93, "yes"), (0.04, "no"), (0.5, None)])
def test_decide_reads_p_yes_against_the_thresholds(p, answer):
    d = decide(ScriptedModel(p), "Hat die Stadt Lindau das Hallenbad geschlossen?", SENTENCES, "de", hi=0.7, lo=0.3)
    assert d == YesNo(answer, p, SENTENCES[1])


def test_decide_shows_the_most_similar_sentences_after_the_demonstrations():
    model = ScriptedModel(0.9)
    decider = YesNoDecider(model, max_shown=2)
    d = decider("Hat die Stadt Lindau das Hallenbad geschlossen?", SENTENCES, "de")
    assert d.answer == "yes" and d.evidence == SENTENCES[1]
    messages = model.prompts[-1]
    assert messages[0]["role"] == "system" and len(messages) > 3  # demonstrations in the cached prefix
    last = messages[-1]["content"]
    assert "Hallenbad am Montag" in last and "Wetter in Lindau" in last and "Freibad" not in last
    assert "Question: Hat die Stadt Lindau das Hallenbad geschlossen?" in last
    # the fixed part is the same for every question, so the back end can keep it evaluated
    decider("Tagt der Gemeinderat im Juni?", SENTENCES, "de")
    assert model.prompts[0][:-1] == model.prompts[1][:-1]


def test_decide_uses_a_given_similarity():
    d = decide(ScriptedModel(0.1), "Is the pool open?", SENTENCES, "en", similarity=lambda q, s: [0, 0, 0, 1])
    assert d == YesNo("no", 0.1, SENTENCES[3])


def test_decide_without_token_probabilities_or_sentences_is_undecided():
    class TextOnly:
        pass

    assert decide(TextOnly(), "Ist das Bad zu?", SENTENCES, "de") == YesNo(None, None, SENTENCES[0])
    model = ScriptedModel(0.9)
    assert decide(model, "Ist das Bad zu?", ["", "  "], "de") == YesNo(None, None, None)
    assert model.prompts == []


def test_thresholds_are_checked():
    with pytest.raises(ValueError, match="lo <= hi"):
        YesNoDecider(ScriptedModel(0.5), hi=0.3, lo=0.7)
    with pytest.raises(ValueError, match="max_shown"):
        YesNoDecider(ScriptedModel(0.5), max_shown=0)


@pytest.mark.models
def test_small_model_decides_a_clear_question(small_llm):
    # The defaults (HI, LO) are measured for the 1.5B answer model; the 0.5B leans to "no" throughout
    # (P(yes) 0.35-0.5 on clear questions), so its decision is read at its own threshold.
    decider = YesNoDecider(small_llm, hi=0.45, lo=0.45)
    sentences = [
        "Die Bürger von Lindau wählten am Sonntag Anna Keller zur neuen Bürgermeisterin.",
        "Die Wahlbeteiligung lag bei 48 Prozent.",
    ]
    right = decider("Wurde Anna Keller zur Bürgermeisterin von Lindau gewählt?", sentences, "de")
    wrong = decider("Wurde Peter Maier zum Bürgermeister von Lindau gewählt?", sentences, "de")
    assert right.answer == "yes" and wrong.answer == "no", (right, wrong)
    assert right.evidence == wrong.evidence == sentences[0]
    assert render(right, "de", right.evidence) == f"Ja. Im Artikel heißt es: „{sentences[0]}“ [1]"
