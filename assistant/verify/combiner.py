"""The learned combination: one calibrated logistic model over the findings and the scores.

Its weights are data (``combiner.json``), fitted by ``python -m evals.combiner`` on the dev half of the
synthetic verifier corpus (``evals/sets/verifier-corpus.jsonl``) and of the checker set; that script
rebuilds the file.
Two fits share the features: ``judge``, with the answer model's P(yes), and ``plain``, without it (the
bundled 0.5B model is not asked; its judgement was measured to be no better than chance).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from .types import Code, Finding

#: the finding codes the combiner reads, each as 0/1
FEATURE_CODES = (
    Code.FIGURE_DIFFERS, Code.DATE_DIFFERS, Code.DATE_MISSING, Code.WEEKDAY_DIFFERS, Code.NAME_MISSING,
    Code.WORD_MISSING, Code.POLARITY, Code.MODALITY, Code.ROLES,
)
SCORES = ("sim_e5", "sim_use", "coverage", "crosslingual", "order", "judge")
#: the similarities again, for cross-lingual claims only: across languages they run lower and word
#: coverage reads nothing, so the fit needs its own slope there (dev: false-reject 0.40 -> 0.33 at 0.10)
CROSSLINGUAL = ("sim_e5", "sim_use")
FEATURES = SCORES + tuple(f"{s}_crosslingual" for s in CROSSLINGUAL) + tuple(f"code_{c.value}" for c in FEATURE_CODES)


def features(scores: dict[str, float], findings: tuple[Finding, ...]) -> list[float]:
    """The feature vector, in ``FEATURES`` order (a missing judge reads 0.5)."""
    codes = {f.code for f in findings}
    values = [float(scores.get(s, 0.5 if s == "judge" else 0.0)) for s in SCORES]
    cross = float(scores.get("crosslingual", 0.0))
    return values + [cross * float(scores.get(s, 0.0)) for s in CROSSLINGUAL] + [1.0 if c in codes else 0.0 for c in FEATURE_CODES]


@dataclass(frozen=True)
class Model:
    """One fitted logistic model: P(supported) = sigmoid(coef · x + intercept)."""

    coef: tuple[float, ...]
    intercept: float
    threshold: float

    def probability(self, x: list[float]) -> float:
        z = self.intercept + sum(w * v for w, v in zip(self.coef, x))
        return 1.0 / (1.0 + math.exp(-max(min(z, 50.0), -50.0)))


@dataclass(frozen=True)
class Combiner:
    plain: Model
    judge: Model
    meta: dict

    @classmethod
    def from_dict(cls, data: dict) -> Combiner:
        if tuple(data["features"]) != FEATURES:
            raise ValueError(f"combiner weights were fitted on other features: {data['features']}")
        return cls(Model(**_model(data["plain"])), Model(**_model(data["judge"])), data.get("meta", {}))


def _model(d: dict) -> dict:
    return {"coef": tuple(d["coef"]), "intercept": float(d["intercept"]), "threshold": float(d["threshold"])}


WEIGHTS = "combiner.json"


@lru_cache(maxsize=4)
def load_combiner(path: str | None = None) -> Combiner:
    """The shipped weights, or those in ``path``."""
    text = Path(path).read_text(encoding="utf-8") if path else resources.files(__package__).joinpath(WEIGHTS).read_text(encoding="utf-8")
    return Combiner.from_dict(json.loads(text))
