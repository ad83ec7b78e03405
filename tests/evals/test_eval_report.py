"""Whole runs without models (hashing embedder): the results file, Markdown, PNG, --compare, the CLI."""

from __future__ import annotations

import json
import os
import re
import struct
from pathlib import Path

import pytest

from assistant.assistant import Assistant
from assistant.backends.llm import ScriptedChatModel
from assistant.stages.prompts import prompt_hashes
from assistant.types import REFUSAL
from evals import report
from evals.cli import default_out_dir, main
from evals.datasets import load_set
from evals.gold import GoldResolver
from evals.runner import EvalOptions, run_eval
from tests.conftest import make_settings
from vectorstore.text import split_sentences


def retrieval_run(store, tmp_path, **opts):
    options = EvalOptions(retrieval_only=True, index_dir=tmp_path / "unused-index", **opts)
    return run_eval(options, store.settings, store=store)


def test_gold_passages_resolve_to_spans_in_the_seed_article(hash_store):
    s = load_set("seed")
    resolver = GoldResolver(hash_store, s)
    q = next(q for q in s.questions if q.id == "de-04")
    gold = resolver.resolve(q)
    ((aid, spans),) = gold.spans.items()
    text = hash_store.catalog.article_text(aid)
    assert [text[a:b] for a, b in spans] == ["der britische Premierminister Keir Starmer"]
    unanswerable = next(q for q in s.questions if not q.answerable)
    assert resolver.resolve(unanswerable).empty


def test_a_retrieval_run_reports_every_part(hash_store, tmp_path):
    res = retrieval_run(hash_store, tmp_path, limit=10)
    assert set(res) == {"schema", "run", "retrieval", "answers", "questions"}
    assert res["answers"] is None
    run = res["run"]
    for key in ("id", "date", "set", "options", "n_questions", "corpus", "models", "prompt_hashes", "settings", "git", "machine"):
        assert key in run, key
    assert run["n_questions"] == 10 and run["models"]["embedding"] == "hash-256"
    assert re.fullmatch(r"[0-9a-f]{40}", run["git"]["commit"]) and run["machine"]["nproc"] == os.cpu_count()
    assert run["prompt_hashes"] == prompt_hashes() and "answer.default.de.txt" in run["prompt_hashes"]
    assert all(re.fullmatch(r"[0-9a-f]{10}", h) for h in run["prompt_hashes"].values())
    ret = res["retrieval"]
    assert set(ret["by_pair"]) == {"de->de", "en->de"}
    scored = [q for q in res["questions"] if "rank" in q]
    assert ret["overall"]["n"] == len(scored) == sum(q["answerable"] for q in res["questions"])
    # the overall numbers are the ranks' numbers
    ranks = [q["rank"] for q in scored]
    assert ret["overall"]["recall@10"] == sum(r is not None for r in ranks) / len(ranks)
    for q in scored:
        assert len(q["top"]) == 10
        assert q["rank"] == next((i + 1 for i, t in enumerate(q["top"]) if t["relevant"]), None)


def test_outputs_are_written(hash_store, tmp_path):
    res = retrieval_run(hash_store, tmp_path, limit=6, label="first try")
    paths = report.write_outputs(res, tmp_path / "out")
    assert paths["json"].name.endswith("-seed-hybrid-retrieval-first-try.json")
    assert json.loads(paths["json"].read_text(encoding="utf-8"))["run"]["id"] == res["run"]["id"]
    md = paths["markdown"].read_text(encoding="utf-8")
    assert md.startswith(f"# Evaluation {res['run']['id']}")
    assert "## Retrieval" in md and "| de->de |" in md and "| en->de |" in md
    assert paths["plot"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_compare_names_the_changed_setting_and_metrics(hash_store, tmp_path):
    a = retrieval_run(hash_store, tmp_path, limit=12)
    b = retrieval_run(hash_store, tmp_path, limit=12, mode="lexical")
    text = report.compare([a, b])
    assert "settings.retrieval.mode: hybrid -> lexical" in text
    # the hashing embedder's ranks, hybrid -> lexical ("–": not in the top 10)
    changed = ["en-01: rank 1 -> 2", "cl-01: rank 5 -> 2", "fu-01: rank 4 -> 1", "de-02: rank 2 -> 1",
               "en-02: rank 5 -> 1", "cl-02: rank – -> 1", "yn-02: rank 2 -> 1"]  # 12 round-robin over the kinds
    assert text.split("Questions that changed:\n")[1].splitlines() == [f"  {line}" for line in changed]
    mrr_a, mrr_b = a["retrieval"]["overall"]["mrr"], b["retrieval"]["overall"]["mrr"]
    assert f"retrieval all mrr: {mrr_a:.3f} -> {mrr_b:.3f} ({mrr_b - mrr_a:+.3f})" in text
    same = report.compare([a, a])
    assert "Configuration: no changes" in same and "Metrics: no changes" in same


def test_the_command_line_runs_compares_and_reports_errors(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("NEWSQA_EMBEDDING__MODEL", "hash-256")
    monkeypatch.setenv("NEWSQA_PATHS__CACHE_DIR", str(tmp_path / "cache"))
    out = tmp_path / "results"
    assert main(["--retrieval-only", "--limit", "5", "--out", str(out), "--label", "a"]) == 0
    headline, *wrote = capsys.readouterr().out.splitlines()
    assert headline.startswith("seed/hybrid/retrieval [a]: 5 questions; R@1 ")
    assert [line.split(": ")[0] for line in wrote] == ["wrote json", "wrote markdown", "wrote plot"]
    assert all(Path(line.split(": ", 1)[1]).parent == out for line in wrote)
    assert main(["--retrieval-only", "--limit", "5", "--out", str(out), "--label", "b", "--mode", "dense"]) == 0
    assert capsys.readouterr().out.startswith("seed/dense/retrieval [b]: 5 questions; R@1 ")
    assert len(list(out.glob("*.json"))) == len(list(out.glob("*.md"))) == len(list(out.glob("*.png"))) == 2
    # the eval index lives under the cache folder, named for the set, embedding and chunking
    assert (tmp_path / "cache" / "eval-index" / "seed-hash-256-c160o32" / "catalog.sqlite3").is_file()
    first, second = sorted(out.glob("*.json"), key=lambda p: p.name.endswith("-b.json"))
    plot = tmp_path / "cmp.png"
    assert main(["--compare", str(first), str(second), "--plot", str(plot)]) == 0
    assert "settings.retrieval.mode: hybrid -> dense" in capsys.readouterr().out
    assert plot.read_bytes()[:4] == b"\x89PNG"

    assert main(["--compare", str(first)]) == 1
    assert "at least two" in capsys.readouterr().err
    (tmp_path / "junk.json").write_text("{}", encoding="utf-8")
    assert main(["--compare", str(first), str(tmp_path / "junk.json")]) == 1
    assert "not an evaluation results file" in capsys.readouterr().err
    assert main(["--retrieval-only", "--limit", "0"]) == 1
    assert "--limit must be at least 1" in capsys.readouterr().err
    assert main(["--retrieval-only", "--k", "99", "--out", str(out)]) == 1
    assert "invalid setting" in capsys.readouterr().err


def test_runs_go_to_the_checkouts_evals_runs_else_to_a_folder_of_their_own(tmp_path, monkeypatch, capsys):
    checkout = tmp_path / "checkout"
    (checkout / "evals" / "results").mkdir(parents=True)
    (checkout / "seeds").mkdir()
    assert default_out_dir(checkout / "seeds") == checkout / "evals" / "runs"
    assert default_out_dir(tmp_path / "elsewhere") == tmp_path / "elsewhere" / "newsqa-eval-results"
    monkeypatch.chdir(checkout)
    assert default_out_dir() == checkout / "evals" / "runs"
    # outside a checkout, a run without --out writes into ./newsqa-eval-results
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    monkeypatch.setenv("NEWSQA_EMBEDDING__MODEL", "hash-256")
    monkeypatch.setenv("NEWSQA_PATHS__CACHE_DIR", str(tmp_path / "cache"))
    assert main(["--retrieval-only", "--limit", "1"]) == 0
    assert sorted(p.suffix for p in (tmp_path / "elsewhere" / "newsqa-eval-results").iterdir()) == [".json", ".md", ".png"]


def test_a_missing_question_file_is_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("NEWSQA_EMBEDDING__MODEL", "hash-256")
    monkeypatch.setenv("NEWSQA_PATHS__CACHE_DIR", str(tmp_path / "cache"))
    assert main(["--retrieval-only", "--questions", str(tmp_path / "nope.jsonl")]) == 1
    assert "no such question file" in capsys.readouterr().err


def test_plot_with_earlier_runs_and_without_answers(hash_store, tmp_path):
    a = retrieval_run(hash_store, tmp_path, limit=4)
    b = retrieval_run(hash_store, tmp_path, limit=4, mode="dense")
    path = report.plot_runs([a, b], tmp_path / "p.png")
    png = path.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", png[16:24]) == (13 * 110, 5 * 110)  # the whole two-panel figure (13 x 5 in at 110 dpi)


def copy_passage_one(messages) -> str:
    """A scripted model that copies the first sentence of passage [1] and invents a citation [9];
    asked about the inflation rate (unanswerable), it gives the refusal phrase."""
    ask = messages[-1]["content"]
    if "Inflation" in ask:
        return REFUSAL["de"]
    m = re.search(r"^\[1\] \(.*?\d{4}-\d\d-\d\d\) (.+)$", ask, re.MULTILINE)
    if m is None:  # the follow-up's rewriting prompt: keep the question
        return ask.splitlines()[-1]
    return split_sentences(m.group(1))[0].rstrip(".") + " [1]. Auch Macron kommt [9]."


def test_answer_runs_with_the_real_assistant_and_a_scripted_model(hash_store, tmp_path):
    """The whole answer path without models: our Assistant, the hashing store, a scripted chat model."""
    # the hashing embedder ranks and trims passages by shared words, not meaning: the expectations below
    # were worked out for 3 passages of up to 110 tokens (the default until 2026-12-03), so they are pinned
    settings = make_settings(tmp_path / "index", **{"embedding.model": "hash-256", "answering.min_relevance": 0.0,
                                                 "verify.threshold": 0.0,
                                                 "answering.context_passages": 3, "answering.passage_max_tokens": 110,
                                                 "answering.evidence_selection": "passages"})
    assistant = Assistant(settings, store=hash_store, llm=ScriptedChatModel([copy_passage_one]))
    res = run_eval(EvalOptions(limit=5, index_dir=tmp_path / "index"), settings, store=hash_store, assistant=assistant)
    a = res["answers"]
    assert a["n"] == 5 and a["errors"] == 0 and a["abstained_before_model"] == 0
    rows = {q["id"]: q["answer"] for q in res["questions"]}
    # passage [1] holds the answer only for de-01 (the hashing embedder ranks by shared words)
    assert {qid: r["correct"] for qid, r in rows.items()} == {
        "de-01": True, "en-01": False, "cl-01": False, "fu-01": False, "un-01": True,
    }
    assert rows["de-01"]["cited_gold"] is True and rows["de-01"]["context_hit"] is True
    # the invented [9] is counted from what the model wrote, although the user never sees it
    answered = ["de-01", "en-01", "cl-01", "fu-01"]
    for qid in answered:
        assert rows[qid]["raw_text"].endswith("Auch Macron kommt [9].") and "[9]" not in rows[qid]["text"], qid
        assert rows[qid]["dangling"] == [9] and rows[qid]["citations_valid"] is False, qid
    assert rows["un-01"]["dangling"] == [] and rows["un-01"]["citations_valid"] is True
    assert a["dangling_markers"] == 4 and a["citation_validity"] == pytest.approx(1 / 5)
    # the copied German sentence answers the English questions in German: the detected language says so
    assert a["language_match_declared"] == 1.0 and a["language_match_detected"] == pytest.approx(3 / 5)
    # verify.threshold 0 accepts every aligned sentence, the invented "Auch Macron kommt" too: counted, not judged here
    assert a["sentences"] == {"supported": 8, "contradicted": 0, "not_found": 0}
    assert a["abstention"]["precision"] == 1.0 and a["abstention"]["recall"] == 1.0
    # the uncited Macron sentence gets a checked citation (threshold 0), once to the gold passage
    assert a["cited_gold_rate"] == pytest.approx(2 / 4) and a["context_recall"] == pytest.approx(1 / 4)
    assert [p.split("@")[0] for p in a["prompt_ids"]] == ["answer.default.de", "answer.default.en"]
    paths = report.write_outputs(res, tmp_path / "out")
    md = paths["markdown"].read_text(encoding="utf-8")
    assert "## Answers" in md and "| dangling markers | 4 |" in md and "| citations valid | 0.200 |" in md


def test_the_sets_with_runners_of_their_own_are_reached_through_assistant_eval(capsys):
    from evals import cli

    for name in cli.SET_COMMANDS:
        with pytest.raises(SystemExit) as done:
            cli.main([name, "--help"])
        assert done.value.code == 0
        assert f"assistant eval {name}" in capsys.readouterr().out


def test_an_interrupted_run_scores_the_questions_answered_so_far(hash_store, tmp_path):
    """Ctrl-C during a long answer run keeps what was answered: scored, and marked in the report."""
    settings = make_settings(tmp_path / "index", **{"embedding.model": "hash-256", "answering.min_relevance": 0.0,
                                                 "verify.threshold": 0.0})

    def interrupt_on_the_third_question(messages) -> str:
        if len(model.calls) == 4:  # de-01, en-01 (asked twice: it was answered in German); now cl-01
            raise KeyboardInterrupt
        return copy_passage_one(messages)

    model = ScriptedChatModel([interrupt_on_the_third_question])
    assistant = Assistant(settings, store=hash_store, llm=model)
    res = run_eval(EvalOptions(limit=5, index_dir=tmp_path / "index"), settings, store=hash_store, assistant=assistant)
    a = res["answers"]
    assert a["interrupted"] is True and a["answered_questions"] == a["n"] == 2
    assert [("answer" in q) for q in res["questions"]] == [True, True, False, False, False]
    assert res["retrieval"]["overall"]["n"] == 4  # retrieval ran for all before the answers (un-01 has no gold)
    md = report.write_outputs(res, tmp_path / "out")["markdown"].read_text(encoding="utf-8")
    assert "**interrupted**: answers scored for the first 2" in md
    assert "interrupted: answers for the first 2;" in report.headline(res)
