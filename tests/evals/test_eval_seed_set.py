"""The seed question set: its shape, and that its gold is really in the seed article."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from assistant.errors import ConfigError
from evals.datasets import SEED_QUESTIONS, load_questions, load_set, select
from evals.metrics import contains_fact
from tests.conftest import SEEDS
from vectorstore.chunker import chunk_article
from vectorstore.language import detect_language
from vectorstore.loader import load_file

SEED_ARTICLE = load_file(next(SEEDS.glob("*.md"))).articles[0]
QUESTIONS = load_questions(SEED_QUESTIONS)


def test_the_set_has_every_kind_in_the_numbers_asked_for():
    # the numbers evals/README.md gives ("The seed set")
    assert len(QUESTIONS) == 66
    assert Counter(q.kind for q in QUESTIONS) == {
        "de": 18, "en": 8, "crosslingual": 11, "followup": 7, "yesno": 6, "unanswerable": 16,
    }
    assert Counter(q.language for q in QUESTIONS if q.kind == "unanswerable") == {"de": 9, "en": 7}
    assert Counter(q.language for q in QUESTIONS if q.kind == "yesno") == {"de": 3, "en": 3}
    assert len({q.id for q in QUESTIONS}) == len(QUESTIONS)


def test_records_are_consistent():
    for q in QUESTIONS:
        assert q.answerable == (q.kind != "unanswerable"), q.id
        assert bool(q.history) == (q.kind == "followup"), q.id
        if q.answerable:
            assert q.gold_facts and q.gold_passages, q.id
        else:
            assert not q.gold_facts and not q.gold_passages, q.id
        if q.kind in ("en", "crosslingual"):
            assert q.language == "en", q.id
        if q.kind == "de":
            assert q.language == "de", q.id
        # the declared language is the one the product will detect (and answer in)
        assert detect_language(q.question) == q.language, q.id


def test_gold_passages_are_verbatim_and_fit_in_one_chunk():
    chunks = chunk_article(SEED_ARTICLE)  # default chunking
    for q in QUESTIONS:
        for p in q.gold_passages:
            assert SEED_ARTICLE.text.count(p) == 1, (q.id, p)
            assert any(p in c.text for c in chunks), (q.id, p)


def test_gold_facts_occur_in_the_article_in_its_own_spelling():
    """Each fact lists the German spelling of the article among its alternatives, so an answer that
    copies the article counts (English questions add their own spelling)."""
    for q in QUESTIONS:
        for fact in q.gold_facts:
            assert contains_fact(SEED_ARTICLE.text, fact), (q.id, fact)


def test_names_accept_the_german_and_english_spellings():
    fu = next(q for q in QUESTIONS if q.id == "fu-01")
    assert {"Selenskyj", "Zelenskyy", "Zelensky"} <= set(fu.gold_facts[0])


def test_select_takes_kinds_round_robin():
    picked = select(QUESTIONS, 5)
    assert sorted(q.kind for q in picked) == sorted(["de", "en", "crosslingual", "followup", "unanswerable"])
    assert select(QUESTIONS, None) == QUESTIONS
    assert len(select(QUESTIONS, 1000)) == len(QUESTIONS)


def test_load_set_seed_points_at_the_seeds_folder():
    s = load_set("seed")
    assert s.corpus == [SEEDS] and s.corpus_language == "de"
    assert len(s.questions) == len(QUESTIONS)


@pytest.mark.parametrize(
    "record, message",
    [
        ({"id": "x", "question": "Wer?", "language": "de", "kind": "de", "answerable": True}, "needs gold_facts"),
        ({"id": "x", "question": "Wer?", "language": "fr", "kind": "de", "answerable": True, "gold_facts": ["a"]}, "language"),
        ({"id": "x", "question": "Wer?", "language": "de", "kind": "quiz", "answerable": True}, "kind must be"),
        ({"id": "x", "question": "Und?", "language": "de", "kind": "followup", "answerable": True, "gold_facts": ["a"]},
         "needs a history"),
        ({"id": "x", "question": "Wer?", "language": "de", "kind": "unanswerable", "answerable": True, "gold_facts": ["a"]},
         "answerable must be false"),
        ({"id": "x", "question": "Wer?", "language": "de", "kind": "de", "answerable": True, "gold_facts": [[]]}, "gold_facts"),
    ],
)
def test_bad_records_are_refused_with_the_line(tmp_path, record, message):
    path = tmp_path / "q.jsonl"
    path.write_text(json.dumps(record) + "\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=message) as err:
        load_questions(path)
    assert f"{path}:1" in str(err.value)
