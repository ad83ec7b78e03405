"""``assistant eval --summary``: the README's results table gets the run's row, on a copy of the README."""

from __future__ import annotations

import io
import shutil

import pytest

from evals import cli, report, summary
from tests.conftest import REPO

SEED_KEY = "`seed` · all · `qwen2.5-coder-1.5b`"


def fake_results(set_name="seed", model="qwen2.5-coder-1.5b", correct=0.9, n=66):
    """What ``run_eval`` returns, as far as the summary reads it."""
    return {
        "run": {"set": set_name, "hold_out": None, "retrieval_only": False, "n_questions": n,
                "settings": {"llm": {"model": model}}},
        "retrieval": {"overall": {"recall@1": 0.5, "recall@5": 0.9, "mrr": 0.7}},
        "answers": {"correct": correct, "abstention": {"recall": 1.0, "false_abstention_rate": 0.05}},
    }


@pytest.fixture
def readme(tmp_path):
    """A copy of the checkout's README, beside a report folder like the checkout's."""
    copy = tmp_path / "README.md"
    shutil.copy(REPO / "README.md", copy)
    (tmp_path / "evals" / "runs").mkdir(parents=True)
    return copy


def split_at_table(text):
    start, end = text.index(summary.START) + len(summary.START), text.index(summary.END)
    return text[:start], text[start:end].strip("\n").split("\n"), text[end:]


def test_a_later_run_rewrites_its_row_and_keeps_its_target(readme, tmp_path):
    before = readme.read_text(encoding="utf-8")
    head, rows, tail = split_at_table(before)
    mine = next(i for i, r in enumerate(rows) if r.startswith(f"| {SEED_KEY},"))
    report_md = tmp_path / "evals" / "runs" / "20270101-000000-seed-hybrid-qwen2.5-coder-1.5b.md"

    row = summary.write_summary(readme, fake_results(correct=0.9), None, report_md)

    after = readme.read_text(encoding="utf-8")
    new_head, new_rows, new_tail = split_at_table(after)
    assert (new_head, new_tail) == (head, tail)  # the text outside the markers is untouched
    assert len(new_rows) == len(rows)
    assert [r for i, r in enumerate(new_rows) if i != mine] == [r for i, r in enumerate(rows) if i != mine]
    assert new_rows[mine] == row
    assert row == (f"| {SEED_KEY}, 66 questions: correct; abstention recall; false abstentions | 0.900; 1.00; 0.05 | "
                   f"{summary._cells(rows[mine])[2]} | "
                   "[20270101-000000-seed-hybrid-qwen2.5-coder-1.5b](evals/runs/20270101-000000-seed-hybrid-qwen2.5-coder-1.5b.md) |")


def test_a_new_set_split_and_model_adds_a_row_at_the_end(readme, tmp_path):
    head, rows, tail = split_at_table(readme.read_text(encoding="utf-8"))
    assert len(rows) < summary.MAX_LINES  # room for one more

    row = summary.write_summary(readme, fake_results("news", "qwen2.5-coder-0.5b", 0.5, 54), "test", tmp_path / "r.md")

    new_head, new_rows, new_tail = split_at_table(readme.read_text(encoding="utf-8"))
    assert (new_head, new_tail) == (head, tail)
    assert new_rows == [*rows, row]
    assert row.startswith("| `news` · test · `qwen2.5-coder-0.5b`, 54 questions: ")
    assert f"| {summary.NO_TARGET} | [r](r.md) |" in row
    assert len(new_rows) <= summary.MAX_LINES


def test_a_full_table_takes_no_new_row(readme, tmp_path):
    head, rows, tail = split_at_table(readme.read_text(encoding="utf-8"))
    rows += [f"| filler {i} | 1 | 1 | – |" for i in range(summary.MAX_LINES - len(rows))]
    before = head + "\n" + "\n".join(rows) + "\n" + tail
    readme.write_text(before, encoding="utf-8")
    err = io.StringIO()
    code = summary.summarize(readme, fake_results("news"), "test", tmp_path / "r.md", out=io.StringIO(), err=err)
    assert code == 2
    assert "at most 15" in err.getvalue() and err.getvalue().count("\n") == 1
    assert readme.read_text(encoding="utf-8") == before


def test_without_markers_one_line_and_exit_code_2(tmp_path):
    plain = tmp_path / "README.md"
    plain.write_text("# A project\n\n| measure | now |\n| --- | --- |\n", encoding="utf-8")
    err = io.StringIO()
    code = summary.summarize(plain, fake_results(), None, tmp_path / "r.md", out=io.StringIO(), err=err)
    assert code == 2
    line = err.getvalue()
    assert line.count("\n") == 1 and summary.START in line and str(plain) in line
    assert plain.read_text(encoding="utf-8") == "# A project\n\n| measure | now |\n| --- | --- |\n"


def test_the_eval_command_writes_the_row_after_the_run(readme, tmp_path, monkeypatch, capsys):
    report_md = tmp_path / "evals" / "runs" / "run.md"
    monkeypatch.setattr(cli, "run_eval", lambda opts, log, argv: fake_results(correct=0.25))
    monkeypatch.setattr(report, "write_outputs", lambda results, out, plot_with: {"markdown": report_md})
    monkeypatch.setattr(report, "headline", lambda results: "headline")

    assert cli.main(["--set", "seed", "--summary", str(readme), "--out", str(tmp_path)]) == 0

    assert f"| {SEED_KEY}, 66 questions: correct; abstention recall; false abstentions | 0.250;" in readme.read_text(encoding="utf-8")
    assert f"updated {readme}" in capsys.readouterr().out


def test_the_eval_command_stops_before_the_run_without_markers(tmp_path, monkeypatch, capsys):
    plain = tmp_path / "README.md"
    plain.write_text("# A project\n", encoding="utf-8")
    monkeypatch.setattr(cli, "run_eval", lambda *a, **k: pytest.fail("the run should not start"))

    assert cli.main(["--summary", str(plain), "--out", str(tmp_path)]) == 2
    assert capsys.readouterr().err.startswith("error: --summary: ")


def test_a_row_names_its_report_by_set_and_label():
    """The README has a length limit: the link reads "seed-s18", not the whole file name."""
    from evals.summary import short_name

    assert short_name("20261208-022436-seed-hybrid-qwen2.5-coder-1.5b-s18") == "seed-s18"
    assert short_name("20261204-230002-xquad-holdout8-hybrid-qwen2.5-coder-1.5b-rq30") == "xquad-holdout8-rq30"
    assert short_name("20261208-022436-seed-hybrid-qwen2.5-coder-0.5b") == "20261208-022436-seed-hybrid-qwen2.5-coder-0.5b"
