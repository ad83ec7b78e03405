"""The news set's dev half replayed from its tape (``evals/tape.py``) through today's condense, context,
yes/no and check stages, with the real embedder: a change that loses the dev metrics fails here.

The tape holds what the 1.5B model wrote and every P(yes) it gave, so the model is not needed. The
pinned counts are the tape's recorded ones; raise them when a change wins, never lower them to pass.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evals.tape import play
from tests.conftest import make_settings

TAPE = Path(__file__).with_name("data") / "news-dev.tape.json"
#: the news set's dev half, 54 questions: at least this many right and unanswerable refused, at most
#: this many answerable ones refused
PINNED = {"correct": 29, "unanswerable_refused": 9, "false_abstentions": 21}


@pytest.fixture(scope="module")
def tape() -> dict:
    return json.loads(TAPE.read_text(encoding="utf-8"))


def test_the_tape_is_the_dev_half_with_its_recorded_metrics(tape):
    assert {q["split"] for q in tape["questions"]} == {"dev"}
    assert tape["metrics"]["n"] == len(tape["questions"]) == 54
    assert tape["metrics"]["correct"] >= PINNED["correct"]


def test_todays_stages_keep_the_dev_metrics_on_the_tape(tape, e5, tmp_path):
    metrics, misses = play(tape, make_settings(tmp_path / "index"), e5)
    # a miss: a stage asked for a search or a P(yes) the recording never saw (what a judge is shown
    # changed); record the tape again with `python -m evals.tape record` and compare
    assert misses == []
    assert metrics["n"] == 54
    assert metrics["correct"] >= PINNED["correct"], metrics
    assert metrics["unanswerable_refused"] >= PINNED["unanswerable_refused"], metrics
    assert metrics["false_abstentions"] <= PINNED["false_abstentions"], metrics
