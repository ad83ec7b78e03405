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
import os
import statistics
import tempfile
import time

from . import turns
from .common import SEEDS, machine, machine_md, pct, save

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
    # follow-ups resolved by rule, without the model's rewrite (only the conversation turns differ)
    "rules": {"answering.follow_up_rewrite": "rules"},
}

#: Configurations that answer the single questions by default ("rules" only changes follow-ups).
SINGLE_CONFIGS = ("default", "wide", "evidence")
#: Configurations that also play the conversation dialogues (``benchmarks.turns``).
TURN_CONFIGS = ("default", "rules")

CEILING_PROMPT_TOKENS = 400


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


def run_config(settings, store, questions, llm=None) -> dict:
    from assistant.assistant import Assistant

    a = Assistant(settings, store=store, llm=llm)
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
    for model, by_config in results.get("turns", {}).items():
        if by_config:
            lines += ["", *turns.markdown(model, by_config)]
    for model, configs in results["models"].items():
        for name, r in configs.items():
            lines += ["", f"## {model}, {name}", ""]
            for row in r["answers"]:
                lines.append(f"- **{row['question']}** → {row['answer']} _(first token {_f(row['first_token_s'], '.1f')} s, "
                             f"total {row['total_s']:.1f} s, new prompt tokens {_f(row['new_prompt_tokens'], '.0f')})_")
    for model, by_config in results.get("turns", {}).items():
        for name, r in by_config.items():
            lines += turns.turn_lines(f"{model}, {name}", r)
    return "\n".join(lines)


def _args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="assistant bench answer", description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", nargs="+", default=["qwen2.5-coder-1.5b"])
    ap.add_argument("--configs", nargs="*", default=list(SINGLE_CONFIGS), choices=list(CONFIGS),
                    help="configurations that answer the single questions (default: %(default)s; none: only the dialogues)")
    ap.add_argument("--cache-dir", default=None, help="model cache (default: settings)")
    ap.add_argument("--quick", action="store_true", help="2 questions, 1 dialogue, the first configuration; writes nothing")
    ap.add_argument("--set", action="append", default=[], metavar="SECTION.FIELD=VALUE",
                    help="a settings override for every configuration, e.g. llm.threads=2 (repeatable)")
    ap.add_argument("--name", default="answer", help="results file name (default: answer)")
    ap.add_argument("--dialogues", type=int, default=turns.DIALOGUES,
                    help=f"dev dialogues of the XQuAD conversation set played per turn configuration (default {turns.DIALOGUES}; 0: none)")
    ap.add_argument("--turn-configs", nargs="+", default=list(TURN_CONFIGS), choices=list(CONFIGS),
                    help="configurations that play the dialogues (default: %(default)s)")
    ap.add_argument("--turns-index", default=None, help="index of the conversation set (default: <cache_dir>/bench-answer-turns)")
    args = ap.parse_args(argv)
    for kv in args.set:
        if "=" not in kv:
            ap.error(f"--set {kv!r}: expected SECTION.FIELD=VALUE")
    if args.quick:
        args.configs, args.turn_configs, args.dialogues = args.configs[:1], args.turn_configs[:1], min(args.dialogues, 1)
    return args


def _turn_store(base, index_dir: str | None):
    """The conversation set's index, kept between runs (re-ingesting it unchanged costs nothing)."""
    from pathlib import Path

    from vectorstore import open_store

    from .common import write_jsonl

    folder = Path(index_dir or Path(base.paths.cache_dir) / "bench-answer-turns")
    settings = base.with_overrides(**{"paths.index_dir": str(folder)})
    store = open_store(settings)
    print(f"conversation index {folder}: "
          + store.ingest([write_jsonl(folder / "corpus" / "conversations-xquad.jsonl", turns.conversation_corpus())]).summary(),
          flush=True)
    return store


def _run_model(model: str, base, store, questions, args, results: dict, turn_store, dialogues) -> None:
    """Every configuration of one model: the single questions, then (for the turn configurations) the dialogues."""
    from pathlib import Path

    from assistant.assistant import Assistant
    from assistant.backends.llm import make_chat_model
    from assistant.backends.models import ensure_gguf

    gguf = ensure_gguf(model, Path(base.paths.cache_dir))
    print(f"[{model}] raw llama.cpp ceiling …", flush=True)
    ceil = results["ceiling"][model] = ceiling(gguf, base.llm.threads)
    print(f"  {ceil['tokens_per_s']:.1f} prompt tokens/s", flush=True)
    results["models"][model], results["turns"][model] = {}, {}
    for name in dict.fromkeys([*args.configs, *(args.turn_configs if dialogues else [])]):
        print(f"[{model}, {name}]", flush=True)
        s = base.with_overrides(**{"llm.model": model, **CONFIGS[name]})
        log = turns.CallLog(turns.purposes_of(s))
        llm = log.attach(make_chat_model(s))
        if name in args.configs:
            r = results["models"][model][name] = run_config(s, store, questions, llm=llm)
            if r["prompt_tokens_p50"] and r["new_prompt_tokens_p50"]:
                new = int(r["new_prompt_tokens_p50"])
                r["shape_ceiling"] = ceiling(gguf, base.llm.threads, new=new, cached=int(r["prompt_tokens_p50"]) - new)
                print(f"  raw llama.cpp, same shape: {r['shape_ceiling']['tokens_per_s']:.1f} prompt tokens/s", flush=True)
        if dialogues and name in args.turn_configs:
            a = Assistant(s.with_overrides(**{"paths.index_dir": str(turn_store.index_dir)}),
                          store=turn_store, llm=llm)
            a.warm_up()
            results["turns"][model][name] = {**turns.run_turns(a, dialogues, log), "load_avg_at_end": list(os.getloadavg())}


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    from assistant.settings import Settings
    from vectorstore import open_store

    over = {"paths.index_dir": tempfile.mkdtemp(prefix="bench-answer-")}
    if args.cache_dir:
        over["paths.cache_dir"] = args.cache_dir
    over.update({k.strip(): v.strip() for k, _, v in (kv.partition("=") for kv in args.set)})
    base = Settings().with_overrides(**over)
    store = open_store(base)
    store.ingest([SEEDS])
    questions = QUESTIONS[::5] if args.quick else QUESTIONS
    dialogues = turns.dev_dialogues(n=args.dialogues) if args.dialogues > 0 else []
    turn_store = _turn_store(base, args.turns_index) if dialogues else None
    configs = {name: CONFIGS[name] for name in dict.fromkeys([*args.configs, *args.turn_configs])}
    results: dict = {"machine": machine(base), "configs": configs, "overrides": args.set, "questions": len(questions),
                     "ceiling": {}, "models": {}, "turns": {}}
    for model in args.models:
        _run_model(model, base, store, questions, args, results, turn_store, dialogues)
    md = markdown(results, args.set)
    if args.quick:
        print(md)
        return 0
    save(args.name, results, md)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
