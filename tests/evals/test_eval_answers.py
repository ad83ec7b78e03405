"""Scoring answers: hand-made Answer objects in, per-question rows and aggregates out."""

from __future__ import annotations

import pytest

from assistant.types import REFUSAL, Answer, Citation, SentenceCheck
from evals.datasets import EvalQuestion
from evals.gold import Gold
from evals.scoring import answer_metrics, score_answer
from vectorstore.types import Chunk, Hit

PASSAGE = "An den Gesprächen nehmen unter anderem der britische Premierminister Keir Starmer teil."
GOLD_START = 1420  # where the passage starts in its (pretend) article "a1"
GOLD = Gold({"a1": ((GOLD_START + 39, GOLD_START + 80),)})  # "der britische Premierminister Keir Starmer"

STARMER = EvalQuestion(
    id="de-04", question="Wie heißt der britische Premierminister?", language="de", kind="de",
    gold_facts=(("Starmer",),), gold_passages=("der britische Premierminister Keir Starmer",),
)
STARMER_EN = EvalQuestion(
    id="en-02", question="Which British prime minister takes part?", language="en", kind="en",
    gold_facts=(("Starmer",),), gold_passages=STARMER.gold_passages,
)
INFLATION = EvalQuestion(id="un-01", question="Wie hoch ist die Inflation?", language="de", kind="unanswerable", answerable=False)


def hit(article_id: str = "a1", start: int = GOLD_START, text: str = PASSAGE) -> Hit:
    return Hit(Chunk(id=f"c-{article_id}-{start}", article_id=article_id, ordinal=0, text=text, start=start,
                     end=start + len(text), meta={"title": "T", "language": "de"}), score=0.5)


def citation(n: int, article_id: str = "a1", start: int = GOLD_START, passage: str = PASSAGE) -> Citation:
    return Citation(number=n, chunk_id=f"c{n}", article_id=article_id, title="T", date="2025-08-18", source="s", url="",
                    passage=passage, start=start, end=start + len(passage))


def answer(text: str, *, raw_text: str | None = None, language: str = "de", citations=(), sentences=(), abstained=False,
           passages=(), timings=None) -> Answer:
    """An answer as the assistant returns it; ``raw_text`` is what the model wrote (default: ``text``
    for answers, nothing for abstentions, which the relevance gate gives without the model)."""
    if raw_text is None:
        raw_text = "" if abstained else text
    return Answer(question="q", text=text, raw_text=raw_text, language=language, citations=list(citations),
                  sentences=list(sentences), grounded=not abstained, abstained=abstained, passages=list(passages),
                  timings=timings if timings is not None else {"first_token_s": 0.5, "total_s": 2.0})


def test_a_correct_cited_answer():
    a = answer("Der britische Premierminister ist Keir Starmer [1].", citations=[citation(1)],
               sentences=[SentenceCheck("Der britische Premierminister ist Keir Starmer.", (1,), "supported")],
               passages=[hit()])
    row = score_answer(STARMER, a, GOLD)
    assert row["correct"] and row["facts_all"] and row["fact_recall"] == 1.0
    # 5 answer tokens (britische premierminister ist keir starmer; 'der' dropped), 1 reference token: P 1/5, R 1
    assert row["f1"] == pytest.approx(1 / 3)
    assert row["citations_valid"] is True and row["dangling"] == [] and row["markers"] == 1
    assert row["cited_gold"] is True and row["context_hit"] is True
    assert row["language_ok"] and not row["abstained"]


def test_a_dangling_marker_and_a_citation_off_the_gold():
    other = "Trump sagte, er werde mit Putin telefonieren."
    # the model was shown one passage and cited [4]; the checked text no longer has the marker
    a = answer("Keir Starmer [1]. Auch Macron kam.", raw_text="Keir Starmer [1]. Auch Macron kam [4].",
               citations=[citation(1, "a2", 0, other)],
               sentences=[SentenceCheck("Keir Starmer.", (1,), "not_found"), SentenceCheck("Auch Macron kam.", (), "contradicted")],
               passages=[hit("a2", 0, other)])
    row = score_answer(STARMER, a, GOLD)
    assert row["dangling"] == [4] and row["citations_valid"] is False and row["markers"] == 2
    assert row["cited_gold"] is False  # the cited passage neither holds the gold passage nor the fact
    assert row["context_hit"] is False
    assert row["correct"]  # the fact is in the text all the same


def test_a_marker_beyond_the_passages_shown_counts_though_the_user_never_sees_it():
    """The checked text cannot hold a dangling marker (the citation check removes it), so the
    metric reads what the model wrote: [7] with 3 passages shown is dangling."""
    passages = [hit(), hit("a2", 0, "Macron reiste an."), hit("a3", 0, "Meloni reiste an.")]
    a = answer("Keir Starmer nimmt teil [1]. Auch Macron kommt [2].", raw_text="Keir Starmer nimmt teil [1]. Auch Macron kommt [7].",
               citations=[citation(1), citation(2, "a2", 0, "Macron reiste an.")], passages=passages)
    row = score_answer(STARMER, a, GOLD)
    assert row["dangling"] == [7] and row["citations_valid"] is False and row["markers"] == 2
    m = answer_metrics(rows_for((STARMER, a, GOLD)))
    assert m["dangling_markers"] == 1 and m["citation_validity"] == 0.0
    shown = answer(a.text, citations=a.citations, passages=passages)  # had the model written what the user sees
    assert score_answer(STARMER, shown, GOLD)["dangling"] == []


def test_an_answer_in_the_wrong_language():
    a = answer("Der Premierminister ist Keir Starmer [1].", language="de", citations=[citation(1)])
    row = score_answer(STARMER_EN, a, GOLD)
    assert not row["language_ok_declared"] and not row["language_ok_detected"] and not row["language_ok"]
    b = answer("The prime minister is Keir Starmer [1].", language="en", citations=[citation(1)])
    assert score_answer(STARMER_EN, b, GOLD)["language_ok"]


def test_abstentions_on_answerable_and_unanswerable_questions():
    refusal = answer(REFUSAL["de"], abstained=True)
    right = score_answer(INFLATION, refusal, Gold())
    assert right["correct"] and right["abstained"] and "fact_recall" not in right
    assert right["model_called"] is False and right["citations_valid"] is None  # no model text to judge
    wrong = score_answer(STARMER, refusal, GOLD)
    assert not wrong["correct"] and wrong["fact_recall"] == 0.0 and wrong["f1"] == 0.0 and wrong["cited_gold"] is None
    invented = score_answer(INFLATION, answer("Die Inflation liegt bei 2,1 Prozent."), Gold())
    assert not invented["correct"]


def rows_for(*pairs):
    return [{**score_answer(q, a, g), "answerable": q.answerable, "kind": q.kind, "language_q": q.language} for q, a, g in pairs]


def test_answer_metrics_aggregate():
    good = answer("Keir Starmer [1].", citations=[citation(1)],
                  sentences=[SentenceCheck("Keir Starmer.", (1,), "supported")], passages=[hit()],
                  timings={"first_token_s": 1.0, "total_s": 3.0})
    dangling = answer("Keir Starmer [1].", raw_text="Keir Starmer [1][2].", citations=[citation(1)], passages=[hit()],
                      sentences=[SentenceCheck("Keir Starmer.", (), "contradicted")], timings={"first_token_s": 2.0, "total_s": 5.0})
    refused = answer(REFUSAL["de"], abstained=True, timings={"total_s": 0.2})
    invented = answer("Etwa 2 Prozent.", sentences=[SentenceCheck("Etwa 2 Prozent.", (), "not_found")],
                      timings={"first_token_s": 3.0, "total_s": 4.0})
    rows = rows_for((STARMER, good, GOLD), (STARMER, dangling, GOLD), (STARMER, refused, GOLD),
                    (INFLATION, refused, Gold()), (INFLATION, invented, Gold()))
    rows.append({"error_kind": "LLMUnavailableError", "error": "down", "total_s": 0.1, "answerable": True,
                 "kind": "de", "language_q": "de"})
    m = answer_metrics(rows)
    assert m["n"] == 6 and m["errors"] == 1
    assert m["correct"] == pytest.approx(3 / 5)  # good, dangling (fact present), refused-unanswerable
    assert m["fact_recall"] == pytest.approx(2 / 3)
    assert m["abstention"]["precision"] == 0.5 and m["abstention"]["recall"] == 0.5
    assert m["citation_validity"] == pytest.approx(2 / 3)  # of the 3 answers the model wrote, 'dangling' is not
    assert m["dangling_markers"] == 1
    assert m["sentences"] == {"supported": 1, "contradicted": 1, "not_found": 1}
    assert m["sentence_support_rate"] == pytest.approx(1 / 3)
    assert m["abstained_before_model"] == 2  # the two refusals carry no model text
    assert m["cited_gold_rate"] == 1.0  # of the two cited answers to answerable questions, both cite the gold
    assert m["first_token_s"]["n"] == 3 and m["first_token_s"]["p50"] == 2.0
    assert m["total_s"]["p50"] == 3.0
