"""The news set (evals/sets/news.jsonl, NEWS.md): its shape, its dev/test halves, and that its gold is
really in its 10kGNAD articles. The article checks read ../shared/data/10kGNAD (skipped without it on a
developer's machine, failing in CI, like the public sets)."""

from __future__ import annotations

import json
import re
from collections import Counter

import pytest

from evals.datasets import NEWS_QUESTIONS, load_questions, load_set
from evals.metrics import contains_fact
from evals.splits import SPLITS, split_of
from tests.conftest import require_shared_data

QUESTIONS = load_questions(NEWS_QUESTIONS)  # the evals.datasets parser: a bad record fails here
KINDS = {"de", "crosslingual", "yesno", "unanswerable"}


def row_of(q) -> int:
    return int(q.gold_article.removeprefix("gnad-"))


@pytest.fixture(scope="module")
def articles():
    """gnad-NNNN -> the corpus record as the loader builds it (first sentence = title)."""
    require_shared_data("10kGNAD")
    from benchmarks import common

    return {r["id"]: r for r in common.gnad()}


def test_size_and_records():
    assert len(QUESTIONS) >= 96
    assert len({q.gold_article for q in QUESTIONS}) >= 16
    for q in QUESTIONS:
        assert re.fullmatch(r"gnad-\d{4}", q.gold_article or ""), q.id
        assert re.fullmatch(rf"news-{row_of(q)}-\d+", q.id), q.id
        assert q.kind in KINDS and q.answerable == (q.kind != "unanswerable"), q.id
        assert q.kind not in ("de", "crosslingual") or q.language == ("de" if q.kind == "de" else "en"), q.id
        assert bool(q.gold_facts) == bool(q.gold_passages) == q.answerable, q.id
        assert (q.yes_no is not None) == (q.kind == "yesno"), q.id


def test_splits_are_by_article_and_hold_every_kind():
    for q in QUESTIONS:
        assert q.split == split_of("10kgnad", row_of(q)), q.id
    for split in SPLITS:
        half = [q for q in QUESTIONS if q.split == split]
        assert len({q.gold_article for q in half}) >= 8, split
        assert {q.kind for q in half} == KINDS, split
        assert {q.yes_no for q in half if q.yes_no} == {"yes", "no"}, split
    assert Counter(q.yes_no for q in QUESTIONS if q.yes_no)["no"] >= 0.4 * sum(q.kind == "yesno" for q in QUESTIONS)


def test_yes_no_gold_tells_the_polarities_apart():
    # gold facts match at word starts: a bare "No" would match "not"/"November", so the no-gold leaves it out
    for q in (q for q in QUESTIONS if q.kind == "yesno"):
        yes, no = ("Ja, so ist es.", "Yes, it is."), ("Nein, so ist es nicht.", "No, it is not.")
        right, wrong = (yes, no) if q.yes_no == "yes" else (no, yes)
        assert all(contains_fact(a, q.gold_facts[0]) for a in right), q.id
        assert not any(contains_fact(a, q.gold_facts[0]) for a in wrong), q.id


def test_gold_is_in_its_article(articles):
    for q in (q for q in QUESTIONS if q.answerable):
        rec = articles[q.gold_article]
        for p in q.gold_passages:
            assert p in rec["title"] or p in rec["text"], (q.id, p)
        if q.kind != "yesno":  # a yes/no gold is the answer's polarity, not the article's words
            full = rec["title"] + " " + rec["text"]
            assert all(contains_fact(full, f) for f in q.gold_facts), q.id


def test_the_corpus_is_the_articles_plus_seeded_distractors(tmp_path, articles):
    s = load_set("news", tmp_path)
    recs = [json.loads(line) for line in s.corpus[0].read_text(encoding="utf-8").splitlines()]
    ids = [r["id"] for r in recs]
    own = {q.gold_article for q in QUESTIONS}
    assert len(ids) == len(set(ids)) == len(own) + 300 and own <= set(ids)
    assert [r["id"] for r in map(json.loads, load_set("news", tmp_path / "again").corpus[0].open())] == ids
    dev = load_set("news", tmp_path, split="dev", distractors=3)
    assert {q.split for q in dev.questions} == {"dev"} and len(dev.questions) < len(QUESTIONS)
