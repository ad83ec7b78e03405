"""The command line of the evaluation: ``assistant eval ...`` and ``python -m evals ...`` (same flags).

    python -m evals --retrieval-only                  # seed set, retrieval only
    python -m evals --set xquad --limit 200 --retrieval-only
    python -m evals --set xquad --hold-out 8 --limit 100   # 8 topics out of the index: must be refused
    python -m evals --mode lexical --k 3 --model qwen2.5-coder-0.5b --label small
    python -m evals --set news --split dev            # the dev half of the news set (evals/sets/NEWS.md)
    python -m evals --set seed --summary              # also rewrite the seed row of README.md's results table
    python -m evals --compare evals/results/A.json evals/results/B.json

Results go to ``evals/results/`` of the checkout the current folder is in, else to
``./newsqa-eval-results`` (``--out`` chooses another folder).
"""

from __future__ import annotations

import argparse
import importlib
import signal
import sys
import threading
from contextlib import contextmanager
from pathlib import Path

from assistant.errors import AssistantError, ConfigError

from . import datasets, report, summary
from .datasets import SETS
from .runner import EvalOptions, run_eval
from .splits import SPLITS

OUT_FALLBACK = "newsqa-eval-results"


def default_out_dir(cwd: Path | None = None) -> Path:
    """``evals/runs/`` (git-ignored) of the checkout that holds ``cwd`` (the current folder by default),
    else ``cwd/newsqa-eval-results``. A run a document cites is copied to ``evals/results/`` by hand."""
    cwd = Path.cwd() if cwd is None else Path(cwd)
    for folder in (cwd, *cwd.parents):
        if (folder / "evals" / "results").is_dir():
            return folder / "evals" / "runs"
    return cwd / OUT_FALLBACK


def default_readme(cwd: Path | None = None) -> Path | None:
    """The README.md of the checkout that holds ``cwd`` (as for ``default_out_dir``), else None."""
    cwd = Path.cwd() if cwd is None else Path(cwd)
    for folder in (cwd, *cwd.parents):
        if (folder / "evals" / "results").is_dir() and (folder / "README.md").is_file():
            return folder / "README.md"
    return None


def build_parser(prog: str = "assistant eval") -> argparse.ArgumentParser:
    """The flags of ``assistant eval`` and ``python -m evals``."""
    out = default_out_dir()
    p = argparse.ArgumentParser(
        prog=prog, description="Evaluate retrieval and answers on a question set.",
        epilog="Also: `checker` (the verifier on evals/sets/checker.jsonl), `hostile` (injected articles) and "
        "`conversations` (multi-turn dialogues), each with its own --help.",
    )
    p.add_argument("--set", default="seed", choices=SETS, help="question set (default: seed)")
    p.add_argument("--questions", type=Path, help="a seed-format JSONL file instead of evals/seed.jsonl (or news.jsonl)")
    p.add_argument("--split", choices=SPLITS,
                   help="ask only the questions of this half (evals/splits.py: by article, XQuAD by topic; seed is all dev)")
    p.add_argument("--mode", choices=["dense", "lexical", "hybrid"], help="retrieval mode (default: configured)")
    p.add_argument("--k", type=int, help="passages retrieved for an answer (default: configured)")
    p.add_argument("--model", help="answer model, e.g. qwen2.5-coder-0.5b (default: configured)")
    p.add_argument("--embedding", help="embedding model (default: configured); gets its own eval index")
    p.add_argument("--prompt-variant", help="prompt variant (prompts/answer.<variant>.<lang>.txt)")
    p.add_argument("--retrieval-only", action="store_true", help="measure retrieval only (no answer model)")
    p.add_argument("--limit", type=int, help="ask only N questions (taken round-robin over question kinds)")
    p.add_argument("--distractors", type=int,
                   help="10kGNAD distractor articles (public sets: default all 1028; news: 300 others; seed: 0)")
    p.add_argument("--index-dir", type=Path, help="eval index folder (default: <cache_dir>/eval-index/<set>-...)")
    p.add_argument("--rebuild", action="store_true",
                   help="rebuild the eval index from scratch (with --hold-out: copy the full index again)")
    p.add_argument("--hold-out", type=int, default=0, metavar="N",
                   help="xquad: leave N topics (a fixed, seeded choice) out of a copy of the index; their questions "
                        "must be refused, and --limit takes half of them")
    p.add_argument("--replay", type=Path, metavar="RESULTS.json",
                   help="check the model text recorded in an earlier run again, with the current checks, "
                        "instead of asking the model (the checks' judges still use it)")
    p.add_argument("--out", type=Path, default=out,
                   help=f"results folder (default: evals/results/ of this checkout, else ./{OUT_FALLBACK}; here {out})")
    p.add_argument("--label", default="", help="a name for this run (goes into the file names)")
    p.add_argument("--summary", nargs="?", const=True, type=Path, metavar="README",
                   help="after the run, rewrite this set/split/model's row of the results table in README.md "
                        "(between <!-- results:start --> and <!-- results:end -->), linked to the run's report")
    p.add_argument("--plot-with", type=Path, nargs="+", default=[], metavar="RESULTS.json",
                   help="earlier results to draw in this run's plot")
    p.add_argument("--compare", type=Path, nargs="+", metavar="RESULTS.json",
                   help="print what changed between two (or more) results files and exit")
    p.add_argument("--plot", type=Path, help="with --compare: also draw the runs into this PNG")
    return p


def _compare(args: argparse.Namespace) -> int:
    if len(args.compare) < 2:
        raise ConfigError("--compare needs at least two results files")
    runs = [report.load_results(p) for p in args.compare]
    print(report.compare(runs))
    if args.plot:
        report.plot_runs(runs, args.plot)
        print(f"wrote {args.plot}")
    return 0


def _options(args: argparse.Namespace) -> EvalOptions:
    for name, least in (("k", 1), ("limit", 1), ("distractors", 0), ("hold_out", 0)):
        v = getattr(args, name)
        if v is not None and v < least:
            raise ConfigError(f"--{name.replace('_', '-')} must be at least {least}, got {v}")
    return EvalOptions(
        set=args.set, questions=args.questions, mode=args.mode, k=args.k, model=args.model, embedding=args.embedding,
        prompt_variant=args.prompt_variant, retrieval_only=args.retrieval_only, limit=args.limit,
        distractors=args.distractors, index_dir=args.index_dir, rebuild=args.rebuild, label=args.label,
        hold_out=args.hold_out, replay=args.replay,
    )


#: ``assistant eval checker|hostile|conversations …``: the sets with runners of their own.
SET_COMMANDS = ("checker", "hostile", "conversations")


@contextmanager
def interrupt_on_signals():
    """While the block runs, SIGINT and SIGTERM end the answers early, and the questions answered so
    far are scored and written. A run started in the background (``&``) ignores SIGINT otherwise."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    before = signal.signal(signal.SIGINT, signal.default_int_handler), signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, before[0])
        signal.signal(signal.SIGTERM, before[1])


def main(argv: list[str] | None = None, prog: str = "assistant eval") -> int:
    """Entry point of ``assistant eval`` and ``python -m evals`` (``prog`` names it in --help).
    Returns the exit code: 0 done, 1 an error (one line on stderr), 2 bad flags."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] and argv[0] in SET_COMMANDS:
        # The checker set, hostile articles and conversations have runners of their own.
        module = importlib.import_module(f"evals.{argv[0]}")
        return module.main(argv[1:], prog=f"{prog} {argv[0]}")
    args = build_parser(prog).parse_args(argv)
    readme = default_readme() if args.summary is True else args.summary
    if args.summary and not args.compare and (code := summary.check(readme)):
        return code
    try:
        if args.compare:
            return _compare(args)
        split = datasets.SPLIT.set(args.split)  # load_set keeps that half of the questions
        try:
            with interrupt_on_signals():
                results = run_eval(_options(args), log=lambda m: print(m, file=sys.stderr, flush=True), argv=argv)
        finally:
            datasets.SPLIT.reset(split)
        others = [report.load_results(p) for p in args.plot_with]
        paths = report.write_outputs(results, args.out, plot_with=others)
        print(report.headline(results))
        for kind, path in paths.items():
            print(f"wrote {kind}: {path}")
        if args.summary:
            return summary.summarize(readme, results, args.split, paths["markdown"])
        return 0
    except AssistantError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1


__all__ = ["build_parser", "default_out_dir", "default_readme", "main"]
