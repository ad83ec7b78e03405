"""The evaluation metrics, computed on hand-made cases whose values are worked out by hand."""

from __future__ import annotations

import random

import numpy as np
import pytest

from evals.gold import Gold
from evals.metrics import (
    abstention_metrics,
    contains_fact,
    dangling_markers,
    fact_recall,
    facts_f1,
    percentile,
    ranking_metrics,
    timing_stats,
    token_f1,
)


def test_ranking_metrics_recall_mrr_and_curve():
    m = ranking_metrics([1, 3, None, 2])
    assert m["n"] == 4
    assert m["recall@1"] == 0.25
    assert m["recall@5"] == 0.75
    assert m["recall@10"] == 0.75
    assert m["mrr"] == pytest.approx((1 + 1 / 3 + 1 / 2) / 4)
    assert m["curve"][:4] == [0.25, 0.5, 0.75, 0.75]
    assert len(m["curve"]) == 10


def test_ranking_metrics_ranks_beyond_the_cutoff_are_misses():
    m = ranking_metrics([12, 1], ks=(1, 10), curve_k=10)
    assert m["recall@10"] == 0.5
    assert m["mrr"] == 0.5


def test_ranking_metrics_of_nothing_is_none_not_zero():
    m = ranking_metrics([])
    assert m["n"] == 0 and m["recall@1"] is None and m["mrr"] is None


def test_token_f1():
    assert token_f1("Keir Starmer", "Keir Starmer") == 1.0
    # articles are dropped: pred {premierminister, keir, starmer} vs ref {keir, starmer}: P 2/3, R 1
    assert token_f1("Der Premierminister Keir Starmer [1].", "Keir Starmer") == pytest.approx(0.8)
    assert token_f1("Emmanuel Macron", "Keir Starmer") == 0.0
    # repeated tokens count only as often as the reference has them: P 1/3, R 1/2
    assert token_f1("Putin Putin Trump", "Putin Selenskyj") == pytest.approx(0.4)
    assert token_f1("", "") == 1.0
    assert token_f1("etwas", "") == 0.0


def test_facts_f1_takes_the_best_alternative_per_fact_and_averages_facts():
    facts = [["Anchorage", "Alaska"], ["Freitag"]]
    # fact 1: best alternative 'Alaska' -> P 1/3 R 1 -> 0.5; fact 2: 'Freitag' missing -> 0
    assert facts_f1("in Alaska, USA", facts) == pytest.approx(0.25)
    assert facts_f1("Alaska", []) is None


def test_contains_fact_matches_at_word_starts_with_spelling_folded():
    assert contains_fact("Die Ukraine braucht Patriots [1].", ["Patriot"])
    assert contains_fact("He spoke indirectly to Putin.", "indirect")
    assert contains_fact("im Weissen Haus", ["Weißen Haus"])
    assert contains_fact("Präsident Selenskyj sagte", ["Zelenskyy", "Selenskyj"])
    assert contains_fact("Ursula von der Leyen [2]", ["von der Leyen"])
    assert not contains_fact("Der Kommerz blüht.", ["Merz"])
    assert not contains_fact("Keir Starmer", ["Macron"])


def test_fact_recall_is_the_share_of_facts_found():
    facts = [["Putin"], ["Selenskyj", "Zelenskyy"], ["Trump"]]
    assert fact_recall("Trump und Putin [1].", facts) == pytest.approx(2 / 3)
    assert fact_recall("irgendwas", []) is None


def test_abstention_precision_and_recall_with_unanswerable_as_positives():
    # (answerable, abstained)
    pairs = [(False, True), (False, False), (True, True), (True, False), (True, False)]
    m = abstention_metrics(pairs)
    assert (m["tp"], m["fn"], m["fp"], m["tn"]) == (1, 1, 1, 2)
    assert m["precision"] == 0.5
    assert m["recall"] == 0.5
    assert m["false_abstention_rate"] == pytest.approx(1 / 3)
    assert abstention_metrics([(True, False)])["precision"] is None


def test_dangling_markers_are_numbers_that_name_no_passage_shown():
    raw = "Trump empfing Selenskyj [1]. Auch Merz kam [2, 5]. Meloni ebenfalls [3][ 7 ]. Macron [0]."
    assert dangling_markers(raw, n_passages=3) == [0, 5, 7]
    assert dangling_markers(raw, n_passages=7) == [0]
    assert dangling_markers("Starmer kam [2-4].", n_passages=3) == [4]  # ranges are expanded
    assert dangling_markers("Keine Marker.", n_passages=0) == []


def test_percentile_interpolates_like_numpy():
    assert percentile([1, 2, 3, 4], 50) == 2.5
    assert percentile([4, 1, 3, 2], 95) == pytest.approx(3.85)
    assert percentile([7.0], 95) == 7.0
    assert percentile([], 50) is None
    rng = random.Random(3)
    vals = [rng.uniform(0, 10) for _ in range(37)]
    for q in (0, 5, 50, 95, 100):
        assert percentile(vals, q) == pytest.approx(float(np.percentile(vals, q)))
    with pytest.raises(ValueError):
        percentile([1.0], 101)


def test_timing_stats_skip_missing_values():
    s = timing_stats([1.0, None, 3.0])
    assert s == {"n": 2, "p50": 2.0, "p95": pytest.approx(2.9), "mean": 2.0}


def test_gold_span_relevance_needs_half_the_passage():
    g = Gold({"a1": ((100, 140),), "a2": None})
    assert g.relevant("a1", 0, 200)  # holds it all
    assert g.relevant("a1", 0, 120)  # holds 20 of 40 characters
    assert not g.relevant("a1", 0, 110)  # holds 10 of 40
    assert not g.relevant("a1", 150, 400)
    assert g.relevant("a2", 5000, 5100)  # article-level gold: any chunk counts
    assert not g.relevant("a3", 0, 10_000)
    assert Gold().empty and not g.empty
