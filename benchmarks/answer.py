"""End-to-end answer time on the seed corpus, per configuration, in one run: time to passages, time
to first token, total time with the checks, the answer prompt's new (uncached) tokens, and the
prompt processing speed against the raw llama.cpp ceiling measured in the same run.

    assistant bench answer                                  # the configurations below, 1.5B model
    assistant bench answer --configs default wide --models qwen2.5-coder-0.5b qwen2.5-coder-1.5b
    assistant bench answer --set answering.context_passages=1 --name answer-one-passage

Each configuration gets a fresh ``Assistant`` that is warmed up as the UI server warms it (model
loaded, both languages' prompt prefixes and the judge's demonstrations evaluated); the percentiles
are over the questions after that, as a user of a running server sees them. The ceiling is a raw
``llama_cpp.Llama`` with the product's thread count, batch size and flash attention evaluating a
400-token prompt from an empty context, best of three. A prompt's new tokens after a cached prefix
run slower per token than that (a smaller batch, attending to a longer context), so each
configuration is also compared with raw llama.cpp evaluating its own p50 shape: its p50 of new
tokens after a cached prefix of its p50 of cached tokens, best of three.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

from .common import SEEDS, machine, machine_md, save

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

#: Context budgets and prompt variants compared in one run (settings overrides on top of the defaults).
CONFIGS: dict[str, dict[str, str]] = {
    "default": {},
    # the default until 2026-12-03: 3 passages of up to 110 tokens (the default now: 2 of up to 70)
    "wide": {"answering.context_passages": "3", "answering.passage_max_tokens": "110"},
    "evidence": {"answering.prompt_variant": "evidence"},
}

CEILING_PROMPT_TOKENS = 400


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    v = sorted(values)
    return v[min(len(v) - 1, max(0, round(q * (len(v) - 1))))]


def ceiling(model_path, threads: int, *, new: int = CEILING_PROMPT_TOKENS, cached: int = 0) -> dict:
    """Prompt tokens/s of raw llama.cpp on this machine for ``new`` tokens after ``cached`` ones already
    in the KV cache: the most the product's prompt step can reach for that shape."""
    import os

    from assistant.backends.llamacpp import load_llama

    llm = load_llama(model_path, n_ctx=2048, n_threads=threads or (os.cpu_count() or 2), n_batch=512,
                     flash_attn=True, verbose=False)
    words = "Die Ukraine fordert Sicherheitsgarantien von den USA und Europa vor einem Treffen in Washington. "
    tokens = llm.tokenize((words * 120).encode(), add_bos=True)[: cached + new]
    prefix, tokens = tokens[:cached], tokens[cached:]
    runs = []
    for _ in range(3):
        llm.reset()
        if prefix:
            llm.eval(prefix)
        t0 = time.perf_counter()
        llm.eval(tokens)
        runs.append(time.perf_counter() - t0)
    del llm
    best = min(runs)
    return {"prompt_tokens": len(tokens), "cached_tokens": len(prefix), "seconds": runs, "tokens_per_s": len(tokens) / best}


def run_config(settings, store, questions) -> dict:
    from assistant.assistant import Assistant

    a = Assistant(settings, store=store)
    t0 = time.perf_counter()
    a.warm_up()
    warm_s = time.perf_counter() - t0
    rows = []
    for lang, q in questions:
        ans = a.ask(q)
        t = ans.timings
        rows.append({
            "language": lang, "question": q, "answer": ans.text, "abstained": ans.abstained, "notes": ans.notes,
            **{k: t.get(k) for k in ("passages_s", "first_token_s", "generated_s", "total_s", "prompt_tokens",
                                     "new_prompt_tokens", "prompt_eval_s")},
        })
        print(f"  {q}\n    -> {ans.text}  (passages {t.get('passages_s', 0):.2f}s, first token "
              f"{t.get('first_token_s') or 0:.1f}s, total {t['total_s']:.1f}s, new prompt tokens "
              f"{t.get('new_prompt_tokens', 0):.0f})", flush=True)

    def col(key):
        return [r[key] for r in rows if r[key] is not None]

    checks = [r["total_s"] - r["generated_s"] for r in rows if r["generated_s"] is not None]
    speeds = [r["new_prompt_tokens"] / r["prompt_eval_s"] for r in rows if r["prompt_eval_s"]]
    return {
        "warmup_s": warm_s,
        "passages_p50_s": pct(col("passages_s"), 0.5), "passages_p95_s": pct(col("passages_s"), 0.95),
        "ttft_p50_s": pct(col("first_token_s"), 0.5), "ttft_p95_s": pct(col("first_token_s"), 0.95),
        "total_p50_s": pct(col("total_s"), 0.5), "total_p95_s": pct(col("total_s"), 0.95),
        "check_p50_s": pct(checks, 0.5),
        "prompt_tokens_p50": pct(col("prompt_tokens"), 0.5), "new_prompt_tokens_p50": pct(col("new_prompt_tokens"), 0.5),
        "prompt_tokens_per_s_p50": statistics.median(speeds) if speeds else None,
        "answers": rows,
    }


def _f(v, fmt=".2f") -> str:
    return "–" if v is None else format(v, fmt)


def markdown(results: dict, overrides: list[str]) -> str:
    ceilings = ", ".join(f"{m} **{c['tokens_per_s']:.1f}**" for m, c in results["ceiling"].items())
    lines = [
        "# End-to-end answer time (seed corpus)", "", machine_md(results["machine"]), "",
        f"Raw llama.cpp ceiling in this run, prompt tokens/s: {ceilings} ({CEILING_PROMPT_TOKENS} tokens from an "
        "empty context, best of 3). The last column is raw llama.cpp evaluating each configuration's own p50 shape "
        "(its p50 of new tokens after its p50 of cached ones, best of 3): new tokens after a cached prefix cost more "
        "each (a smaller batch, a longer context to attend to).",
        "Times are seconds from the question to: passages shown, first answer token, checked answer (p50 / p95 over "
        f"{results['questions']} questions, half German, half English, after the warm-up). \"check\" is the time after the "
        "model finished writing: the verifier, the judge's token probabilities included.", "",
        "| model | configuration | warm-up | passages p50 / p95 | first token p50 / p95 | checked answer p50 / p95 "
        "| check p50 | prompt tokens p50 (new) | prompt tokens/s (× ceiling) | raw llama.cpp, same shape (× it) |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for model, configs in results["models"].items():
        ceil = results["ceiling"][model]["tokens_per_s"]
        for name, r in configs.items():
            speed = r["prompt_tokens_per_s_p50"]
            ratio = f"{speed:.1f} (×{speed / ceil:.2f})" if speed else "–"
            shape = r.get("shape_ceiling")
            same = f"{shape['tokens_per_s']:.1f} (×{speed / shape['tokens_per_s']:.2f})" if speed and shape else "–"
            lines.append(
                f"| {model} | {name} | {r['warmup_s']:.1f} | {_f(r['passages_p50_s'])} / {_f(r['passages_p95_s'])} "
                f"| {_f(r['ttft_p50_s'])} / {_f(r['ttft_p95_s'])} | {_f(r['total_p50_s'])} / {_f(r['total_p95_s'])} "
                f"| {_f(r['check_p50_s'])} | {_f(r['prompt_tokens_p50'], '.0f')} ({_f(r['new_prompt_tokens_p50'], '.0f')}) "
                f"| {ratio} | {same} |"
            )
    lines += ["", "Configurations (settings overrides): "
              + "; ".join(f"`{n}` {', '.join(f'{k}={v}' for k, v in o.items()) or 'the defaults'}" for n, o in results["configs"].items())
              + (f"; for all: {', '.join(overrides)}" if overrides else "")]
    for model, configs in results["models"].items():
        for name, r in configs.items():
            lines += ["", f"## {model}, {name}", ""]
            for row in r["answers"]:
                lines.append(f"- **{row['question']}** → {row['answer']} _(first token {_f(row['first_token_s'], '.1f')} s, "
                             f"total {row['total_s']:.1f} s, new prompt tokens {_f(row['new_prompt_tokens'], '.0f')})_")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="assistant bench answer", description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", nargs="+", default=["qwen2.5-coder-1.5b"])
    ap.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    ap.add_argument("--cache-dir", default=None, help="model cache (default: settings)")
    ap.add_argument("--quick", action="store_true", help="2 questions, the first configuration; writes nothing")
    ap.add_argument("--set", action="append", default=[], metavar="SECTION.FIELD=VALUE",
                    help="a settings override for every configuration, e.g. llm.threads=2 (repeatable)")
    ap.add_argument("--name", default="answer", help="results file name (default: answer)")
    args = ap.parse_args(argv)

    from pathlib import Path

    from assistant.backends.models import ensure_gguf
    from assistant.settings import Settings
    from vectorstore import open_store

    over = {"paths.index_dir": tempfile.mkdtemp(prefix="bench-answer-")}
    if args.cache_dir:
        over["paths.cache_dir"] = args.cache_dir
    for kv in args.set:
        key, sep, value = kv.partition("=")
        if not sep:
            ap.error(f"--set {kv!r}: expected SECTION.FIELD=VALUE")
        over[key.strip()] = value.strip()
    base = Settings().with_overrides(**over)
    store = open_store(base)
    store.ingest([SEEDS])
    questions = QUESTIONS[::5] if args.quick else QUESTIONS
    configs = {name: CONFIGS[name] for name in (args.configs[:1] if args.quick else args.configs)}

    results: dict = {"machine": machine(base), "configs": configs, "overrides": args.set, "questions": len(questions),
                      "ceiling": {}, "models": {}}
    for model in args.models:
        print(f"[{model}] raw llama.cpp ceiling …", flush=True)
        ceil = results["ceiling"][model] = ceiling(ensure_gguf(model, Path(base.paths.cache_dir)), base.llm.threads)
        print(f"  {ceil['tokens_per_s']:.1f} prompt tokens/s", flush=True)
        results["models"][model] = {}
        for name, config in configs.items():
            print(f"[{model}, {name}]", flush=True)
            s = base.with_overrides(**{"llm.model": model, **config})
            r = results["models"][model][name] = run_config(s, store, questions)
            if r["prompt_tokens_p50"] and r["new_prompt_tokens_p50"]:
                new = int(r["new_prompt_tokens_p50"])
                r["shape_ceiling"] = ceiling(ensure_gguf(model, Path(base.paths.cache_dir)), base.llm.threads,
                                             new=new, cached=int(r["prompt_tokens_p50"]) - new)
                print(f"  raw llama.cpp, same shape: {r['shape_ceiling']['tokens_per_s']:.1f} prompt tokens/s", flush=True)
    md = markdown(results, args.set)
    if args.quick:
        print(md)
        return 0
    save(args.name, results, md)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
