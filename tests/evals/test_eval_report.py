"""Whole runs without models (hashing embedder): the results file, Markdown, PNG, --compare, the CLI."""

from __future__ import annotations

import json

import pytest

from assistant.evaluation import EvalOptions, GoldResolver, main, run_eval
from evals import report
from evals.datasets import load_set
from tests.conftest import make_settings


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
    assert run["git"]["commit"] and run["machine"]["nproc"]
    assert run["prompt_hashes"] and all(len(h) == 12 for h in run["prompt_hashes"].values())
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
    changed_ranks = [q["id"] for q, r in zip(a["questions"], b["questions"]) if q.get("rank") != r.get("rank")]
    for qid in changed_ranks:
        assert f"  {qid}: rank" in text
    if a["retrieval"]["overall"]["mrr"] != b["retrieval"]["overall"]["mrr"]:
        assert "retrieval all mrr:" in text
    same = report.compare([a, a])
    assert "Configuration: no changes" in same and "Metrics: no changes" in same


def test_the_command_line_runs_compares_and_reports_errors(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("NEWSQA_EMBEDDING__MODEL", "hash-256")
    monkeypatch.setenv("NEWSQA_PATHS__CACHE_DIR", str(tmp_path / "cache"))
    out = tmp_path / "results"
    assert main(["--retrieval-only", "--limit", "5", "--out", str(out), "--label", "a"]) == 0
    assert main(["--retrieval-only", "--limit", "5", "--out", str(out), "--label", "b", "--mode", "dense"]) == 0
    printed = capsys.readouterr().out
    assert "R@1" in printed and "wrote plot" in printed
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


def test_a_missing_question_file_is_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("NEWSQA_EMBEDDING__MODEL", "hash-256")
    monkeypatch.setenv("NEWSQA_PATHS__CACHE_DIR", str(tmp_path / "cache"))
    assert main(["--retrieval-only", "--questions", str(tmp_path / "nope.jsonl")]) == 1
    assert "no such question file" in capsys.readouterr().err


def test_plot_with_earlier_runs_and_without_answers(hash_store, tmp_path):
    a = retrieval_run(hash_store, tmp_path, limit=4)
    b = retrieval_run(hash_store, tmp_path, limit=4, mode="dense")
    path = report.plot_runs([a, b], tmp_path / "p.png")
    assert path.stat().st_size > 10_000


def test_answer_runs_with_the_real_assistant_and_a_scripted_model(hash_store, tmp_path):
    """The whole answer path without models: our Assistant, the hashing store, a scripted chat model."""
    assistant_mod = pytest.importorskip("assistant.assistant", reason="assistant.assistant is not written yet")
    from assistant.llm import ScriptedChatModel

    settings = make_settings(tmp_path / "index", **{"embedding.model": "hash-256", "answering.min_relevance": 0.0})
    llm = ScriptedChatModel(["Keir Starmer nimmt an den Gesprächen teil [1]. Auch Macron kommt [9]."])
    assistant = assistant_mod.Assistant(settings, store=hash_store, llm=llm)
    res = run_eval(EvalOptions(limit=5, index_dir=tmp_path / "index"), settings, store=hash_store, assistant=assistant)
    a = res["answers"]
    assert a["n"] == 5 and a["errors"] == 0
    # the assistant drops the invented [9]: what reaches the user has no dangling marker
    assert a["citation_validity"] == 1.0 and a["dangling_markers"] == 0
    for q in res["questions"]:
        assert "answer" in q and q["answer"]["text"]
    paths = report.write_outputs(res, tmp_path / "out")
    assert "## Answers" in paths["markdown"].read_text(encoding="utf-8")
