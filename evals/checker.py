"""The checker set: does the verifier accept true claims and refuse false ones?

    python -m evals.checker                     # the default verifier, results in evals/results/
    python -m evals.checker --min-similarity 0.82 --label sim82
    python -m evals.checker --entailment qwen2.5-coder-1.5b   # with the answer model's P(yes)
    python -m evals.checker --set evals/sets/synthetic.jsonl --label v2   # the synthetic set (SYNTHETIC.md)

Each record of ``evals/sets/checker.jsonl`` (see ``evals/sets/CHECKER.md``) is a passage, a claim and
a label (supported / contradicted / not_found) of one kind (paraphrase, translation, negation, roles,
…). The claim is checked against the passage alone, as the answer's check stage does. Reported per
kind: how often a false claim was accepted (false-accept) and how often a true one was refused
(false-reject), and overall.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import time
from functools import lru_cache
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from assistant.settings import Settings
from assistant.verify import ClaimCheck, Source, Verifier
from evals.splits import checker_split
from vectorstore.embedder import make_embedder

CHECKER_SET = Path(__file__).with_name("sets") / "checker.jsonl"
TRUE_KINDS = ("paraphrase", "translation", "date_format", "abbreviation", "possessive", "verbatim", "reorder")


@dataclass(frozen=True)
class Pair:
    id: str
    kind: str
    label: str
    claim: str
    language: str
    source: Source
    origin: str
    split: str = "dev"
    crosslingual: bool = False


def load_pairs(path: Path = CHECKER_SET) -> list[Pair]:
    pairs = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        r = json.loads(line)
        split = r.get("split") or checker_split(r, _xquad_titles())
        pairs.append(Pair(r["id"], r["kind"], r["label"], r["claim"], r["claim_language"],
                          Source(r["passage"], r.get("passage_title", ""), r.get("passage_date", "")), r["source"],
                          split, r["claim_language"] != r.get("passage_language", "de")))
    return pairs


@lru_cache(maxsize=1)
def _xquad_titles() -> list[str]:
    from benchmarks import common

    return [a["title"] for a in json.loads(common.XQUAD_EN.read_text(encoding="utf-8"))["data"]]


def run(pairs: Sequence[Pair], check: Callable[[Pair], ClaimCheck]) -> dict:
    """Check every pair; the per-kind and overall false-accept / false-reject rates."""
    rows, t0 = [], time.perf_counter()
    for p in pairs:
        t = time.perf_counter()
        c = check(p)
        rows.append({
            "id": p.id, "kind": p.kind, "label": p.label, "origin": p.origin, "language": p.language, "claim": p.claim,
            "split": p.split, "crosslingual": p.crosslingual,
            "verdict": c.verdict, "similarity": round(c.similarity, 4), "entailment": c.entailment,
            "probability": None if c.probability is None else round(c.probability, 4),
            "codes": sorted(f.code.value for f in c.findings), "reasons": list(c.reasons), "evidence": [e.text for e in c.evidence],
            "seconds": round(time.perf_counter() - t, 4),
        })
    return {"rows": rows, "summary": summarize(rows), "seconds": round(time.perf_counter() - t0, 1)}


def threshold_sweep(rows: list[dict], thresholds: Sequence[float] = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)) -> list[dict]:
    """False-accept and false-reject had the combiner's threshold been each of ``thresholds``."""
    out = []
    for t in thresholds:
        sim = [{**r, "verdict": "supported" if (r["probability"] or 0) >= t else
                ("not_found" if r["verdict"] == "supported" else r["verdict"])} for r in rows]
        s = summarize(sim)
        worst = max((k["false_accept"] for k in s["kinds"].values() if "false_accept" in k), default=0.0)
        out.append({"threshold": t, "false_accept": s["false_accept"], "false_reject": s["false_reject"],
                    "worst_kind_false_accept": worst})
    return out


def summarize(rows: list[dict]) -> dict:
    def rate(sel: list[dict], accepted: bool) -> float:
        return round(sum((r["verdict"] == "supported") == accepted for r in sel) / len(sel), 3) if sel else 0.0

    true_rows = [r for r in rows if r["label"] == "supported"]
    false_rows = [r for r in rows if r["label"] != "supported"]
    kinds = {}
    for kind in sorted({r["kind"] for r in rows}, key=lambda k: (k not in TRUE_KINDS, k)):
        sel = [r for r in rows if r["kind"] == kind]
        true_kind = sel[0]["label"] == "supported"
        kinds[kind] = {
            "n": len(sel), "label": sel[0]["label"],
            ("false_reject" if true_kind else "false_accept"): rate(sel, not true_kind),
            "exact": round(sum(r["verdict"] == r["label"] for r in sel) / len(sel), 3),
        }
    seconds = sorted(r["seconds"] for r in rows if "seconds" in r)
    cross = [r for r in rows if r.get("crosslingual")]
    return {
        "crosslingual": {"n": len(cross), "false_accept": rate([r for r in cross if r["label"] != "supported"], True),
                         "false_reject": rate([r for r in cross if r["label"] == "supported"], False)},
        "n": len(rows), "false_accept": rate(false_rows, True), "false_reject": rate(true_rows, False),
        "exact": round(sum(r["verdict"] == r["label"] for r in rows) / len(rows), 3), "kinds": kinds,
        "p50_seconds": seconds[len(seconds) // 2] if seconds else None,
    }


def markdown(result: dict, title: str) -> str:
    s = result["summary"]
    lines = [
        f"# Checker set: {title}", "",
        f"{s['n']} (claim, passage) pairs; false-accept **{s['false_accept']:.3f}** (target ≤ 0.05, every false kind ≤ 0.10), "
        f"false-reject **{s['false_reject']:.3f}** (target ≤ 0.10); exact verdict {s['exact']:.3f}; {result['seconds']} s "
        f"(p50 {s.get('p50_seconds')} s per check). Cross-lingual pairs ({s['crosslingual']['n']}): false-accept "
        f"{s['crosslingual']['false_accept']:.3f}, false-reject {s['crosslingual']['false_reject']:.3f}.", "",
        "| kind | label | n | false-accept | false-reject | exact verdict |", "| --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for kind, k in s["kinds"].items():
        fa = f"{k['false_accept']:.3f}" if "false_accept" in k else ""
        fr = f"{k['false_reject']:.3f}" if "false_reject" in k else ""
        lines.append(f"| {kind} | {k['label']} | {k['n']} | {fa} | {fr} | {k['exact']:.3f} |")
    if result.get("sweep"):
        lines += ["", "## Threshold sweep (the combiner's P(supported) of this run)", "",
                  "| threshold | false-accept | worst kind | false-reject |", "| ---: | ---: | ---: | ---: |"]
        lines += [f"| {w['threshold']} | {w['false_accept']:.3f} | {w['worst_kind_false_accept']:.3f} | {w['false_reject']:.3f} |"
                  for w in result["sweep"]]
    wrong = [r for r in result["rows"] if (r["verdict"] == "supported") != (r["label"] == "supported")]
    if wrong and result.get("split") != "test":  # a test half is reported, never read item by item
        lines += ["", "## Wrong decisions", "", "| id | label | verdict | sim | claim | reasons |", "| --- | --- | --- | ---: | --- | --- |"]
        for r in wrong:
            lines.append(f"| {r['id']} | {r['label']} | {r['verdict']} | {r['similarity']:.3f} | {r['claim'][:90]} | "
                         f"{'; '.join(r['reasons'])[:120]} |")
    return "\n".join(lines) + "\n"


def verifier_from(settings: Settings, *, entailment_model: str | None = None, combiner=None) -> Verifier:
    """The verifier of ``settings`` with the store's embedder, and the judge when a model is named."""
    e = settings.embedding
    embedder = make_embedder(e.model, cache_dir=Path(settings.paths.cache_dir), quantize=e.quantize,
                             batch_size=e.batch_size, threads=e.threads, second_weight=e.second_weight)
    entail = judge_from(settings, entailment_model) if entailment_model else None
    return Verifier(embedder, settings.verify, entailment=entail, combiner=combiner)


def judge_from(settings: Settings, model: str):
    """The support judge (``ModelJudge``) on the GGUF ``model``."""
    from assistant.backends.llm import make_chat_model
    from assistant.stages.prompts import load_prompt
    from assistant.verify import ModelJudge

    llm = make_chat_model(settings.with_overrides(**{"llm.model": model}))
    return ModelJudge(llm, load_prompt("verify", "en", prompts_dir=settings.answering.prompts_dir))


def main(argv: list[str] | None = None, prog: str = "python -m evals.checker") -> int:
    ap = argparse.ArgumentParser(prog=prog, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--set", type=Path, default=CHECKER_SET, help="the checker set (JSONL)")
    ap.add_argument("--split", choices=("dev", "test", "all"), default="dev",
                    help="which half (by article, evals.splits); a test half is reported without its items")
    ap.add_argument("--threshold", type=float, help="verify.threshold for this run (default: the combiner's)")
    ap.add_argument("--entailment", metavar="MODEL", help="also ask this GGUF model for P(yes) (e.g. qwen2.5-coder-1.5b)")
    ap.add_argument("--per-kind", type=int, metavar="N", help="only the first N pairs of each kind (a quicker run)")
    ap.add_argument("--label", default="", help="a name for this run")
    ap.add_argument("--out", type=Path, default=Path("evals/results"), help="results folder")
    args = ap.parse_args(argv)
    settings = Settings().with_overrides(**{"verify.threshold": args.threshold}) if args.threshold is not None else Settings()
    verifier = verifier_from(settings, entailment_model=args.entailment)
    pairs = [p for p in load_pairs(args.set) if args.split == "all" or p.split == args.split]
    if args.per_kind:
        pairs = [p for p in pairs if sum(q.kind == p.kind for q in pairs[: pairs.index(p)]) < args.per_kind]
    result = run(pairs, lambda p: verifier.check(p.claim, [p.source], [1], language=p.language))
    result["split"] = args.split
    result["settings"] = {"set": str(args.set), "split": args.split, "per_kind": args.per_kind, "entailment": args.entailment,
                          "threshold": verifier.threshold(), "embedding": getattr(verifier.embedder, "name", "?")}
    result["sweep"] = threshold_sweep(result["rows"])
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    set_name = "checker" if args.set.resolve() == CHECKER_SET.resolve() else args.set.stem
    name = f"{stamp}-{set_name}-{args.split}" + (f"-{args.label}" if args.label else "")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{name}.json").write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    (args.out / f"{name}.md").write_text(markdown(result, args.label or "verifier"), encoding="utf-8")
    s = result["summary"]
    print(f"false-accept {s['false_accept']:.3f}, false-reject {s['false_reject']:.3f}, exact {s['exact']:.3f}, "
          f"p50 {s['p50_seconds']} s per check -> {args.out / name}.md")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
