"""Reports of evaluation runs: the JSON results file, a Markdown summary, a PNG plot, and the
comparison of runs (``--compare A.json B.json``).

The plot puts runs side by side: recall@k curves (k = 1..10) per language pair on the left, the
answer metrics of each configuration as grouped bars on the right.
"""

from __future__ import annotations

import json
from pathlib import Path

from assistant.errors import ConfigError

# Answer metrics drawn in the plot and listed by --compare, as (key path, label).
ANSWER_METRICS = [
    (("correct",), "correct"),
    (("fact_recall",), "fact recall"),
    (("token_f1",), "token F1"),
    (("abstention", "precision"), "abstain P"),
    (("abstention", "recall"), "abstain R"),
    (("language_match",), "language"),
    (("citation_validity",), "citations valid"),
    (("sentence_support_rate",), "sentences supported"),
    (("cited_gold_rate",), "cited gold"),
]
TIMINGS = [(("first_token_s", "p50"), "first token p50 s"), (("first_token_s", "p95"), "first token p95 s"),
           (("total_s", "p50"), "total p50 s"), (("total_s", "p95"), "total p95 s")]


def _get(d: dict | None, path: tuple[str, ...]):
    for key in path:
        if not isinstance(d, dict):
            return None
        d = d.get(key)
    return d


def _fmt(v, digits: int = 3) -> str:
    if v is None:
        return "–"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return str(v)


def run_name(results: dict) -> str:
    """A short name for legends: set/mode/model (+label); a held-out run's set reads ``xquad-holdout8``."""
    r = results["run"]
    model = "retrieval" if r.get("retrieval_only") else (r["settings"]["llm"]["model"])
    held = r.get("hold_out")
    set_name = f"{r['set']}-holdout{held['n']}" if held else r["set"]
    name = f"{set_name}/{results['retrieval']['mode']}/{model}"
    return f"{name} [{r['label']}]" if r.get("label") else name


def load_results(path: Path) -> dict:
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such results file") from None
    except json.JSONDecodeError as e:
        raise ConfigError(f"{path}: not a results file (invalid JSON: {e.msg})") from e
    if not isinstance(data, dict) or data.get("schema") != 1 or "retrieval" not in data or "run" not in data:
        raise ConfigError(f"{path}: not an evaluation results file (no schema 1 run/retrieval)")
    return data


# ------------------------------------------------------------------------------------ Markdown
def headline(results: dict) -> str:
    """One line: the main numbers of a run."""
    o = results["retrieval"]["overall"]
    parts = [f"{run_name(results)}: {results['run']['n_questions']} questions",
             f"R@1 {_fmt(o['recall@1'])}, R@5 {_fmt(o['recall@5'])}, MRR {_fmt(o['mrr'])}"]
    a = results.get("answers")
    if a and a.get("interrupted"):
        parts.append(f"interrupted: answers for the first {a['answered_questions']}")
    if a:
        parts.append(f"correct {_fmt(a['correct'])}, facts {_fmt(a['fact_recall'])}, "
                     f"abstain P/R {_fmt(a['abstention']['precision'])}/{_fmt(a['abstention']['recall'])}")
    h = (a or {}).get("held_out")
    if h:
        gold = ", ".join(f"{lang} {_count(g['gold_answers'], g['answerable'])}" for lang, g in h["by_language"].items())
        parts.append(f"held-out refused {_count(h['refused'], h['held_out'])}, "
                     f"false abstentions {_count(h['false_abstentions'], h['answerable'])}, gold answer {gold}")
    return "; ".join(parts)


def _count(k: int, n: int, rate: bool = False) -> str:
    """``k/n``, with the share when ``rate`` (``–`` when there is nothing to count)."""
    if not n:
        return "–"
    return f"{k}/{n} ({k / n:.3f})" if rate else f"{k}/{n}"


HELD_OUT_LINES = [
    ("held-out questions refused", "refused", "held_out"),
    ("false abstentions on answerable ones", "false_abstentions", "answerable"),
    ("answers containing a gold answer (answerable ones)", "gold_answers", "answerable"),
]


def _held_out_section(hold: dict, answers: dict | None) -> list[str]:
    lines = ["", "## Held-out topics", "",
             f"Not in the index ({hold['n']}, seed {hold['seed']}): {', '.join(hold['topics'])}. Their "
             f"{len(hold['records'])} paragraphs ({len(hold['articles_removed'])} articles, {hold['chunks_removed']} chunks) "
             f"were deleted from a copy of `{hold['full_index_dir']}`. Their questions must be refused; the other "
             "topics' questions are answerable."]
    h = (answers or {}).get("held_out")
    if not h:
        return lines
    langs = list(h["by_language"])
    lines += ["", "| | all | " + " | ".join(langs) + " |", "| --- | ---: |" + " ---: |" * len(langs)]
    for label, k, n in HELD_OUT_LINES:
        lines.append(f"| {label} | {_count(h[k], h[n], rate=True)} | "
                     + " | ".join(_count(g[k], g[n], rate=True) for g in h["by_language"].values()) + " |")
    if h["errors"]:
        lines += ["", f"{h['errors']} questions failed with an error and are not counted."]
    return lines


def _retrieval_table(title: str, rows: dict) -> list[str]:
    out = [f"| {title} | n | R@1 | R@5 | R@10 | MRR |", "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for name, m in rows.items():
        out.append(f"| {name} | {m['n']} | {_fmt(m['recall@1'])} | {_fmt(m['recall@5'])} | {_fmt(m['recall@10'])} | {_fmt(m['mrr'])} |")
    return out


def markdown(results: dict) -> str:
    """The Markdown summary of one run."""
    r = results["run"]
    s = r["settings"]
    ret = results["retrieval"]
    m = r.get("machine", {})
    lines = [
        f"# Evaluation {r['id']}",
        "",
        f"- Set: **{r['set']}**, {r['n_questions']} questions; corpus: {'; '.join(r['corpus']['notes'])} "
        f"({r['corpus']['articles']} articles, {r['corpus']['chunks']} chunks)"
        + (f"; **interrupted**: answers scored for the first {results['answers']['answered_questions']}"
           if (results.get("answers") or {}).get("interrupted") else ""),
        f"- Date {r['date']}; git commit `{(r['git'].get('commit') or '?')[:12]}`{' (uncommitted changes)' if r['git'].get('dirty') else ''}; "
        f"{m.get('nproc', '?')} CPU cores ({m.get('cpu', '?')}), load at start {m.get('load_avg_at_start', '?')}; run took {r['seconds']} s",
        f"- Embedding `{r['models']['embedding']}`; retrieval mode `{ret['mode']}`, k {s['retrieval']['k']}; chunks "
        f"{s['chunking']['max_tokens']}/{s['chunking']['overlap_tokens']} tokens",
    ]
    if not r.get("retrieval_only"):
        lines.append(f"- Answer model `{', '.join(r['models']['llm'] or [])}`; prompt variant `{s['answering']['prompt_variant']}`; "
                     f"context passages {s['answering']['context_passages']}; min relevance {s['answering']['min_relevance']}")
    lines.append("- Prompt hashes: " + ", ".join(f"`{k}` {v}" for k, v in r["prompt_hashes"].items()))
    lines += [f"- Note: {n}" for n in r.get("notes", [])]
    lines += ["", "## Retrieval", "",
              "A chunk is relevant when it holds at least half of the gold passage (or belongs to the gold article).", ""]
    lines += _retrieval_table("language pair", {"all": ret["overall"], **ret["by_pair"]})
    lines.append("")
    lines += _retrieval_table("kind", ret["by_kind"])
    st = ret.get("search_s") or {}
    lines += ["", f"Search time per query: p50 {_fmt(st.get('p50'))} s, p95 {_fmt(st.get('p95'))} s."]
    if ret.get("no_gold"):
        lines.append(f"Gold passage not found in the corpus (left out): {', '.join(ret['no_gold'])}.")
    a = results.get("answers")
    if a:
        lines += ["", "## Answers", "", "| metric | value |", "| --- | ---: |"]
        for path, label in ANSWER_METRICS:
            lines.append(f"| {label} | {_fmt(_get(a, path))} |")
        lines += [
            f"| facts all found | {_fmt(a['facts_all'])} |",
            f"| false abstention rate | {_fmt(a['abstention']['false_abstention_rate'])} |",
            f"| language (declared / detected) | {_fmt(a['language_match_declared'])} / {_fmt(a['language_match_detected'])} |",
            f"| dangling markers | {a['dangling_markers']} |",
            f"| context recall | {_fmt(a['context_recall'])} |",
            f"| abstained before the model ran | {a.get('abstained_before_model', '–')} |",
            f"| grounded (of answered) | {_fmt(a['grounded_rate'])} |",
            f"| errors | {a['errors']} |",
        ]
        for path, label in TIMINGS:
            lines.append(f"| {label} | {_fmt(_get(a, path), 2)} |")
        for title, groups in (("kind", a["by_kind"]), ("question language", a.get("by_language", {}))):
            lines += ["", f"| {title} | n | correct | fact recall | token F1 | abstained | language | context recall | cited gold |",
                      "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
            for name, k in groups.items():
                lines.append(f"| {name} | {k['n']} | {_fmt(k['correct'])} | {_fmt(k['fact_recall'])} | {_fmt(k['token_f1'])} | "
                             f"{_fmt(k['abstained'])} | {_fmt(k['language_match'])} | {_fmt(k.get('context_recall'))} | "
                             f"{_fmt(k.get('cited_gold_rate'))} |")
    if r.get("hold_out"):
        lines += _held_out_section(r["hold_out"], a)
    misses = [q for q in results["questions"] if "rank" in q and q["rank"] != 1]
    wrong = [q for q in results["questions"] if q.get("answer") and not q["answer"].get("correct")]
    if misses:
        lines += ["", "## Retrieval misses (gold not at rank 1)", ""]
        lines += [f"- `{q['id']}` rank {_fmt(q['rank'])}: {q['question']}" for q in misses[:40]]
    if wrong:
        lines += ["", "## Wrong answers", ""]
        for q in wrong[:40]:
            ans = q["answer"]
            text = ans.get("text") or ans.get("error") or ""
            lines.append(f"- `{q['id']}` {q['question']} → {' '.join(text.split())[:160]}")
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------------ plot
def plot_runs(runs: list[dict], path: Path) -> Path:
    """Draw recall@k curves per language pair (left) and answer metrics per run (right) into a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 5))
    styles = ["-", "--", ":", "-."]
    markers = ["o", "s", "^", "D", "v"]
    pairs = sorted({p for r in runs for p in r["retrieval"]["by_pair"]})
    colors = {p: f"C{i}" for i, p in enumerate(pairs)}
    for i, res in enumerate(runs):
        for p in pairs:
            m = res["retrieval"]["by_pair"].get(p)
            if not m or not m.get("curve"):
                continue
            ks = list(range(1, len(m["curve"]) + 1))
            left.plot(ks, m["curve"], linestyle=styles[i % len(styles)], marker=markers[i % len(markers)], markersize=4,
                      color=colors[p], label=f"{run_name(res)} · {p} (n={m['n']})")
    left.set_xlabel("k")
    left.set_ylabel("recall@k")
    left.set_ylim(0, 1.02)
    left.set_title("Retrieval: recall@k per language pair")
    left.grid(alpha=0.3)
    left.legend(fontsize=7, loc="lower right")
    with_answers = [r for r in runs if r.get("answers")]
    if with_answers:
        width = 0.8 / len(with_answers)
        xs = range(len(ANSWER_METRICS))
        for i, res in enumerate(with_answers):
            vals = [_get(res["answers"], p) for p, _ in ANSWER_METRICS]
            right.bar([x + i * width for x in xs], [v if v is not None else 0 for v in vals], width=width,
                      label=run_name(res), color=f"C{i}")
        right.set_xticks([x + 0.4 - width / 2 for x in xs])
        right.set_xticklabels([label for _, label in ANSWER_METRICS], rotation=35, ha="right", fontsize=8)
        right.set_ylim(0, 1.02)
        right.legend(fontsize=7)
    else:
        right.text(0.5, 0.5, "retrieval-only runs:\nno answer metrics", ha="center", va="center", transform=right.transAxes)
        right.set_xticks([])
    right.set_title("Answers per configuration")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def write_outputs(results: dict, out_dir: Path, plot_with: list[dict] | None = None) -> dict[str, Path]:
    """Write ``<run id>.json``, ``.md`` and ``.png`` into ``out_dir``; the plot also shows ``plot_with``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rid = results["run"]["id"]  # may hold dots (qwen2.5-…), so no with_suffix
    paths = {"json": out_dir / f"{rid}.json", "markdown": out_dir / f"{rid}.md", "plot": out_dir / f"{rid}.png"}
    paths["json"].write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    paths["markdown"].write_text(markdown(results), encoding="utf-8")
    plot_runs([*(plot_with or []), results], paths["plot"])
    return paths


# ------------------------------------------------------------------------------------ compare
def _flatten(d, prefix: str = "") -> dict[str, object]:
    out: dict[str, object] = {}
    if isinstance(d, dict):
        for k, v in d.items():
            out.update(_flatten(v, f"{prefix}{k}."))
    elif isinstance(d, list) and not any(isinstance(x, (dict, list)) for x in d):
        out[prefix[:-1]] = d
    elif not isinstance(d, list):
        out[prefix[:-1]] = d
    return out


def _metrics(results: dict) -> dict[str, float | None]:
    ret = results["retrieval"]
    out: dict[str, float | None] = {}
    for scope, m in [("all", ret["overall"]), *ret["by_pair"].items(), *(("kind " + k, v) for k, v in ret["by_kind"].items())]:
        for key in ("recall@1", "recall@5", "recall@10", "mrr"):
            out[f"retrieval {scope} {key}"] = m.get(key)
    a = results.get("answers")
    if a:
        for path, label in [*ANSWER_METRICS, *TIMINGS, (("facts_all",), "facts all found"),
                            (("abstention", "false_abstention_rate"), "false abstention rate"),
                            (("context_recall",), "context recall"), (("dangling_markers",), "dangling markers")]:
            out[f"answers {label}"] = _get(a, path)
        if a.get("held_out"):
            for label, key in (("held-out refused", "refusal_rate"), ("held-out false abstentions", "false_abstention_rate"),
                               ("held-out gold answers", "gold_answer_rate")):
                out[f"answers {label}"] = a["held_out"][key]
    return out


def _config(results: dict) -> dict[str, object]:
    r = results["run"]
    cfg = {f"settings.{k}": v for k, v in _flatten(r["settings"]).items() if not k.startswith("paths.")}
    cfg.update({f"prompt {k}": v for k, v in r["prompt_hashes"].items()})
    cfg["model embedding"] = r["models"]["embedding"]
    cfg["model llm"] = ", ".join(r["models"]["llm"] or []) or None
    cfg["set"] = r["set"]
    held = r.get("hold_out")
    cfg["held-out topics"] = f"{held['n']} (seed {held['seed']}): {', '.join(held['topics'])}" if held else None
    cfg["corpus"] = f"{r['corpus']['articles']} articles, {r['corpus']['chunks']} chunks"
    cfg["questions"] = r["n_questions"]
    cfg["retrieval only"] = r.get("retrieval_only")
    cfg["git commit"] = (r["git"].get("commit") or "")[:12]
    return cfg


def _pair(a: dict, b: dict) -> list[str]:
    ra, rb = a["run"], b["run"]
    lines = [f"A: {ra['id']}  ({run_name(a)}, {ra['date']})", f"B: {rb['id']}  ({run_name(b)}, {rb['date']})", ""]
    ca, cb = _config(a), _config(b)
    changed = [k for k in sorted(set(ca) | set(cb)) if ca.get(k) != cb.get(k)]
    lines.append("Configuration changes:" if changed else "Configuration: no changes")
    lines += [f"  {k}: {_fmt(ca.get(k))} -> {_fmt(cb.get(k))}" for k in changed]
    ma, mb = _metrics(a), _metrics(b)
    moved, same = [], 0
    for k in sorted(set(ma) | set(mb), key=lambda x: (x.split()[0], x)):
        va, vb = ma.get(k), mb.get(k)
        if va == vb or (isinstance(va, (int, float)) and isinstance(vb, (int, float)) and abs(va - vb) < 1e-9):
            same += 1
            continue
        delta = f" ({vb - va:+.3f})" if isinstance(va, (int, float)) and isinstance(vb, (int, float)) else ""
        moved.append(f"  {k}: {_fmt(va)} -> {_fmt(vb)}{delta}")
    lines += ["", "Metric changes:" if moved else "Metrics: no changes", *moved]
    if moved and same:
        lines.append(f"  ({same} other metrics unchanged)")
    qa = {q["id"]: q for q in a["questions"]}
    qb = {q["id"]: q for q in b["questions"]}
    only_a, only_b = sorted(set(qa) - set(qb)), sorted(set(qb) - set(qa))
    if only_a or only_b:
        lines += ["", f"Question sets differ: {len(only_a)} only in A, {len(only_b)} only in B"]
    per_q = []
    for qid in [q for q in qa if q in qb]:
        x, y = qa[qid], qb[qid]
        notes = []
        if x.get("rank", "-") != y.get("rank", "-"):
            notes.append(f"rank {_fmt(x.get('rank'))} -> {_fmt(y.get('rank'))}")
        cx, cy = _get(x, ("answer", "correct")), _get(y, ("answer", "correct"))
        if x.get("answer") and y.get("answer") and cx != cy:
            notes.append(f"answer {'right' if cx else 'wrong'} -> {'right' if cy else 'wrong'}")
        if notes:
            per_q.append(f"  {qid}: {'; '.join(notes)}")
    lines += ["", "Questions that changed:" if per_q else "Questions: no per-question changes", *per_q]
    return lines


def compare(runs: list[dict]) -> str:
    """What changed from the first run to each later one: configuration, metrics, questions."""
    if len(runs) < 2:
        raise ConfigError("comparing needs at least two runs")
    out: list[str] = []
    for b in runs[1:]:
        if out:
            out += ["", "=" * 72, ""]
        out += _pair(runs[0], b)
    return "\n".join(out)


__all__ = ["load_results", "markdown", "headline", "plot_runs", "write_outputs", "compare", "run_name"]
