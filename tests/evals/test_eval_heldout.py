"""Held-out runs without models: topics left out of a copy of the index (hashing embedder), their
questions scored as unanswerable, the run's numbers and report lines (scripted chat model).

A tiny XQuAD of three topics stands in for the real one (``benchmarks.common`` reads it from
``XQUAD_DE``/``XQUAD_EN``), so these tests need no ../shared/data.
"""

from __future__ import annotations

import hashlib
import json
import re

import pytest

from assistant.assistant import Assistant
from assistant.backends.llm import ScriptedChatModel
from assistant.errors import ConfigError
from assistant.types import REFUSAL, Answer
from benchmarks import common
from evals import report, runner
from evals.cli import main
from evals.datasets import EvalQuestion, choose_topics, held_out_topics, load_set, select
from evals.gold import Gold
from evals.runner import EvalOptions, held_out_index, prepare_held_out_index, run_eval
from evals.scoring import held_out_metrics, score_answer
from tests.conftest import make_settings
from vectorstore import open_store
from vectorstore.embedder import HashEmbedder

# topic -> paragraphs: (German context, German question, English question, German answer, English answer)
TOPICS = {
    "Vulkane": [
        ("Der Ätna ist ein Vulkan auf Sizilien. Er ist 3357 Meter hoch und speit oft Lava.",
         "Wie hoch ist der Ätna?", "How high is Etna?", "3357 Meter", "3,357 metres"),
        ("Der Vesuv liegt am Golf von Neapel. Sein Ausbruch im Jahr 79 zerstörte die Stadt Pompeji.",
         "Welche Stadt zerstörte der Vesuv?", "Which city did Vesuvius destroy?", "Pompeji", "Pompeii"),
    ],
    "Bienen": [
        ("Honigbienen leben in großen Völkern. Ein Volk hat im Sommer bis zu 50000 Bienen.",
         "Worin leben Honigbienen?", "What do honey bees live in?", "großen Völkern", "large colonies"),
        ("Die Königin legt alle Eier des Volkes. Sie legt im Frühjahr bis zu 2000 Eier am Tag.",
         "Wer legt alle Eier des Volkes?", "Who lays all the eggs of the colony?", "Königin", "the queen"),
    ],
    "Orgeln": [
        ("Die Orgel ist ein Tasteninstrument mit Pfeifen. Die größte Orgel der Welt steht in Atlantic City.",
         "Wo steht die größte Orgel der Welt?", "Where is the largest organ in the world?", "Atlantic City", "Atlantic City"),
        ("Orgelpfeifen haben viele Größen. Sie bestehen meistens aus Metall oder aus Holz.",
         "Woraus bestehen Orgelpfeifen?", "What are organ pipes made of?", "Metall", "metal"),
    ],
}
HELD = "Bienen"  # choose_topics(3, 1) with the fixed seed


def squad(lang: str) -> dict:
    """The topics in XQuAD's (SQuAD) format; the English file keeps the German contexts (not read)."""
    return {"data": [
        {"title": title, "paragraphs": [
            {"context": ctx, "qas": [{"id": f"{title}-{i}", "question": q_de if lang == "de" else q_en,
                                      "answers": [{"text": a_de if lang == "de" else a_en, "answer_start": 0}]}]}
            for i, (ctx, q_de, q_en, a_de, a_en) in enumerate(paragraphs)
        ]}
        for title, paragraphs in TOPICS.items()
    ]}


@pytest.fixture
def tiny_xquad(tmp_path, monkeypatch):
    for lang in ("de", "en"):
        path = tmp_path / f"xquad.{lang}.json"
        path.write_text(json.dumps(squad(lang), ensure_ascii=False), encoding="utf-8")
        monkeypatch.setattr(common, f"XQUAD_{lang.upper()}", path)


@pytest.fixture
def settings(tmp_path):
    return make_settings(tmp_path / "full", **{"embedding.model": "hash-256", "answering.min_relevance": 0.0})


def build_full_index(tmp_path, settings):
    """The set's full index (every topic), as a plain --set xquad run leaves it."""
    full = tmp_path / "full"
    store = open_store(settings, embedder=HashEmbedder(256))
    try:
        assert not store.ingest(load_set("xquad", full, distractors=0).corpus).failed
    finally:
        store.close()
    return full


def snapshot(folder):
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


def held_titles(held):
    return {r["title"] for r in held.records}


def test_the_held_out_topics_are_a_fixed_seeded_choice(tiny_xquad):
    assert choose_topics(48, 8) == choose_topics(48, 8) == [2, 16, 19, 24, 25, 26, 31, 32]
    assert choose_topics(48, 8, seed=1) != choose_topics(48, 8)
    for n in (0, 48):
        with pytest.raises(ConfigError, match="--hold-out must be between 1 and 47"):
            choose_topics(48, n)
    held = held_out_topics("xquad", 1)
    assert held.topics == (HELD,) and sorted(held.record_ids) == ["xquad-002", "xquad-003"]
    assert held.to_dict() == {"n": 1, "seed": 0, "topics": [HELD], "records": ["xquad-002", "xquad-003"]}
    with pytest.raises(ConfigError, match="--hold-out works with --set xquad or xquad-r"):
        held_out_topics("mlqa", 1)


def test_held_out_questions_are_unanswerable_and_a_limit_takes_half_of_each(tiny_xquad, tmp_path):
    held = held_out_topics("xquad", 1)
    s = load_set("xquad", tmp_path / "work", distractors=0, held_out=held)
    corpus = [json.loads(line) for line in s.record_file.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in corpus] == ["xquad-000", "xquad-001", "xquad-004", "xquad-005"]
    assert s.held_out == held and s.notes == ["4 xquad paragraphs (without the 2 of the 1 held-out topics) + 0 10kGNAD distractor articles"]
    for q in s.questions:
        assert q.answerable == (q.topic != HELD), q.id
        assert q.kind == ("unanswerable" if q.topic == HELD else {"de": "de", "en": "crosslingual"}[q.language]), q.id
    picked = select(s.questions, 4, by_answerable=True)
    # answerable, held-out, answerable, held-out; German then English within each half
    assert [(q.answerable, q.language) for q in picked] == [(True, "de"), (False, "de"), (True, "en"), (False, "en")]
    assert picked[0].gold_article == picked[2].gold_article and picked[1].gold_article == picked[3].gold_article
    assert len(select(s.questions, 100, by_answerable=True)) == len(s.questions) == 12


def test_the_copy_lacks_the_held_out_articles_is_reused_and_the_full_index_is_untouched(tiny_xquad, tmp_path, settings,
                                                                                       monkeypatch):
    full = build_full_index(tmp_path, settings)
    before = snapshot(full)
    held = held_out_topics("xquad", 1)
    copy = runner.held_out_index_dir(full, 1, 0)
    assert copy == tmp_path / "full-holdout1-seed0"
    info = prepare_held_out_index(full, copy, held, settings, embedder=HashEmbedder(256))
    assert info["reused"] is False and info["topics"] == [HELD] and len(info["articles_removed"]) == 2

    full_store = open_store(settings, embedder=HashEmbedder(256))
    held_store = open_store(make_settings(copy, **{"embedding.model": "hash-256"}), embedder=HashEmbedder(256))
    try:
        everything = full_store.catalog.chunk_ids()
        gone = {c.id for c in full_store.catalog.chunks(everything).values() if c.meta["title"] in held_titles(held)}
        assert len(gone) == info["chunks_removed"] == 2
        # neither side of the copy holds a held-out chunk; every other chunk is still on both sides
        assert held_store.catalog.chunk_ids() == held_store.dense.ids() == everything - gone
        assert {a["article_id"] for a in full_store.articles()} - {a["article_id"] for a in held_store.articles()} \
            == set(info["articles_removed"])
        assert not any(h.chunk.meta["title"] in held_titles(held)
                       for h in held_store.search("Wie viele Eier legt die Königin der Bienen?", k=5))
        assert any(h.chunk.meta["title"] in held_titles(held)
                   for h in full_store.search("Wie viele Eier legt die Königin der Bienen?", k=5))
    finally:
        full_store.close()
        held_store.close()
    assert json.loads((copy / "holdout.json").read_text(encoding="utf-8"))["complete"] is True

    # a second call reuses the copy: nothing is copied or deleted again
    def no_copy(*_a, **_k):
        raise AssertionError("the copy was made again")

    monkeypatch.setattr(runner.shutil, "copytree", no_copy)
    again = prepare_held_out_index(full, copy, held, settings, embedder=HashEmbedder(256))
    assert again["reused"] is True and again["articles_removed"] == info["articles_removed"]
    assert snapshot(full) == before


def test_a_folder_in_the_copys_place_is_refused(tiny_xquad, tmp_path, settings):
    full = build_full_index(tmp_path, settings)
    held = held_out_topics("xquad", 1)
    copy = runner.held_out_index_dir(full, 1, 0)
    copy.mkdir()
    with pytest.raises(ConfigError, match="exists but was not made by a held-out run"):
        prepare_held_out_index(full, copy, held, settings, embedder=HashEmbedder(256))
    copy.rmdir()
    prepare_held_out_index(full, copy, held, settings, embedder=HashEmbedder(256))
    other = held_out_topics("xquad", 2)
    with pytest.raises(ConfigError, match="lacks other records"):
        prepare_held_out_index(full, copy, other, settings, embedder=HashEmbedder(256))


HELD_DE = EvalQuestion(id="b1-de", question="Wie viele Eier legt die Königin am Tag?", language="de", kind="unanswerable",
                       gold_facts=(("2000",),), answerable=False, topic=HELD)
HELD_EN = EvalQuestion(id="b1-en", question="How many eggs does the queen lay per day?", language="en", kind="unanswerable",
                       gold_facts=(("2,000", "2000"),), answerable=False, topic=HELD)
KEPT_DE = EvalQuestion(id="o1-de", question="Woraus bestehen Orgelpfeifen?", language="de", kind="de",
                       gold_facts=(("Metall",),), topic="Orgeln")
KEPT_EN = EvalQuestion(id="o1-en", question="What are organ pipes made of?", language="en", kind="crosslingual",
                       gold_facts=(("metal", "Metall"),), topic="Orgeln")


def answer(text: str, language: str, *, abstained: bool = False) -> Answer:
    return Answer(question="q", text=text, raw_text=text, language=language, citations=[], sentences=[],
                  grounded=not abstained, abstained=abstained, passages=[], timings={"total_s": 1.0})


def row(q: EvalQuestion, a: Answer) -> dict:
    return {**score_answer(q, a, Gold()), "answerable": q.answerable, "kind": q.kind, "language_q": q.language}


def test_a_held_out_refusal_is_right_and_an_answer_wrong_even_with_the_gold_in_it():
    refused = row(HELD_DE, answer(REFUSAL["de"], "de", abstained=True))
    assert refused["correct"] is True and "facts_all" not in refused
    answered = row(HELD_EN, answer("The queen lays up to 2,000 eggs a day.", "en"))
    assert answered["correct"] is False  # the model knew it, but the articles do not say it
    rows = [refused, answered,
            row(KEPT_DE, answer("Sie bestehen aus Metall oder Holz.", "de")),
            row(KEPT_EN, answer(REFUSAL["en"], "en", abstained=True)),
            {"error_kind": "LLMUnavailableError", "answerable": False, "kind": "unanswerable", "language_q": "de"}]
    m = held_out_metrics(rows)
    assert (m["held_out"], m["refused"], m["refusal_rate"]) == (2, 1, 0.5)
    assert (m["answerable"], m["false_abstentions"], m["gold_answers"], m["gold_answer_rate"]) == (2, 1, 1, 0.5)
    assert m["errors"] == 1
    assert m["by_language"]["de"] == {"held_out": 1, "refused": 1, "refusal_rate": 1.0, "answerable": 1,
                                      "false_abstentions": 0, "false_abstention_rate": 0.0,
                                      "gold_answers": 1, "gold_answer_rate": 1.0}
    assert m["by_language"]["en"] == {"held_out": 1, "refused": 0, "refusal_rate": 0.0, "answerable": 1,
                                      "false_abstentions": 1, "false_abstention_rate": 1.0,
                                      "gold_answers": 0, "gold_answer_rate": 0.0}


def copy_passage_one_or_refuse_in_german(messages) -> str:
    """Copies passage [1]'s text, except for German questions about bees, which it refuses. (The
    questions do not ask for a figure: a copied passage without one would be refused by rule.)"""
    ask = messages[-1]["content"]
    if "Honigbienen" in ask.splitlines()[-1] or "Eier" in ask.splitlines()[-1]:
        return REFUSAL["de"]
    m = re.search(r"^\[1\] \(.*?\) (.+)$", ask, re.MULTILINE)
    return m.group(1).rstrip(".") + " [1]."


def test_a_held_out_run_scores_and_reports_the_held_out_questions(tiny_xquad, tmp_path, settings):
    opts = EvalOptions(set="xquad", hold_out=1, distractors=0, index_dir=tmp_path / "full", limit=8)
    held, info = held_out_index(opts, settings)  # builds the full index first: there is none yet
    assert held.topics == (HELD,) and info["reused"] is False
    s = runner.eval_settings(settings, opts)
    store = open_store(s)
    try:
        assistant = Assistant(s, store=store, llm=ScriptedChatModel([copy_passage_one_or_refuse_in_german]))
        res = run_eval(opts, settings, store=store, assistant=assistant)
    finally:
        store.close()
    run = res["run"]
    assert run["hold_out"]["topics"] == [HELD] and run["hold_out"]["reused"] is True
    assert run["corpus"]["index_dir"] == str(tmp_path / "full-holdout1-seed0") and run["corpus"]["articles"] == 4
    assert "-xquad-holdout1-hybrid-" in run["id"]
    rows = {q["id"]: q for q in res["questions"]}
    assert [q["answerable"] for q in res["questions"]] == [True, False] * 4
    for qid, q in rows.items():
        if not q["answerable"]:  # German ones refused (right), English ones answered from another topic (wrong)
            assert q["answer"]["abstained"] == q["answer"]["correct"] == (q["language"] == "de"), qid
    h = res["answers"]["held_out"]
    assert (h["held_out"], h["refused"], h["answerable"]) == (4, 2, 4)
    assert h["by_language"]["de"]["refused"] == 2 and h["by_language"]["en"]["refused"] == 0
    # the answerable ones: passage [1] holds the answer for all but Vulkane-1-en (the hashing embedder
    # ranks by shared words, and an English question shares few with German text)
    assert {qid: q["answer"]["facts_all"] for qid, q in rows.items() if q["answerable"]} == {
        "Orgeln-0-de": True, "Orgeln-0-en": True, "Vulkane-1-de": True, "Vulkane-1-en": False,
    }
    # Vulkane-1-en's copied passage is Etna's: it names no "Vesuvius", which the question asks about,
    # so that wrong answer is refused (a false abstention by the set's count, a right refusal in fact)
    assert rows["Vulkane-1-en"]["answer"]["abstained"]
    assert (h["false_abstentions"], h["gold_answers"]) == (1, 3)
    md = report.markdown(res)
    assert "## Held-out topics" in md and f"Not in the index (1, seed 0): {HELD}." in md
    assert "| held-out questions refused | 2/4 (0.500) | 2/2 (1.000) | 0/2 (0.000) |" in md
    assert "| false abstentions on answerable ones | 1/4 (0.250) | 0/2 (0.000) | 1/2 (0.500) |" in md
    assert "| answers containing a gold answer (answerable ones) | 3/4 (0.750) | 2/2 (1.000) | 1/2 (0.500) |" in md
    assert report.headline(res).endswith("; held-out refused 2/4, false abstentions 1/4, gold answer de 2/2, en 1/2")


def test_the_command_line_checks_the_hold_out(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("NEWSQA_EMBEDDING__MODEL", "hash-256")
    monkeypatch.setenv("NEWSQA_PATHS__CACHE_DIR", str(tmp_path / "cache"))
    assert main(["--set", "xquad", "--hold-out", "-1", "--retrieval-only"]) == 1
    assert "--hold-out must be at least 0, got -1" in capsys.readouterr().err
    assert main(["--set", "seed", "--hold-out", "2", "--retrieval-only", "--out", str(tmp_path / "out")]) == 1
    assert "--hold-out works with --set xquad or xquad-r" in capsys.readouterr().err
    assert not (tmp_path / "cache").exists()
