"""The dev-split figures, pinned: the 1.5B model's answers to the seed set (a dev set: one article),
recorded once, are checked again by today's retrieval, evidence selection and verifier. A change that
loses answers it used to keep, or lets through refusals it used to make, fails here, in a minute and
without the 1.5B model (the replay asks no model: the plain fit decides, as for the 0.5B model).

Re-record after a deliberate change: ``assistant eval --set seed --label <name>`` with the default
model, copy the run into ``evals/results/``, point RECORDED at it, and pin the replay's figures
(``assistant eval --set seed --model qwen2.5-coder-0.5b --replay <run.json>``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from evals.runner import EvalOptions, run_eval
from tests.conftest import make_settings

pytestmark = pytest.mark.models

REPO = Path(__file__).resolve().parents[2]
RECORDED = REPO / "evals" / "results" / "RECORDED.json"


def test_the_recorded_seed_answers_keep_their_dev_figures(seed_store, tmp_path):
    settings = make_settings(tmp_path / "index", **{"llm.model": "qwen2.5-coder-0.5b"})
    res = run_eval(EvalOptions(replay=RECORDED, model="qwen2.5-coder-0.5b", index_dir=tmp_path / "unused"), settings,
                   store=seed_store)
    a = res["answers"]
    assert a["n"] == 66 and a["errors"] == 0
    FIGURES
