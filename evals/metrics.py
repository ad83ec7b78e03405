"""The evaluation's measures as pure functions: gold-fact containment, token F1, ranking metrics,
abstention precision/recall, dangling citation markers, percentiles.

    >>> contains_fact("im Weissen Haus [1]", ["Weißen Haus"])
    True
    >>> dangling_markers("Starmer kam [1]. Macron auch [7].", n_passages=3)
    [7]
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from vectorstore.text import fold, parse_markers, strip_markers

KS = (1, 5, 10)
CURVE_K = 10
# Articles are dropped before token F1 (SQuAD does this for English; we do it for both languages).
_ARTICLES = {"a", "an", "the", "der", "die", "das", "den", "dem", "des", "ein", "eine", "einen", "einem", "einer", "eines"}


def dangling_markers(raw_text: str, n_passages: int) -> list[int]:
    """Citation numbers the model wrote that point at no passage it was shown (sorted, unique).

    Measured on the model's raw text: the checked text the user sees has these removed already.
    """
    return sorted({n for n in parse_markers(raw_text) if n < 1 or n > n_passages})


def normalize(text: str) -> str:
    """Folded words separated by single spaces; markers and punctuation are gone."""
    return " ".join(re.findall(r"\w+", fold(strip_markers(text))))


def contains_fact(text: str, alternatives: Sequence[str] | str) -> bool:
    """True when ``text`` contains one of the alternatives, starting at a word boundary (so
    'Patriot' matches 'Patriots', 'indirect' matches 'indirectly', but 'Merz' not 'Kommerz')."""
    alts = [alternatives] if isinstance(alternatives, str) else alternatives
    hay = " " + normalize(text)
    return any((" " + normalize(a)) in hay for a in alts if normalize(a))


def fact_recall(text: str, facts: Sequence[Sequence[str]]) -> float | None:
    """Share of the gold facts that ``text`` contains (None when there are no facts)."""
    if not facts:
        return None
    return sum(contains_fact(text, f) for f in facts) / len(facts)


def _tokens(text: str) -> list[str]:
    return [t for t in normalize(text).split() if t not in _ARTICLES]


def token_f1(prediction: str, reference: str) -> float:
    """SQuAD-style token F1 of ``prediction`` against ``reference`` (after ``normalize``)."""
    pred, ref = _tokens(prediction), _tokens(reference)
    if not pred or not ref:
        return float(pred == ref)
    common: dict[str, int] = {}
    ref_counts: dict[str, int] = {}
    for t in ref:
        ref_counts[t] = ref_counts.get(t, 0) + 1
    for t in pred:
        if ref_counts.get(t, 0) > common.get(t, 0):
            common[t] = common.get(t, 0) + 1
    same = sum(common.values())
    if same == 0:
        return 0.0
    p, r = same / len(pred), same / len(ref)
    return 2 * p * r / (p + r)


def facts_f1(text: str, facts: Sequence[Sequence[str]]) -> float | None:
    """Token F1 against the facts: per fact the best alternative, averaged over facts."""
    if not facts:
        return None
    return sum(max(token_f1(text, a) for a in f) for f in facts) / len(facts)


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0..100) with linear interpolation between ranks (numpy's default)."""
    vals = sorted(v for v in values if v is not None)
    if not vals:
        return None
    if not 0 <= q <= 100:
        raise ValueError(f"q must be between 0 and 100, got {q}")
    pos = (len(vals) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(vals) - 1)
    return vals[lo] + (vals[hi] - vals[lo]) * (pos - lo)


def timing_stats(values: Sequence[float | None]) -> dict:
    """n, p50, p95 and mean of the values that are there."""
    vals = [v for v in values if v is not None]
    return {
        "n": len(vals), "p50": percentile(vals, 50), "p95": percentile(vals, 95),
        "mean": sum(vals) / len(vals) if vals else None,
    }


def ranking_metrics(ranks: Sequence[int | None], ks: Sequence[int] = KS, curve_k: int = CURVE_K) -> dict:
    """recall@k, MRR and the recall curve from the 1-based rank of the first relevant hit of each
    query (None: none in the results). MRR counts ranks beyond ``curve_k`` as misses."""
    n = len(ranks)
    out: dict = {"n": n}
    if n == 0:
        out.update({f"recall@{k}": None for k in ks})
        out.update({"mrr": None, "curve": []})
        return out
    for k in ks:
        out[f"recall@{k}"] = sum(1 for r in ranks if r is not None and r <= k) / n
    out["mrr"] = sum(1.0 / r for r in ranks if r is not None and r <= curve_k) / n
    out["curve"] = [sum(1 for r in ranks if r is not None and r <= k) / n for k in range(1, curve_k + 1)]
    return out


def abstention_metrics(pairs: Iterable[tuple[bool, bool]]) -> dict:
    """Precision and recall of abstaining, unanswerable questions being the positives.
    ``pairs`` are (answerable, abstained) per question."""
    tp = fp = fn = tn = 0
    for answerable, abstained in pairs:
        if abstained and not answerable:
            tp += 1
        elif abstained:
            fp += 1
        elif not answerable:
            fn += 1
        else:
            tn += 1
    return {
        "precision": tp / (tp + fp) if tp + fp else None,
        "recall": tp / (tp + fn) if tp + fn else None,
        "false_abstention_rate": fp / (fp + tn) if fp + tn else None,
        "tp": tp, "fp": fp, "fn": fn, "tn": tn,
    }


def mean(values: Iterable[float | bool | None]) -> float | None:
    """The mean of the values that are there (None when none is)."""
    vals = [float(v) for v in values if v is not None]
    return sum(vals) / len(vals) if vals else None


__all__ = [
    "KS", "CURVE_K", "abstention_metrics", "contains_fact", "dangling_markers", "fact_recall", "facts_f1", "mean",
    "normalize", "percentile", "ranking_metrics", "timing_stats", "token_f1",
]
