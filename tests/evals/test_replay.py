"""Replaying an earlier run's model text through today's checks (``assistant eval --replay``)."""

from __future__ import annotations

import json

import pytest

from assistant.backends.llm import ScriptedChatModel
from assistant.errors import ConfigError
from evals.replay import ReplayChatModel, recorded_ids, recorded_replies

SYSTEMS = {"You answer from the passages."}


def results_file(tmp_path, rows):
    path = tmp_path / "run.json"
    path.write_text(json.dumps({"questions": rows}), encoding="utf-8")
    return path


def row(qid, question, raw, standalone=None, **extra):
    answer = {"raw_text": raw, "standalone_question": standalone or question, **extra}
    return {"id": qid, "question": question, "answer": answer}


def test_recorded_replies_are_keyed_by_the_standalone_question(tmp_path):
    path = results_file(tmp_path, [
        row("q1", "Wo traf Trump Putin?", "In Anchorage [1]."),
        row("q2", "Und wann?", "Am Freitag [1].", standalone="Wann traf Trump Putin?"),
        row("q3", "Was ist los?", "", model_called=False),  # the relevance gate refused: no text
        row("q4", "Wer?", "x", error="the model is down", error_kind="LLMUnavailableError"),
        {"id": "q5", "question": "not asked (a stopped run)"},
    ])
    assert recorded_replies(path) == {"Wo traf Trump Putin?": "In Anchorage [1].", "Wann traf Trump Putin?": "Am Freitag [1]."}
    assert recorded_ids(path) == {"q1", "q2", "q3"}


@pytest.mark.parametrize("content", ["not json", json.dumps({"run": {}}), json.dumps({"questions": [{"id": "q"}]})])
def test_a_file_that_is_no_results_file_is_a_one_line_error(tmp_path, content):
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"--replay .*bad\.json"):
        recorded_replies(path)


def test_answer_prompts_get_the_recorded_text_and_everything_else_goes_to_the_model():
    real = ScriptedChatModel(["Wann traf Trump Putin?"], name="real")
    replay = ReplayChatModel(real, {"Wo traf Trump Putin?": "In Anchorage [1].", "Trump": "too short"}, SYSTEMS)
    answer_prompt = [{"role": "system", "content": "You answer from the passages."},
                     {"role": "user", "content": "[1] …\nFrage: Wo traf Trump Putin?"}]
    assert "".join(replay.stream(answer_prompt, max_tokens=10, temperature=0.0)) == "In Anchorage [1]."
    condense_prompt = [{"role": "system", "content": "Rewrite the follow-up."}, {"role": "user", "content": "Wo traf Trump Putin?"}]
    assert "".join(replay.stream(condense_prompt, max_tokens=10, temperature=0.0)) == "Wann traf Trump Putin?"
    assert (replay.replayed, replay.asked, replay.name) == (1, 1, "real")
    assert replay.last_prompt is None  # a replayed answer cost no prompt tokens
    # token probabilities are the real model's, or absent when it has none
    assert getattr(replay, "yes_probability", None) is None
