"""One table per change: the figures of recorded runs on one half (dev or test), side by side.

    python -m evals.halves --split test BEFORE.json AFTER.json [...]

Prints counts only, never an item: a test half is reported, not read. The figures are those the
trust issue sets targets for: answers containing the gold (de / en), false abstentions on answerable
questions, refusals of unanswerable ones, correct overall and for yes/no, and time per answer.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from evals.splits import split_of


def question_split(q: dict) -> str:
    """The half of a recorded question: its own ``split``, its XQuAD topic's, its 10kGNAD article's."""
    if q.get("split"):
        return q["split"]
    if q.get("topic"):
        return split_of("xquad", q["topic"])
    article = str(q.get("gold_article") or "")
    if article.startswith("gnad-"):
        return split_of("10kgnad", int(article.split("-")[1]))
    return "dev"


def figures(rows: list[dict]) -> dict:
    """Counts and rates over recorded question rows (each with its ``answer``)."""
    ok = [q for q in rows if not (q.get("answer") or {}).get("error")]
    answerable = [q for q in ok if q["answerable"]]
    held = [q for q in ok if not q["answerable"]]
    out = {"n": len(ok)}
    for lang in ("de", "en"):
        sel = [q for q in answerable if q["language"] == lang]
        out[f"gold_{lang}"] = (sum(bool(q["answer"].get("facts_all")) for q in sel), len(sel))
    out["false_abstentions"] = (sum(q["answer"]["abstained"] for q in answerable), len(answerable))
    out["shown_without_gold"] = (sum(not q["answer"]["abstained"] and not q["answer"].get("facts_all") for q in answerable),
                                 len(answerable))
    out["unanswerable_refused"] = (sum(q["answer"]["abstained"] for q in held), len(held))
    out["correct"] = (sum(bool(q["answer"].get("correct")) for q in ok), len(ok))
    yes_no = [q for q in ok if q.get("kind") == "yesno"]
    out["yes_no_correct"] = (sum(bool(q["answer"].get("correct")) for q in yes_no), len(yes_no))
    times = sorted(q["answer"]["total_s"] for q in ok if q["answer"].get("model_called") and q["answer"].get("total_s"))
    out["p50_s"] = round(times[len(times) // 2], 2) if times else None
    return out


def _cell(v) -> str:
    if isinstance(v, tuple):
        k, n = v
        return f"{k}/{n} = {k / n:.2f}" if n else "–"
    return "–" if v is None else str(v)


def table(runs: dict[str, dict], split: str) -> str:
    keys = list(next(iter(runs.values())).keys())
    lines = [f"| measure ({split} half) | " + " | ".join(runs) + " |", "| --- |" + " ---: |" * len(runs)]
    lines += [f"| {k} | " + " | ".join(_cell(r[k]) for r in runs.values()) + " |" for k in keys]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m evals.halves", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("results", nargs="+", type=Path, help="results files of `assistant eval` runs")
    ap.add_argument("--split", choices=("dev", "test"), required=True)
    ap.add_argument("--only-common", action="store_true", help="only the questions every run asked")
    args = ap.parse_args(argv)
    loaded = {p.stem: json.loads(p.read_text(encoding="utf-8"))["questions"] for p in args.results}
    common = set.intersection(*({q["id"] for q in qs} for qs in loaded.values())) if args.only_common else None
    runs = {name: figures([q for q in qs if question_split(q) == args.split and (common is None or q["id"] in common)])
            for name, qs in loaded.items()}
    print(table(runs, args.split))
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
