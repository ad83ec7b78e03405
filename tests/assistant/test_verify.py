"""The verifier: each check on invented sentences (fast), the combined verdict through a similarity
seam (fast: a constant embedder, so the findings and the shipped combiner decide), and verdicts
with the real e5 and USE (models), through the API and the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from assistant.verify import Code, Source, Verifier
from assistant.verify.checks import (
    Pair,
    check_dates,
    check_figures,
    check_modality,
    check_names,
    check_polarity,
    check_roles,
    check_weekdays,
    coverage,
    negations,
    order_discordance,
)
from assistant.verify.question import question_fit
from assistant.verify.combiner import FEATURES, load_combiner


def pair(claim: str, evidence: str, **kw) -> Pair:
    kw.setdefault("sentence", evidence)
    kw.setdefault("passage", evidence)
    return Pair(claim=claim, evidence=evidence, **kw)


def codes(findings) -> set[Code]:
    return {f.code for f in findings}


EV = "Die Stadtwerke Lindau haben am Dienstag 120 neue Busse bestellt, teilte Bürgermeisterin Anna Roth mit."


@pytest.mark.parametrize("claim,expected", [
    ("Die Stadtwerke Lindau haben 120 neue Busse bestellt.", set()),
    ("Die Stadtwerke Lindau haben 150 neue Busse bestellt.", {Code.FIGURE_DIFFERS}),
    ("Die Stadtwerke Lindau haben hundertzwanzig neue Busse bestellt.", set()),
])
def test_figures(claim, expected):
    assert codes(check_figures(pair(claim, EV))) == expected


@pytest.mark.parametrize("claim,evidence,date,expected", [
    ("The council met on 3 March 2024.", "Der Rat tagte am 03.03.2024.", "", set()),
    ("The council met on 4 March 2024.", "Der Rat tagte am 03.03.2024.", "", {Code.DATE_DIFFERS}),
    ("Der Rat tagte im März 2024.", "Der Rat tagte im März.", "2024-03-05", set()),
    ("Der Rat tagte am 9. Mai 2024.", "Der Rat tagte.", "", {Code.DATE_MISSING}),
])
def test_dates(claim, evidence, date, expected):
    assert codes(check_dates(pair(claim, evidence, date=date))) == expected


def test_weekdays_across_languages():
    assert not check_weekdays(pair("The buses were ordered on Tuesday.", EV))
    assert codes(check_weekdays(pair("The buses were ordered on Friday.", EV))) == {Code.WEEKDAY_DIFFERS}


@pytest.mark.parametrize("claim,expected", [
    ("Bürgermeisterin Anna Roth teilte die Bestellung mit.", set()),
    ("Bürgermeister Karl Weber teilte die Bestellung mit.", {Code.NAME_MISSING}),
])
def test_names(claim, expected):
    assert codes(check_names(pair(claim, EV))) == expected


def test_a_german_noun_the_passage_lacks_is_a_weaker_sign():
    assert codes(check_names(pair("Die Stadtwerke kauften neue Fahrzeuge.", "Die Stadtwerke kauften neue Busse."))) == {Code.WORD_MISSING}


def test_a_name_in_the_other_language_is_found_by_the_translator():
    p = pair("The buses come from Sweden.", "Die Busse kommen aus Schweden.", claim_language="en",
             translated=lambda names, text: names == ["Sweden"] and "Schweden" in text)
    assert not check_names(p)


@pytest.mark.parametrize("text,count", [
    ("Der Rat lehnte den Antrag ab.", 1),
    ("Der Rat schloss eine Erhöhung der Gebühren für das kommende Jahr nicht aus.", 2),
    ("The council did not rule out a fee increase.", 2),
    ("Nicht nur die Busse, sondern auch die Bahnen fahren.", 0),
    ("Nobody was hurt.", 1),
])
def test_negations(text, count):
    assert negations(text) == count


@pytest.mark.parametrize("claim,evidence,expected", [
    ("The council ruled out a fee increase.", "Der Rat schloss eine Erhöhung der Gebühren nicht aus.", {Code.POLARITY}),
    ("The council did not rule out a fee increase.", "Der Rat schloss eine Erhöhung der Gebühren nicht aus.", set()),
    ("Der Rat stimmte dem Antrag zu.", "Der Rat stimmte dem Antrag nicht zu.", {Code.POLARITY}),
])
def test_polarity(claim, evidence, expected):
    assert codes(check_polarity(pair(claim, evidence))) == expected


def test_modality():
    ev = "Die Stadt könnte die Gebühren im Herbst erhöhen."
    assert codes(check_modality(pair("Die Stadt erhöht die Gebühren im Herbst.", ev))) == {Code.MODALITY}
    assert not check_modality(pair("Die Stadt könnte die Gebühren erhöhen.", ev))


def test_roles():
    ev = "Der FC Lindau besiegte den SV Kempten am Samstag mit 2:1."
    assert codes(check_roles(pair("Der SV Kempten besiegte den FC Lindau mit 2:1.", ev))) == {Code.ROLES}
    assert not check_roles(pair("Der FC Lindau besiegte den SV Kempten mit 2:1.", ev))
    assert not check_roles(pair("Der SV Kempten wurde vom FC Lindau mit 2:1 besiegt.", ev))


def test_order_discordance():
    ev = "Der FC Lindau besiegte den SV Kempten am Samstag mit 2:1."
    assert order_discordance(pair("Der SV Kempten besiegte den FC Lindau mit 2:1.", ev)) > 0.5
    assert order_discordance(pair("Der FC Lindau besiegte den SV Kempten mit 2:1.", ev)) == 0.0


@pytest.mark.parametrize("question,answer,expected", [
    ("Wie viele Busse bestellte Lindau?", "Lindau bestellte neue Busse.", {Code.ASKS_FIGURE}),
    ("Wie viele Busse bestellte Lindau?", "Lindau bestellte 120 Busse.", set()),
    ("When were the buses ordered?", "The buses were ordered.", {Code.ASKS_TIME, Code.RESTATES_QUESTION}),
    ("When were the buses ordered?", "The buses were ordered on Tuesday.", set()),
    ("Wann kommen die Busse nach Kempten?", "Die Busse kommen im Mai.", {Code.QUESTION_NAME_ABSENT}),
    ("Wann kommen die Busse nach Lindau?", "Die Busse kommen im Mai.", set()),
])
def test_question_fit(question, answer, expected):
    asked_in = "en" if question.startswith("When") else "de"
    assert codes(question_fit(question, answer, EV, "de", question_language=asked_in)) == expected


def test_coverage():
    assert coverage("Die Stadtwerke bestellten neue Busse.", EV, "de") == 1.0
    assert coverage("Die Regierung plant neue Autobahnen.", EV, "de") < 0.5


# --------------------------------------------------------------------------------------------------
# The combined verdict, through the similarity seam: every sentence is equally similar, so the
# findings and the shipped weights decide.

class ConstantEmbedder:
    """Every text gets the same unit vector: the similarity seam of the fast tests."""

    name = "constant"

    def embed(self, texts, kind="passage"):
        return np.ones((len(texts), 8)) / np.sqrt(8)


@pytest.fixture(scope="module")
def seam():
    return Verifier(ConstantEmbedder())


@pytest.mark.parametrize("claim,verdict,expected", [
    ("Die Stadtwerke Lindau haben am Dienstag 120 neue Busse bestellt.", "supported", set()),
    ("Die Stadtwerke Lindau haben am Dienstag 150 neue Busse bestellt.", "contradicted", {Code.FIGURE_DIFFERS}),
    ("Die Stadtwerke Lindau haben am Dienstag keine neuen Busse bestellt.", "contradicted", {Code.POLARITY}),
    ("Die Stadtwerke Lindau haben am Freitag 120 neue Busse bestellt.", "contradicted", {Code.WEEKDAY_DIFFERS}),
    ("Bürgermeister Karl Weber hat am Dienstag 120 neue Busse bestellt.", "not_found", {Code.NAME_MISSING}),
])
def test_combined_verdicts(seam, claim, verdict, expected):
    check = seam.check(claim, [Source(EV)], [1], language="de")
    assert check.verdict == verdict, check
    assert expected <= check.codes, check.codes


def test_gates(seam):
    assert seam.check("Ja.", [Source(EV)], language="de").codes == {Code.NO_CONTENT}
    assert seam.check("Die Busse wurden von der Firma …", [Source(EV)], language="de").codes == {Code.UNFINISHED}
    assert seam.check("Die Busse kommen.", [], language="de").codes == {Code.NO_PASSAGE}


def test_the_shipped_weights_fit_the_features():
    combiner = load_combiner()
    assert len(combiner.plain.coef) == len(FEATURES) == len(combiner.judge.coef)
    assert 0 < combiner.plain.threshold < 1 and combiner.meta["split"] == "dev"


def test_a_threshold_of_zero_accepts_every_aligned_claim():
    from assistant.settings import Verify

    v = Verifier(ConstantEmbedder(), Verify(threshold=0.0))
    assert v.check("Die Stadtwerke haben 999 Busse verkauft.", [Source(EV)], language="de").supported


# --------------------------------------------------------------------------------------------------
# With the real models.

@pytest.fixture(scope="module")
def verifier(e5):
    return Verifier(e5)


REAL = [
    ("Der FC Lindau besiegte den SV Kempten am Samstag mit 2:1.", "FC Lindau beat SV Kempten 2-1 on Saturday.", "en", "supported"),
    ("Der FC Lindau besiegte den SV Kempten am Samstag mit 2:1.", "FC Lindau beat SV Kempten 3-1 on Saturday.", "en", "contradicted"),
    ("Die Stadtwerke Lindau haben 120 neue Busse bestellt.", "Die Stadtwerke Lindau haben 120 neue Busse bestellt.", "de", "supported"),
    ("Die Stadtwerke Lindau haben 120 neue Busse bestellt.", "Die Polizei nahm am Freitag zwei Verdächtige fest.", "de", "not_found"),
]


@pytest.mark.models
@pytest.mark.parametrize("passage,claim,language,verdict", REAL)
def test_verdicts_with_e5(verifier, passage, claim, language, verdict):
    check = verifier.check(claim, [Source(passage)], [1], language=language)
    assert check.verdict == verdict, check


TROOPS = ("Der Rat schloss eine Erhöhung der Gebühren für das kommende Jahr nicht aus. "
          "Roth sagte, die Bürger würden es im Herbst erfahren.")


@pytest.mark.models
def test_verify_command_prints_a_verdict_per_sentence(tmp_path):
    from tests.conftest import MODEL_CACHE

    passage = tmp_path / "p.txt"
    passage.write_text(TROOPS, encoding="utf-8")
    out = subprocess.run(
        [str(Path(sys.executable).parent / "assistant"), "verify", "--json", "--no-model", "--cache-dir", str(MODEL_CACHE),
         "--index-dir", str(tmp_path / "index"), "--passage", str(passage),
         "Yes. The council ruled out a fee increase for next year [1]."],
        capture_output=True, text=True, timeout=600,
    )
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    assert [r["verdict"] for r in rows] == ["not_found", "contradicted"]
    assert rows[1]["evidence"][0]["text"].startswith("Der Rat schloss") and rows[1]["evidence"][0]["passage"] == 1


def test_stemming_from_many_threads_gives_the_words_of_one():
    """Two users of a served UI check answers at once: the stemmers must not share a word between
    threads (a shared snowball stemmer broke with IndexError under two sessions)."""
    from concurrent.futures import ThreadPoolExecutor

    from assistant.verify import words

    vocabulary = [f"{w}{i}" for i in range(400) for w in ("Verhandlungen", "Staatssekretär", "Hauptstädte", "yesterday")]
    words.stem.cache_clear()
    alone = [words._stemmer("de").stemWord(w.lower()) for w in vocabulary]
    words.stem.cache_clear()
    with ThreadPoolExecutor(8) as pool:
        together = list(pool.map(lambda w: words.stem(w, "de"), vocabulary * 4))
    assert together == alone * 4
