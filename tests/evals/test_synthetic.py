"""The synthetic checker set is made the same way every time and has every kind (fast: hash embedder)."""

from __future__ import annotations

import pytest

from evals.synthetic import KINDS, build, change_date, change_number, negate, reformat_date, state_as_fact, swap_roles
from tests.conftest import SHARED_DATA, require_shared_data
from vectorstore.embedder import HashEmbedder


@pytest.fixture
def needs_data():
    require_shared_data("10kGNAD/test.csv", "xquad")


@pytest.mark.usefixtures("needs_data")
def test_the_generator_is_deterministic_and_yields_every_kind():
    first = build(SHARED_DATA, HashEmbedder(), per_kind=5)
    again = build(SHARED_DATA, HashEmbedder(), per_kind=5)
    assert first == again
    assert {r["kind"] for r in first} == set(KINDS)
    for r in first:
        assert r["label"] == KINDS[r["kind"]]
        assert r["evidence"] in r["passage"]
        assert r["claim"] and r["claim_language"] in ("de", "en")


@pytest.mark.usefixtures("needs_data")
def test_checker_set_articles_are_left_out():
    from evals.synthetic import _checker_sources

    cited = _checker_sources()
    assert cited and all("-".join(r["passage_id"].split("-")[:2]) not in cited for r in build(SHARED_DATA, HashEmbedder(), per_kind=5))


@pytest.mark.parametrize("edit,text,changed", [
    (lambda t: negate(t, "de"), "Die Regierung hat das Gesetz beschlossen.", "Die Regierung hat das Gesetz nicht beschlossen."),
    (lambda t: negate(t, "en"), "The bridge was opened in 1981.", "The bridge was not opened in 1981."),
    (lambda t: swap_roles(t, "en"), "The Broncos defeated the Steelers in Denver.", "The Steelers defeated the Broncos in Denver."),
    (lambda t: reformat_date(t, "de"), "Sie kam am 18. August 2025 an.", "Sie kam am 18.08.2025 an."),
    (lambda t: state_as_fact(t, "de"), "Die Wahl könnte teuer werden.", "Die Wahl wird teuer werden."),
    (lambda t: state_as_fact(t, "de"), "Er kommt vielleicht morgen.", "Er kommt morgen."),
    (lambda t: state_as_fact(t, "en"), "The talks might resume in May.", "The talks will resume in May."),
])
def test_edits(edit, text, changed):
    assert edit(text) == changed


def test_a_changed_figure_or_date_differs():
    import random

    # another figure of the article, of a similar size, is the hard case
    assert change_number("Er erzielte 88 Tackles.", "de", "Er erzielte 88 Tackles, Kuechly 118.", random.Random(0)) \
        == "Er erzielte 118 Tackles."
    assert change_date("The referendum was held in 1979.", "en", random.Random(0)) != "The referendum was held in 1979."
