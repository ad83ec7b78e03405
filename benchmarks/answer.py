"""End-to-end answer latency: time to first token and total answer time on the seed corpus, for the
embedded GGUF models (0.5B and 1.5B), with the real e5 retrieval. Writes
``benchmarks/results/answer.{json,md}`` and the verbatim answers.

    .venv/bin/python -m benchmarks.answer [--models qwen2.5-coder-0.5b qwen2.5-coder-1.5b] [--quick]
    .venv/bin/python -m benchmarks.answer --models qwen2.5-coder-1.5b --name answer-compact \\
        --set answering.context_passages=2 --set answering.passage_max_tokens=70

The first question of each model is a warm-up (model load, system-prompt evaluation) and is reported
separately; the percentiles are over the remaining questions, as a user of a running server sees them.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from .common import REPO, RESULTS, SEEDS

QUESTIONS = [
    ("de", "Wo traf Trump Putin am Freitag?"),
    ("de", "Wer ist NATO-Generalsekretär?"),
    ("de", "Welche Luftabwehrsysteme braucht die Ukraine laut Selenskyj dringend?"),
    ("de", "Unter welcher Bedingung ist die Ukraine laut Selenskyj zu Wahlen bereit?"),
    ("de", "Wie hoch ist die Inflationsrate in Deutschland?"),
    ("en", "Where did Trump meet Putin on Friday?"),
    ("en", "Which news agency reported on the clash in the Oval Office?"),
    ("en", "Who is the Finnish president taking part in the talks?"),
    ("en", "What did Trump say about sending US troops to Ukraine?"),
    ("en", "What is the inflation rate in Germany?"),
]


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    v = sorted(values)
    i = min(len(v) - 1, max(0, round(q * (len(v) - 1))))
    return v[i]


def machine() -> dict:
    cpu = ""
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    try:
        commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    except OSError:
        commit = ""
    import os

    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(), "commit": commit, "date": time.strftime("%Y-%m-%d %H:%M")}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.answer", description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", nargs="+", default=["qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b"])
    ap.add_argument("--cache-dir", default=None, help="model cache (default: settings)")
    ap.add_argument("--quick", action="store_true", help="3 questions per model")
    ap.add_argument("--out", default=str(RESULTS))
    ap.add_argument("--set", action="append", default=[], metavar="SECTION.FIELD=VALUE",
                    help="a settings override, e.g. answering.context_passages=2 (repeatable)")
    ap.add_argument("--name", default="answer", help="results file name (default: answer)")
    args = ap.parse_args(argv)

    from assistant.assistant import Assistant
    from assistant.settings import Settings
    from vectorstore import open_store

    base = Settings()
    over = {"paths.index_dir": tempfile.mkdtemp(prefix="bench-answer-")}
    if args.cache_dir:
        over["paths.cache_dir"] = args.cache_dir
    for kv in args.set:
        key, sep, value = kv.partition("=")
        if not sep:
            ap.error(f"--set {kv!r}: expected SECTION.FIELD=VALUE")
        over[key.strip()] = value.strip()
    s = base.with_overrides(**over)
    store = open_store(s)
    store.ingest([SEEDS])
    questions = QUESTIONS[:3] if args.quick else QUESTIONS
    results: dict = {"machine": machine(), "settings": {"answering": s.answering.model_dump(), "retrieval": s.retrieval.model_dump()}, "models": {}}
    for model in args.models:
        ms = s.with_overrides(**{"llm.model": model})
        a = Assistant(ms, store=store)
        t0 = time.perf_counter()
        warm = a.ask("Worum geht es in den Artikeln?")
        warm_s = time.perf_counter() - t0
        rows = []
        for lang, q in questions:
            ans = a.ask(q)
            rows.append({
                "language": lang, "question": q, "answer": ans.text, "raw": ans.raw_text, "abstained": ans.abstained,
                "citations": [{"n": c.number, "title": c.title, "support": c.support} for c in ans.citations],
                "first_token_s": ans.timings.get("first_token_s"), "total_s": ans.timings.get("total_s"),
                "retrieval_s": ans.timings.get("retrieval_s"), "notes": ans.notes,
            })
            print(f"[{model}] {q}\n  -> {ans.text}  ({ans.timings.get('first_token_s', 0) or 0:.1f}s / {ans.timings['total_s']:.1f}s)", flush=True)
        ttft = [r["first_token_s"] for r in rows if r["first_token_s"] is not None]
        total = [r["total_s"] for r in rows]
        results["models"][model] = {
            "warmup_s": warm_s, "warmup_answer": warm.text,
            "ttft_p50_s": pct(ttft, 0.5), "ttft_p95_s": pct(ttft, 0.95),
            "total_p50_s": pct(total, 0.5), "total_p95_s": pct(total, 0.95),
            "mean_total_s": statistics.mean(total) if total else None, "answers": rows,
        }
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.quick:  # a smoke run writes nothing
        out = Path(tempfile.mkdtemp(prefix="bench-answer-quick-"))
    (out / f"{args.name}.json").write_text(json.dumps(results, ensure_ascii=False, indent=1))
    lines = [
        "# End-to-end answer latency (seed corpus)", "",
        f"Machine: {results['machine']['cpu']}, {results['machine']['cores']} cores; commit {results['machine']['commit']}; {results['machine']['date']}", "",
        f"Settings: context passages {s.answering.context_passages}, passage budget {s.answering.passage_max_tokens} tokens"
        + (f"; overrides {', '.join(args.set)}" if args.set else "") + "", "",
        "| model | warm-up s | TTFT p50 s | TTFT p95 s | total p50 s | total p95 s |", "| --- | --- | --- | --- | --- | --- |",
    ]
    for m, r in results["models"].items():
        lines.append(f"| {m} | {r['warmup_s']:.1f} | {r['ttft_p50_s']:.2f} | {r['ttft_p95_s']:.2f} | {r['total_p50_s']:.2f} | {r['total_p95_s']:.2f} |")
    for m, r in results["models"].items():
        lines += ["", f"## Answers of {m}", ""]
        for row in r["answers"]:
            ft = f"{row['first_token_s']:.1f}s" if row["first_token_s"] is not None else "—"
            lines.append(f"- **{row['question']}** → {row['answer']} _(first token {ft}, total {row['total_s']:.1f}s)_")
    (out / f"{args.name}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines[:8 + len(results['models'])]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
