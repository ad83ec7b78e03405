"""Evaluation on the real models: retrieval of the whole seed set with e5 (+ USE), and five answers
with the small GGUF. The expected values are the measured ones (2026-12-02, seed corpus, default
settings): a change in either direction means retrieval or answering changed, so re-run the
evaluation (`python -m evals`) and update them together with evals/results/."""

from __future__ import annotations

import pytest

from assistant.assistant import Assistant
from assistant.stages.prompts import prompt_hashes
from evals.runner import EvalOptions, run_eval
from tests.conftest import make_settings

pytestmark = pytest.mark.models


def test_seed_set_retrieval_with_e5(seed_store, tmp_path):
    res = run_eval(EvalOptions(retrieval_only=True, index_dir=tmp_path / "unused"), seed_store.settings, store=seed_store)
    ret = res["retrieval"]
    assert ret["overall"]["n"] == 50 and not ret["no_gold"]
    assert ret["by_pair"]["de->de"]["n"] == ret["by_pair"]["en->de"]["n"] == 25
    # measured: every gold passage in the top 5; de->de R@1 24/25 (MRR 0.98); en->de R@1 20/25, MRR 0.89
    assert ret["overall"]["recall@5"] == ret["overall"]["recall@10"] == 1.0
    assert ret["by_pair"]["de->de"]["recall@1"] >= 24 / 25
    assert ret["by_pair"]["en->de"]["recall@1"] >= 19 / 25  # one near tie may flip on another CPU
    assert ret["overall"]["mrr"] >= 0.92


def test_a_few_seed_questions_answered_end_to_end(seed_store, tmp_path):
    settings = make_settings(tmp_path / "index", **{"llm.model": "qwen2.5-coder-0.5b"})
    assistant = Assistant(settings, store=seed_store)
    # one question of each kind: de-01, en-01, cl-01, fu-01, un-01
    res = run_eval(EvalOptions(limit=5, model="qwen2.5-coder-0.5b", index_dir=tmp_path / "unused"), settings,
                   store=seed_store, assistant=assistant)
    a = res["answers"]
    assert a["n"] == 5 and a["errors"] == 0
    rows = {q["id"]: q["answer"] for q in res["questions"]}
    # measured: de-01 names Trump twice instead of his guest; cl-01's unsupported date is dropped (a
    # refusal); un-01 (the inflation rate, not in the article) is refused; en-01's right English answer
    # ("Trump met Putin on Friday at Anchorage, Alaska.") is refused by the plain fit, which this model gets
    # (it does not judge): across languages it refuses about 4 in 10 true claims (docs/trust.md)
    assert {qid: r["correct"] for qid, r in rows.items()} == {
        "de-01": False, "en-01": False, "cl-01": False, "fu-01": True, "un-01": True,
    }
    # every marker the model wrote names a passage it was shown (judged on its raw text)
    assert a["dangling_markers"] == 0 and a["citation_validity"] == 1.0
    assert a["language_match_declared"] == 1.0 and a["language_match_detected"] == 1.0
    # measured 2026-12-07: 3 of 4 answerable; the refused en-01 answer carries no gold passage among its passages
    assert a["context_recall"] == 0.75
    assert a["abstained_before_model"] == 0 and a["first_token_s"]["n"] == 5 and a["total_s"]["n"] == 5
    hashes = prompt_hashes()
    ids = {lang: f"answer.default.{lang}@{hashes[f'answer.default.{lang}.txt']}" for lang in ("de", "en")}
    assert res["run"]["describe"]["prompt_ids"] == ids and a["prompt_ids"] == sorted(ids.values())
