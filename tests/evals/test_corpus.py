"""The verifier corpus (evals/corpus.py): each edit on small hand-made sentences, the alignment and
the passages on hand-made paragraphs, and a small build from the shared data with the hashing
embedder (no model): deterministic, every record in the half of its article."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest

from evals import corpus as C
from evals.corpus_data import Para, Sent, _spans, align, claim_text, window
from evals.perturb import (change_figure, content_overlap, flip_quantifier, insert_phrase, negate_clean, number_format,
                           state_as_fact_more, sub_claim)
from evals.perturb_names import possessive_checked, swap_actors, swap_entity
from evals.splits import checker_split
from tests.conftest import SHARED_DATA, require_shared_data
from vectorstore.embedder import HashEmbedder

R = random.Random


# --------------------------------------------------------------------------------------------------
# Supported edits.


@pytest.mark.parametrize("text,language,claim", [
    ("The bridge (built in 1901) connects the two banks of the river.", "en", "The bridge connects the two banks of the river."),
    ("Mara Quint, who was born in Lisbon, moved to Oslo in 1990.", "en", "Mara Quint moved to Oslo in 1990."),
    ("The firm opened a new plant in Ohio, which employs 300 workers.", "en", "The firm opened a new plant in Ohio."),
    ("After the storm had passed, the workers repaired the damaged roof.", "en", "The workers repaired the damaged roof."),
    ("Die Schule blieb am Montag geschlossen, weil die Heizung ausgefallen war.", "de", "Die Schule blieb am Montag geschlossen."),
    ("Der Verein kaufte einen neuen Bus, um die Spieler zu den Turnieren zu bringen.", "de", "Der Verein kaufte einen neuen Bus."),
])
def test_sub_claim_drops_an_optional_part(text, language, claim):
    assert sub_claim(text, language) == claim


def test_sub_claim_keeps_conditions_and_german_restrictive_clauses():
    assert sub_claim("Die Schule bleibt am Montag geschlossen, wenn die Heizung ausfällt.", "de") is None
    assert sub_claim("The school stays closed on Monday if the heating fails.", "en") is None
    # German commas do not tell restrictive clauses apart: only after a name is one dropped
    text = "Die Spieler, die verletzt waren, fehlten beim Training am Montag."
    assert sub_claim(text, "de") is None
    named = "Anna Berger, die seit 2010 im Amt ist, hat den Vertrag unterschrieben."
    assert sub_claim(named, "de", is_name=lambda w: w == "Berger") == "Anna Berger hat den Vertrag unterschrieben."


def test_number_format_writes_the_same_figure_another_way():
    assert number_format("Das Stadion fasst 45.000 Zuschauer.", "de") == "Das Stadion fasst 45000 Zuschauer."
    assert number_format("The city has 1,250,000 inhabitants.", "en") == "The city has 1250000 inhabitants."
    assert number_format("Sie schoss drei Tore im Finale.", "de") == "Sie schoss 3 Tore im Finale."
    assert number_format("Sie kam am 18.08.2025 an.", "de") is None  # a date is not a figure


def test_possessive_only_for_names():
    assert possessive_checked("She praised the office of Netanyahu.", "en", lambda w: False) == "She praised Netanyahu's office."
    assert possessive_checked("The test began on the morning of January 27, 1967.", "en", lambda w: False) is None
    assert possessive_checked("Es ist das Zentrum von Wiesenheim.", "de", lambda w: False) is None
    assert possessive_checked("Es ist das Zentrum von Wiesenheim.", "de", lambda w: w == "Wiesenheim") == "Es ist Wiesenheims Zentrum."


# --------------------------------------------------------------------------------------------------
# Contradicting edits.


@pytest.mark.parametrize("text,language,claim", [
    ("Mehr als 200 Menschen kamen zum Fest.", "de", "Weniger als 200 Menschen kamen zum Fest."),
    ("Die Preise stiegen im Sommer deutlich.", "de", "Die Preise sanken im Sommer deutlich."),
    ("Das ist der höchste Turm der Stadt.", "de", "Das ist der niedrigste Turm der Stadt."),
    ("Alle Abgeordneten stimmten für das Gesetz.", "de", "Nur einige Abgeordneten stimmten für das Gesetz."),
    ("The river flows north of the old town.", "en", "The river flows south of the old town."),
    ("He retired after the final season.", "en", "He retired before the final season."),
    ("Exports increased by a third in 2010.", "en", "Exports decreased by a third in 2010."),
    ("The town has over 500 inhabitants.", "en", "The town has under 500 inhabitants."),
])
def test_flip_quantifier(text, language, claim):
    assert flip_quantifier(text, language, R(0)) == claim


def test_flip_quantifier_leaves_idioms():
    assert flip_quantifier("She was named after her grandmother.", "en", R(0)) is None
    assert flip_quantifier("Er ist nicht mehr als ein Zuschauer.", "de", R(0)) is None
    assert flip_quantifier("There are infinitely many primes.", "en", R(0)) is None
    assert flip_quantifier("Über das Thema wurde lange gesprochen.", "de", R(0)) is None  # "über" without a figure
    assert flip_quantifier("Unbekannt ist, wie viele Soldaten kamen.", "de", R(0)) is None  # an embedded question


def test_negation_flips_plain_sentences_only():
    assert negate_clean("The museum was opened in 1990.", "en") == "The museum was not opened in 1990."
    assert negate_clean("Die Regierung hat das Gesetz beschlossen.", "de") == "Die Regierung hat das Gesetz nicht beschlossen."
    assert negate_clean("Er hat nicht nur gewonnen, sondern auch gefeiert.", "de") is None
    assert negate_clean("It is unknown whether the museum was opened.", "en") is None
    assert negate_clean("The museum will close if the roof leaks.", "en") is None


def test_change_figure_changes_an_exact_figure_enough():
    for seed in range(20):
        new = change_figure("Die Mannschaft erzielte 40 Punkte in 12 Spielen.", "de", "", R(seed))
        old = {40, 12}
        got = {int(x) for x in __import__("re").findall(r"\d+", new)}
        (changed,) = old - got
        (value,) = got - old
        assert abs(value - changed) >= 0.15 * changed
    # another figure of the article of a similar size is the hard case
    assert change_figure("Er erzielte 88 Tackles.", "de", "Er erzielte 88 Tackles, Kuechly 118.", R(0)) == "Er erzielte 118 Tackles."
    # approximate figures, dates and parts of longer numbers are left alone
    assert change_figure("Es waren etwa 900 Menschen.", "de", "", R(0)) is None
    assert change_figure("Sie kam am 18.08.2025 an.", "de", "", R(0)) is None
    assert change_figure("Der Wert lag bei 162 584 Euro.", "de", "", R(0)) is None


def test_swap_entity_puts_another_name_of_the_same_type():
    mentions = {"person": ["Maria Lopez"], "place": []}
    pools = {"person": ["Maria Suarez", "Peter Holm", "Ina Berg"]}
    new = swap_entity("Maria Lopez traf den Bürgermeister in Linz.", mentions, pools, "", R(0))
    assert new == "Peter Holm traf den Bürgermeister in Linz."  # Maria Suarez shares a word: skipped
    assert swap_entity("Maria Lopez traf den Bürgermeister.", mentions, pools, "Peter Holm", R(0)) == \
        "Ina Berg traf den Bürgermeister."  # a name the evidence has is not put in
    # part of a longer run of capitalised words ("Queen Elizabeth II") is not a name to swap
    assert swap_entity("It was opened by Queen Elizabeth II in 1981.", {"person": ["Elizabeth"]}, {"person": ["Holm"]}, "", R(0)) is None


def test_swap_actors_needs_a_verb_between_and_no_list_or_symmetric_verb():
    assert swap_actors("In 1950, Noble appointed Kintner to be president.", ["Noble", "Kintner"]) == \
        "In 1950, Kintner appointed Noble to be president."
    assert swap_actors("Die ÖVP kritisierte die SPÖ scharf.", [], language="de") == "Die SPÖ kritisierte die ÖVP scharf."
    teams = frozenset({"Broncos", "Steelers", "Denver"})
    assert swap_actors("The Broncos defeated the Steelers in Denver.", [], teams) == "The Steelers defeated the Broncos in Denver."
    assert swap_actors("A Norman named Oursel led the army.", [], frozenset({"Norman", "Oursel"})) is None
    assert swap_actors("Grissom, White, and Chaffee named the flight.", ["Grissom", "White", "Chaffee"]) is None
    assert swap_actors("Merkel traf Obama in Berlin.", ["Merkel", "Obama"], language="de") is None
    assert swap_actors("Merkel und Obama reisten nach Berlin.", ["Merkel", "Obama"], language="de") is None


# --------------------------------------------------------------------------------------------------
# Not-found edits.


def test_state_as_fact_drops_a_hedge():
    assert state_as_fact_more("Der Täter ist vermutlich ins Ausland geflohen.", "de") == "Der Täter ist ins Ausland geflohen."
    assert state_as_fact_more("The talks might resume in May.", "en") == "The talks will resume in May."
    assert state_as_fact_more("The talks resumed in May.", "en") is None


def test_insert_phrase_puts_a_detail_where_the_language_wants_it():
    assert insert_phrase("Der Minister hat das Gesetz unterschrieben.", "de", "am Dienstag") == \
        "Der Minister hat das Gesetz am Dienstag unterschrieben."
    assert insert_phrase("Die Regierung beschloss das Gesetz.", "de", "in Graz") == "Die Regierung beschloss das Gesetz in Graz."
    assert insert_phrase("The council approved the plan.", "en", "because of public pressure") == \
        "The council approved the plan because of public pressure."
    assert insert_phrase('He said "no."', "en", "on Monday") is None


def test_content_overlap():
    assert content_overlap("Die Regierung beschloss das Gesetz.", "Das Gesetz wurde von der Regierung beschlossen.") == 1.0
    assert content_overlap("Die Regierung beschloss das Gesetz.", "Es regnete.") == 0.0


# --------------------------------------------------------------------------------------------------
# Passages and alignment on hand-made paragraphs.


def _para(text: str, language: str = "de", pid: str = "xquad-0-0", article: str = "Topic") -> Para:
    return Para("xquad", article, pid, article, language, text, _spans(text), text)


def test_windows_are_exact_substrings_and_deleted_passages_leave_the_sentence_out():
    p = _para("Anna kam um acht. Bernd kam um neun. Clara kam um zehn. Dora kam um elf.")
    s = Sent(p, 1)
    assert window(s, 1, 1) == "Anna kam um acht. Bernd kam um neun. Clara kam um zehn."
    assert window(s, 2, 2) == p.text
    assert window(s, 0, 2, skip_self=True) == "Clara kam um zehn. Dora kam um elf."
    assert window(s, 2, 0, skip_self=True) == "Anna kam um acht."
    assert window(Sent(p, 0), 2, 0, skip_self=True) == ""
    assert claim_text(Sent(_para("Wien – Die Stadt wächst schnell weiter.", pid="10kgnad-0001"), 0)) == "Die Stadt wächst schnell weiter."


class _Table:
    """An embedder that looks vectors up in a table (for the alignment)."""

    name = "table"

    def __init__(self, table: dict[str, list[float]]):
        self.table = table

    def embed(self, texts, kind="query"):
        v = np.array([self.table[t] for t in texts], dtype=np.float32)
        return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_align_keeps_confident_one_to_one_pairs_with_the_same_figures():
    de = _para("Der Hafen wurde im Jahr 1901 eröffnet. Die Stadt hat zwei große Brücken. Der Bahnhof liegt im Norden der Stadt.")
    en = _para("The port was opened in the year 1901. The city has two large bridges. The station lies in the north.", "en")
    d, e = [de.text[a:b] for a, b in de.spans], [en.text[a:b] for a, b in en.spans]
    table = {d[0]: [1, 0, 0], e[0]: [1, 0.1, 0], d[1]: [0, 1, 0], e[1]: [0, 1, 0.1],
             d[2]: [0, 1, 1], e[2]: [0, 0.1, 1]}  # the third German sentence is as near the second English one
    pairs = align([de], [en], _Table(table))
    assert [(x.text, y.text) for x, y in pairs.values()] == [(d[0], e[0]), (d[1], e[1])]
    de2 = _para("Der Hafen wurde im Jahr 1902 eröffnet. Die Stadt hat zwei große Brücken.")
    table[de2.text[: de2.spans[0][1]]] = [1, 0, 0]
    assert all(x.i != 0 for x, _ in align([de2], [en], _Table(table)).values())  # 1902 against 1901: not parallel


# --------------------------------------------------------------------------------------------------
# A small build from the shared data (hashing embedder: no model).


@pytest.fixture(scope="module")
def small():
    require_shared_data("xquad-r", "10kGNAD/test.csv", "mlqa")
    return C.build(SHARED_DATA, HashEmbedder(), HashEmbedder(), scale=0.06, gnad_limit=120)


def test_the_build_is_deterministic_and_well_formed(small):
    again = C.build(SHARED_DATA, HashEmbedder(), HashEmbedder(), scale=0.06, gnad_limit=120)
    assert small == again
    assert {r["split"] for r in small} == {"dev", "test"}
    assert len({r["id"] for r in small}) == len(small)
    for r in small:
        assert r["label"] == C.KINDS[r["kind"]]
        assert r["passage"] and r["claim"] and r["claim"] != r["passage"]
        assert r["evidence"] in r["passage"] and (r["evidence"] == "") == (r["label"] == "not_found")
        assert {r["claim_language"], r["passage_language"]} <= {"de", "en"}
        assert r["passage_id"].startswith(r["source"] + "-")


def _xquad_titles() -> list[str]:
    return [a["title"] for a in json.loads((SHARED_DATA / "xquad" / "xquad.de.json").read_text(encoding="utf-8"))["data"]]


def test_every_record_is_in_the_half_of_its_article(small):
    titles = _xquad_titles()
    for r in small:
        assert checker_split(r, titles) == r["split"], r["id"]


def test_the_written_corpus_is_split_by_article():
    if not C.OUT.exists():
        pytest.skip("evals/sets/verifier-corpus.jsonl is not built")
    require_shared_data("xquad")
    titles = _xquad_titles()
    records = [json.loads(line) for line in C.OUT.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(records) >= 3000
    for r in records:
        assert checker_split(r, titles) == r["split"], r["id"]
        assert r["label"] == C.KINDS[r["kind"]]
