"""Scoring: one ``Answer`` against its question's gold (a per-question row), and per-question rows
aggregated into a run's answer and retrieval metrics, overall and per group."""

from __future__ import annotations

from assistant.types import Answer
from vectorstore.language import detect_language
from vectorstore.text import parse_markers, strip_markers

from .datasets import EvalQuestion
from .gold import Gold
from .metrics import (
    abstention_metrics,
    contains_fact,
    dangling_markers,
    fact_recall,
    facts_f1,
    mean,
    ranking_metrics,
    timing_stats,
)

VERDICTS = ("supported", "contradicted", "not_found")  # assistant.types.Verdict


def score_answer(q: EvalQuestion, answer: Answer, gold: Gold) -> dict:
    """The measurements of one answer (see evals/README.md, "What is measured").

    Citation markers are judged on what the model wrote (``answer.raw_text``): a marker is
    dangling when it names no passage the model was shown. The checked ``answer.text`` has such
    markers removed, so it cannot show them. Without a model call there is nothing to judge
    (``citations_valid`` is None).
    """
    text = answer.text or ""
    raw = answer.raw_text or ""
    body = strip_markers(text)
    dangling = dangling_markers(raw, len(answer.passages))
    verdicts = [s.verdict for s in answer.sentences]
    detected = detect_language(body, default=q.language) if body else q.language
    row: dict = {
        "text": text,
        "raw_text": raw,  # what the model wrote before the checks (why an answer was dropped)
        "abstained": bool(answer.abstained),
        "model_called": bool(raw),  # False: the relevance gate abstained before the model ran
        "grounded": bool(answer.grounded),
        "language": answer.language,
        "language_ok_declared": answer.language == q.language,
        "language_ok_detected": detected == q.language,
        "markers": len(parse_markers(raw)),
        "dangling": dangling,
        "citations_valid": not dangling if raw else None,
        "citations": len(answer.citations),
        "sentences": {v: verdicts.count(v) for v in VERDICTS},
        "context_hit": None if gold.empty else any(gold.relevant_hit(h) for h in answer.passages),
        "first_token_s": answer.timings.get("first_token_s"),
        "total_s": answer.timings.get("total_s"),
        "standalone_question": answer.standalone_question,
        "model": answer.model,
        "prompt_id": answer.prompt_id,
        "notes": list(answer.notes),
        "error": answer.error,
    }
    row["language_ok"] = row["language_ok_declared"] and row["language_ok_detected"]
    if q.answerable:
        abstained = row["abstained"]
        row["fact_recall"] = 0.0 if abstained else fact_recall(body, q.gold_facts)
        row["facts_all"] = row["fact_recall"] == 1.0
        row["f1"] = 0.0 if abstained else facts_f1(body, q.gold_facts)
        if abstained or not answer.citations:
            row["cited_gold"] = None
        else:
            cited = " \n ".join(c.passage for c in answer.citations)
            row["cited_gold"] = any(gold.relevant(c.article_id, c.start, c.end) for c in answer.citations) or (
                bool(q.gold_facts) and all(contains_fact(cited, f) for f in q.gold_facts)
            )
        row["correct"] = not abstained and row["facts_all"]
    else:
        row["correct"] = row["abstained"]
    return row


def answer_metrics(rows: list[dict]) -> dict:
    """Aggregate per-question answer rows (each carries ``answerable``, ``kind``, ``language_q``)."""
    errors = [r for r in rows if r.get("error_kind")]
    ok = [r for r in rows if not r.get("error_kind")]
    ans = [r for r in ok if r["answerable"]]
    answered = [r for r in ok if not r["abstained"]]
    sentences = {v: sum(r["sentences"][v] for r in answered) for v in VERDICTS}
    n_sent = sum(sentences.values())
    return {
        "n": len(rows),
        "errors": len(errors),
        "correct": mean(r["correct"] for r in ok),
        "fact_recall": mean(r["fact_recall"] for r in ans),
        "facts_all": mean(r["facts_all"] for r in ans),
        "token_f1": mean(r["f1"] for r in ans),
        "abstention": abstention_metrics((r["answerable"], r["abstained"]) for r in ok),
        "language_match": mean(r["language_ok"] for r in ok),
        "language_match_declared": mean(r["language_ok_declared"] for r in ok),
        "language_match_detected": mean(r["language_ok_detected"] for r in ok),
        "citation_validity": mean(r["citations_valid"] for r in ok),
        "dangling_markers": sum(len(r["dangling"]) for r in ok),
        "sentence_support_rate": sentences["supported"] / n_sent if n_sent else None,
        "sentences": sentences,
        "cited_gold_rate": mean(r.get("cited_gold") for r in ans),
        "context_recall": mean(r["context_hit"] for r in ans),
        "grounded_rate": mean(r["grounded"] for r in answered),
        "abstained_before_model": sum(1 for r in ok if r["abstained"] and not r["model_called"]),
        "first_token_s": timing_stats([r["first_token_s"] for r in ok]),
        "total_s": timing_stats([r["total_s"] for r in ok]),
    }


def answer_breakdown(rows: list[dict], key: str) -> dict:
    """The main answer metrics per value of ``key`` (e.g. per question kind)."""
    groups: dict[str, list[dict]] = {}
    for r in rows:
        groups.setdefault(r[key], []).append(r)
    out = {}
    for name, rs in sorted(groups.items()):
        ok = [r for r in rs if not r.get("error_kind")]
        ans = [r for r in ok if r["answerable"]]
        out[name] = {
            "n": len(rs),
            "correct": mean(r["correct"] for r in ok),
            "fact_recall": mean(r["fact_recall"] for r in ans),
            "token_f1": mean(r["f1"] for r in ans),
            "abstained": mean(r["abstained"] for r in ok),
            "language_match": mean(r["language_ok"] for r in ok),
            "context_recall": mean(r["context_hit"] for r in ans),
            "cited_gold_rate": mean(r.get("cited_gold") for r in ans),
        }
    return out


def _held_out_counts(rows: list[dict]) -> dict:
    held = [r for r in rows if not r["answerable"]]
    ans = [r for r in rows if r["answerable"]]
    return {
        "held_out": len(held),
        "refused": sum(r["abstained"] for r in held),
        "refusal_rate": mean(r["abstained"] for r in held),
        "answerable": len(ans),
        "false_abstentions": sum(r["abstained"] for r in ans),
        "false_abstention_rate": mean(r["abstained"] for r in ans),
        "gold_answers": sum(r["facts_all"] for r in ans),
        "gold_answer_rate": mean(r["facts_all"] for r in ans),
    }


def held_out_metrics(rows: list[dict]) -> dict:
    """The numbers of a held-out run, overall and per question language: held-out questions refused
    (``refused`` of ``held_out``), false abstentions on answerable ones, and answers to answerable
    ones that contain a gold answer (``gold_answers``: every gold fact, in one of its spellings; an
    abstention contains none). Rows with an error are left out (``errors`` counts them)."""
    ok = [r for r in rows if not r.get("error_kind")]
    languages = sorted({r["language_q"] for r in ok})
    return {
        **_held_out_counts(ok),
        "errors": len(rows) - len(ok),
        "by_language": {lang: _held_out_counts([r for r in ok if r["language_q"] == lang]) for lang in languages},
    }


def retrieval_breakdown(rows: list[dict], key: str) -> dict:
    """Ranking metrics per value of ``key`` (e.g. per language pair) from rows with a ``rank``."""
    groups: dict[str, list[int | None]] = {}
    for r in rows:
        groups.setdefault(r[key], []).append(r["rank"])
    return {name: ranking_metrics(ranks) for name, ranks in sorted(groups.items())}


__all__ = ["score_answer", "answer_metrics", "answer_breakdown", "held_out_metrics", "retrieval_breakdown"]
