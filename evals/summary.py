"""``assistant eval --summary``: put a run's figures into the README's results table, so the table
shows the last measurement of each set, half and model without copying numbers by hand.

The table lies between ``<!-- results:start -->`` and ``<!-- results:end -->``. A row written here
starts with its key, `` `seed` · all · `qwen2.5-coder-1.5b` ``; a later run of the same set, half
and model replaces that row (keeping its target, which a person sets), a new key adds a row, and
every other row and all text outside the markers stay as they are.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import TextIO

START, END = "<!-- results:start -->", "<!-- results:end -->"
#: the table's lines, header and separator included: the README shows current figures, not a log
MAX_LINES = 15
NO_TARGET = "–"
HEADER = ["| measure | now | target | report |", "| --- | ---: | ---: | --- |"]


class SummaryError(Exception):
    """The README cannot take the row (no markers, or the table is full); nothing was written."""


def row_key(set_name: str, split: str | None, model: str) -> str:
    """The start of a row's first cell, which names what was measured: set, half, model."""
    return f"`{set_name}` · {split or 'all'} · `{model}`"


def run_key(results: dict, split: str | None) -> str:
    """The row key of a run (a held-out XQuAD run's set reads ``xquad-holdout8``)."""
    run = results["run"]
    held = run.get("hold_out")
    set_name = f"{run['set']}-holdout{held['n']}" if held else run["set"]
    model = "retrieval only" if run.get("retrieval_only") else run["settings"]["llm"]["model"]
    return row_key(set_name, split, model)


def _num(value: float | None, digits: int) -> str:
    return NO_TARGET if value is None else f"{value:.{digits}f}"


def figures(results: dict) -> tuple[str, str]:
    """(what is measured, the figures): the answer metrics of the seed row, or retrieval's."""
    n = results["run"]["n_questions"]
    a = results.get("answers")
    if a:
        ab = a["abstention"]
        return (f"{n} questions: correct; abstention recall; false abstentions",
                f"{_num(a['correct'], 3)}; {_num(ab['recall'], 2)}; {_num(ab['false_abstention_rate'], 2)}")
    o = results["retrieval"]["overall"]
    return f"{n} questions: R@1; R@5; MRR", f"{_num(o['recall@1'], 3)}; {_num(o['recall@5'], 3)}; {_num(o['mrr'], 3)}"


def summary_row(key: str, measure: str, now: str, report: Path, readme: Path, target: str = NO_TARGET) -> str:
    """One table row; the report is linked relative to the README's folder."""
    link = Path(os.path.relpath(Path(report).resolve(), Path(readme).resolve().parent)).as_posix()
    return f"| {key}, {measure} | {now} | {target} | [{short_name(Path(report).stem)}]({link}) |"


def short_name(stem: str) -> str:
    """A run's report named as briefly as the README's length limit needs: ``<set>-<label>`` of
    ``<date>-<time>-<set>-<mode>-<model>-<label>`` ("seed-s18"); other names stay whole."""
    m = re.match(r"^\d{8}-\d{6}-([a-z0-9-]+?)-(?:dense|lexical|hybrid)-.+?-(?:\d+(?:\.\d+)?b)-(.+)$", stem)
    return f"{m.group(1)}-{m.group(2)}" if m else stem


def _cells(row: str) -> list[str]:
    return [c.strip() for c in re.split(r"(?<!\\)\|", row.strip().strip("|"))]


def update_table(text: str, key: str, make_row) -> str:
    """``text`` with the row of ``key`` replaced, or added at the end of the table. ``make_row(target)``
    builds the row from the target of the row it replaces (``NO_TARGET`` for a new one)."""
    start, end = text.find(START), text.find(END)
    if start < 0 or end < start:
        raise SummaryError(f"no results table: the README needs the lines {START} and {END} around it")
    head, body, tail = text[: start + len(START)], text[start + len(START): end], text[end:]
    lines = body.strip("\n").split("\n") if body.strip() else list(HEADER)
    mine = [i for i, line in enumerate(lines) if line.startswith(f"| {key},")]
    if mine:
        i = mine[0]
        cells = _cells(lines[i])
        lines[i] = make_row(cells[2] if len(cells) > 2 else NO_TARGET)
    elif len(lines) >= MAX_LINES:
        raise SummaryError(f"the results table has {len(lines)} lines already (at most {MAX_LINES}): "
                           f"remove a row before adding {key}")
    else:
        lines.append(make_row(NO_TARGET))
    return head + "\n" + "\n".join(lines) + "\n" + tail


def write_summary(readme: Path, results: dict, split: str | None, report: Path) -> str:
    """Rewrite the run's row in ``readme``; returns the row. Raises ``SummaryError``."""
    text = _table_of(readme)
    key = run_key(results, split)
    measure, now = figures(results)
    text = update_table(text, key, lambda target: summary_row(key, measure, now, report, readme, target))
    Path(readme).write_text(text, encoding="utf-8")
    return next(line for line in text.split("\n") if line.startswith(f"| {key},"))


def _table_of(readme: Path) -> str:
    """The README's text, when it has the markers; else ``SummaryError``."""
    try:
        text = Path(readme).read_text(encoding="utf-8")
    except OSError as e:
        raise SummaryError(f"cannot read it: {e.strerror or e}") from e
    start, end = text.find(START), text.find(END)
    if start < 0 or end < start:
        raise SummaryError(f"no results table: the README needs the lines {START} and {END} around it")
    return text


def check(readme: Path | None, err: TextIO | None = None) -> int:
    """Before a run: 0 when ``readme`` can take a row, else 2 with one line on ``err`` (so a long run
    does not end in a README it cannot update)."""
    err = err or sys.stderr
    if readme is None:
        print("error: --summary: no README.md found above the current folder; name one (--summary PATH)", file=err)
        return 2
    try:
        _table_of(readme)
    except SummaryError as e:
        print(f"error: --summary: {readme}: {e}", file=err)
        return 2
    return 0


def summarize(readme: Path | None, results: dict, split: str | None, report: Path, out: TextIO | None = None,
              err: TextIO | None = None) -> int:
    """The ``--summary`` step of ``assistant eval``: 0 with the row written, 2 with one line on
    ``err`` when the README cannot take it (the run's own files are written either way)."""
    out, err = out or sys.stdout, err or sys.stderr
    if code := check(readme, err):
        return code
    try:
        row = write_summary(readme, results, split, report)
    except SummaryError as e:
        print(f"error: --summary: {readme}: {e}", file=err)
        return 2
    print(f"updated {readme}: {row}", file=out)
    return 0


__all__ = ["END", "MAX_LINES", "START", "SummaryError", "check", "row_key", "run_key", "summarize", "update_table", "write_summary"]
