"""The public question sets: corpus records, questions and their gold (no model, no index).

They read ../shared/data (XQuAD, XQuAD-R, MLQA, 10kGNAD). Without it they skip on a developer's
machine and fail in CI (``CI=true``), where a skipped test would hide that nothing was checked.
"""

from __future__ import annotations

import json
from collections import Counter

import pytest

from evals.datasets import load_set, select
from tests.conftest import SHARED_DATA, require_shared_data


@pytest.fixture(autouse=True)
def shared_data():
    require_shared_data("xquad", "xquad-r", "mlqa", "10kGNAD")


def records(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_xquad_asks_each_question_in_german_and_english(tmp_path):
    s = load_set("xquad", tmp_path, distractors=5)
    assert Counter(q.kind for q in s.questions) == {"de": 1190, "crosslingual": 1190}
    assert Counter(q.language for q in s.questions) == {"de": 1190, "en": 1190}
    recs = records(s.record_file)
    assert len(recs) == 240 + 5
    ids = {r["id"] for r in recs}
    assert all(q.gold_article in ids and q.gold_article.startswith("xquad-") for q in s.questions)
    # the parallel pair shares its gold paragraph; the English one accepts the German answer too
    first_de, first_en = s.questions[0], s.questions[1]
    assert first_de.id.removesuffix("-de") == first_en.id.removesuffix("-en")
    assert first_de.gold_article == first_en.gold_article
    assert set(first_de.gold_facts[0]) <= set(first_en.gold_facts[0])
    # the German answer span is in its paragraph (title + text)
    by_id = {r["id"]: r["title"] + " " + r["text"] for r in recs}
    assert all(q.gold_facts[0][0] in by_id[q.gold_article] for q in s.questions if q.language == "de")
    # a limit samples both languages and many paragraphs
    some = select(s.questions, 40)
    assert Counter(q.language for q in some) == {"de": 20, "en": 20}
    assert len({q.gold_article for q in some}) == 20  # each German/English pair asks about another paragraph


def test_xquad_r_gold_is_the_sentence_with_the_answer(tmp_path):
    s = load_set("xquad-r", tmp_path, distractors=0)
    assert len(s.questions) == 2380
    assert all(q.gold_passages for q in s.questions)
    for q in s.questions:
        if q.language == "de":  # the German answer is inside every gold passage
            assert all(q.gold_facts[0][0] in p for p in q.gold_passages), q.id
    # an answer that spans two sentences gets both as one passage
    spanning = next(q for q in s.questions if q.id == "57263ea0271a42140099d7c6-de")
    assert spanning.gold_passages[0].startswith("Allerdings waren DECnet") and "Linux" in spanning.gold_passages[0]


def test_mlqa_german_questions_over_native_paragraphs(tmp_path):
    s = load_set("mlqa", tmp_path, distractors=3)
    assert len(s.questions) == 512 and {q.language for q in s.questions} == {"de"}
    recs = records(s.record_file)
    assert sum(r["id"].startswith("mlqa-") for r in recs) == 456
    assert sum(r["id"].startswith("gnad-") for r in recs) == 3
