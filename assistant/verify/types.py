"""The values the verifier passes around: sources, evidence sentences, coded findings, verdicts.

A check never returns prose that later code parses: it returns ``Finding``s with a ``Code``. The
combiner reads the codes as features; notes and the UI turn them into words (``Finding.describe``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from enum import Enum
from typing import Literal

Verdict = Literal["supported", "contradicted", "not_found"]


@dataclass(frozen=True)
class Source:
    """A passage a claim is checked against, with the header the model was shown."""

    text: str
    title: str = ""
    date: str = ""
    whole: str = ""  # the whole article the passage was taken from: what it is about


@dataclass(frozen=True)
class Evidence:
    """A sentence (or clause) of a source: ``sources[source - 1].text[start:end] == text``, or of its
    title when ``in_title``."""

    source: int  # 1-based, the [n] of the passage
    start: int
    end: int
    text: str
    similarity: float
    in_title: bool = False


class Code(str, Enum):
    """What a check found. The first group says the claim cannot be checked at all; the
    ``CONTRADICTING`` ones say the evidence gives something else; the rest that it does not give it."""

    NO_PASSAGE = "no_passage"
    NO_CONTENT = "no_content"
    UNFINISHED = "unfinished"
    FIGURE_DIFFERS = "figure_differs"
    DATE_DIFFERS = "date_differs"
    DATE_MISSING = "date_missing"
    WEEKDAY_DIFFERS = "weekday_differs"
    NAME_MISSING = "name_missing"
    WORD_MISSING = "word_missing"
    POLARITY = "polarity"
    MODALITY = "modality"
    ROLES = "roles"
    QUESTION_NAME_ABSENT = "question_name_absent"
    ASKS_FIGURE = "asks_figure"
    ASKS_UNIT = "asks_unit"
    ASKS_TIME = "asks_time"
    RESTATES_QUESTION = "restates_question"
    JUDGE_NO = "judge_no"
    COMBINED = "combined"  # the combiner's probability is below the threshold, with no single cause


CONTRADICTING = frozenset({Code.FIGURE_DIFFERS, Code.DATE_DIFFERS, Code.WEEKDAY_DIFFERS, Code.POLARITY, Code.ROLES})

@lru_cache(maxsize=1)
def _describe() -> dict[str, str]:
    """Each code in words (``words/codes.json``), for notes and the UI."""
    return json.loads(resources.files(__package__).joinpath("words/codes.json").read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Finding:
    """One thing a check found: its ``code``, the part of the claim it concerns, and the evidence
    span it compared against (empty when the evidence has nothing of the kind)."""

    code: Code
    claim_part: str = ""
    evidence_part: str = ""

    def describe(self) -> str:
        words = _describe()[self.code.value]
        part = f": {self.claim_part}" if self.claim_part else ""
        against = f" ({self.evidence_part})" if self.evidence_part else ""
        return f"{words}{part}{against}"


@dataclass(frozen=True)
class ClaimCheck:
    """The verdict on one claim, the evidence it rests on, what the checks found and the scores."""

    claim: str
    verdict: Verdict
    evidence: tuple[Evidence, ...] = ()
    findings: tuple[Finding, ...] = ()
    similarity: float = 0.0
    entailment: float | None = None
    probability: float | None = None  # the combiner's P(supported)
    scores: dict = field(default_factory=dict, compare=False)

    @property
    def supported(self) -> bool:
        return self.verdict == "supported"

    @property
    def codes(self) -> frozenset[Code]:
        return frozenset(f.code for f in self.findings)

    @property
    def reasons(self) -> tuple[str, ...]:
        """The findings in words, for notes and the UI (never parsed)."""
        return tuple(f.describe() for f in self.findings)
