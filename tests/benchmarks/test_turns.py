"""The conversation part of ``assistant bench answer`` (``benchmarks.turns``): dev dialogues only, model
calls counted by purpose, first turns and follow-ups summarised apart. Scripted model, hash embedder."""

from __future__ import annotations

import json

import pytest

from assistant.assistant import Assistant
from assistant.backends.llm import ScriptedChatModel
from benchmarks import turns
from benchmarks.splits import split_of
from tests.conftest import SEEDS, make_settings
from vectorstore import open_store
from vectorstore.embedder import HashEmbedder

DIALOGUE = {"id": "d1", "topic": "seed", "turns": [
    {"question": "Wo traf Trump Putin?", "kind": "first"},
    {"question": "Und was sagte Selenskyj dazu?", "kind": "follow_up"},
    {"question": "Wie hoch ist die Inflationsrate in Deutschland?", "kind": "switch"},
]}


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    s = make_settings(tmp_path_factory.mktemp("turns-hash"), **{"embedding.model": "hash-256", "answering.min_relevance": 0.0,
                                                                 "verify.threshold": 0.0})
    st = open_store(s, embedder=HashEmbedder(256))
    st.ingest([SEEDS])
    yield st
    st.close()


def test_only_dev_dialogues_are_read(tmp_path):
    topics = ["Super_Bowl_50", "Warsaw", "Amazon_rainforest", "Black_Death", "Geology", "Kenya", "Force", "Islamism"]
    assert {split_of("xquad", t) for t in topics} == {"dev", "test"}  # the file below holds both halves
    path = tmp_path / "set.jsonl"
    path.write_text("".join(json.dumps({"id": t, "topic": t, "turns": []}) + "\n" for t in topics), encoding="utf-8")
    dev = [t for t in topics if split_of("xquad", t) == "dev"]
    assert [d["id"] for d in turns.dev_dialogues(path, n=100)] == dev
    assert [d["id"] for d in turns.dev_dialogues(path, n=2)] == dev[:2]


def test_a_follow_up_costs_one_rewrite_and_one_answer_counted_by_purpose(store):
    llm = ScriptedChatModel(["Wo traf Trump Putin am Freitag?", "Trump traf Putin in Anchorage [1]."])
    log = turns.CallLog(turns.purposes_of(store.settings))
    a = Assistant(store.settings, store=store, llm=log.attach(llm))
    rows = turns.play(DIALOGUE, a.ask, log)
    assert [r["kind"] for r in rows] == ["first", "follow_up", "switch"]
    assert rows[0]["calls"] == {"answer": 1}
    assert rows[1]["calls"] == {"condense": 1, "answer": 1}
    assert rows[2]["calls"] == {"answer": 1}  # a self-contained question is not rewritten
    assert len(log.calls) == len(llm.calls) == 4
    assert all(r["total_s"] is not None and r["passages_s"] is not None for r in rows)


def test_a_follow_up_resolved_by_rules_costs_no_extra_call(store):
    s = store.settings.with_overrides(**{"answering.follow_up_rewrite": "rules"})
    log = turns.CallLog(turns.purposes_of(s))
    a = Assistant(s, store=store, llm=log.attach(ScriptedChatModel(["Trump traf Putin in Anchorage [1]."])))
    rows = turns.play(DIALOGUE, a.ask, log)
    assert [r["calls"] for r in rows] == [{"answer": 1}] * 3
    assert rows[1]["searched_as"] == "Wo traf Trump Putin? Und was sagte Selenskyj dazu?"


def test_judge_questions_are_counted_apart():
    class Judging(ScriptedChatModel):
        def yes_probability(self, messages):
            return 0.9

    log = turns.CallLog({"sys": "answer"})
    model = log.attach(Judging(["ok"]))
    assert model.yes_probability([{"role": "user", "content": "?"}]) == 0.9
    assert list(model.stream([{"role": "system", "content": "sys"}], max_tokens=5, temperature=0.0)) == ["ok"]
    list(model.stream([{"role": "system", "content": "else"}], max_tokens=5, temperature=0.0))
    assert [(c.purpose, c.max_tokens, c.pieces) for c in log.calls] == [("judge", None, 0), ("answer", 5, 1), ("other", 5, 1)]


def test_first_turns_and_follow_ups_are_summarised_apart():
    def row(kind, total, calls):
        log = [{"purpose": p, "seconds": 0.5, "prompt_tokens": 200, "new_prompt_tokens": 150, "pieces": 12}
               for p, n in calls.items() for _ in range(n)]
        return {"kind": kind, "passages_s": 0.1, "first_token_s": total / 2, "total_s": total, "calls": calls, "call_log": log}

    rows = [row("first", 4.0, {"answer": 1}), row("first", 6.0, {"answer": 1, "judge": 3}), row("first", 7.0, {"answer": 1}),
            row("follow_up", 6.0, {"condense": 1, "answer": 1}), row("follow_up", 8.0, {"condense": 1, "answer": 2}),
            row("follow_up", 10.0, {"condense": 1, "answer": 1}), row("switch", 3.0, {"answer": 1})]
    s = turns.summarize(rows)
    assert [s[g]["turns"] for g in ("first", "follow_up", "other")] == [3, 3, 1]
    assert s["first"]["total_p50_s"] == 6.0 and s["follow_up"]["total_p50_s"] == 8.0
    assert s["follow_up"]["total_p95_s"] == 10.0
    assert s["follow_up_over_first"] == pytest.approx(8.0 / 6.0)
    assert s["follow_up"]["calls_mean"]["condense"] == 1.0 and s["follow_up"]["calls_max"]["answer"] == 2
    assert s["first"]["calls_mean"]["judge"] == 1.0
    assert s["follow_up"]["rewrite"]["calls"] == 3 and s["follow_up"]["rewrite"]["prompt_tokens_p50"] == 200
    assert s["first"]["rewrite"]["calls"] == 0
