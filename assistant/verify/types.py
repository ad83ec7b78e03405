"""The values the verifier passes around: sources, evidence sentences, coded findings, verdicts.

A check never returns prose that later code parses: it returns ``Finding``s with a ``Code``. The
combiner reads the codes as features; notes and the UI turn them into words (``Finding.describe``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
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
    FIGURE_MISSING = "figure_missing"
    DATE_DIFFERS = "date_differs"
    DATE_MISSING = "date_missing"
    WEEKDAY_DIFFERS = "weekday_differs"
    NAME_MISSING = "name_missing"
    NAME_ELSEWHERE = "name_elsewhere"
    WORD_MISSING = "word_missing"
    POLARITY = "polarity"
    DIRECTION = "direction"
    MODALITY = "modality"
    QUOTE = "quote"
    ROLES = "roles"
    QUESTION_NAME_ABSENT = "question_name_absent"
    ASKS_FIGURE = "asks_figure"
    ASKS_UNIT = "asks_unit"
    ASKS_TIME = "asks_time"
    RESTATES_QUESTION = "restates_question"
    LOW_SIMILARITY = "low_similarity"
    LOW_COVERAGE = "low_coverage"
    JUDGE_NO = "judge_no"
    COMBINED = "combined"  # the combiner's probability is below the threshold, with no single cause


GATES = frozenset({Code.NO_PASSAGE, Code.NO_CONTENT, Code.UNFINISHED})
CONTRADICTING = frozenset({Code.FIGURE_DIFFERS, Code.DATE_DIFFERS, Code.WEEKDAY_DIFFERS, Code.POLARITY,
                           Code.DIRECTION, Code.ROLES})

_WORDS = {
    Code.NO_PASSAGE: "no passage to check against",
    Code.NO_CONTENT: "the sentence states nothing to check",
    Code.UNFINISHED: "the sentence breaks off",
    Code.FIGURE_DIFFERS: "the figure differs from the evidence's",
    Code.FIGURE_MISSING: "the figure is not in the evidence",
    Code.DATE_DIFFERS: "the date differs from the evidence's",
    Code.DATE_MISSING: "the date is not in the evidence",
    Code.WEEKDAY_DIFFERS: "the weekday differs from the evidence's",
    Code.NAME_MISSING: "not in the passage",
    Code.NAME_ELSEWHERE: "the passage names it elsewhere, not in the evidence",
    Code.WORD_MISSING: "a noun the passage does not have",
    Code.POLARITY: "the claim and the evidence disagree in polarity (a negation)",
    Code.DIRECTION: "the evidence says the quantity goes the other way",
    Code.MODALITY: "the evidence says only that this may be so",
    Code.QUOTE: "the quotation is not the passage's words",
    Code.ROLES: "the names stand in other roles in the evidence",
    Code.QUESTION_NAME_ABSENT: "the passage does not name what the question asks about",
    Code.ASKS_FIGURE: "the question asks for a figure and the answer gives none",
    Code.ASKS_UNIT: "the question asks for an amount in a unit the answer does not give",
    Code.ASKS_TIME: "the question asks when and the answer gives no time",
    Code.RESTATES_QUESTION: "the answer only says the question back",
    Code.LOW_SIMILARITY: "no sentence of the passage says this",
    Code.LOW_COVERAGE: "most of its words are not in the passage",
    Code.JUDGE_NO: "the model does not read the claim in the evidence",
    Code.COMBINED: "the evidence as a whole does not state it",
}


@dataclass(frozen=True)
class Finding:
    """One thing a check found: its ``code``, the part of the claim it concerns, and the evidence
    span it compared against (empty when the evidence has nothing of the kind)."""

    code: Code
    claim_part: str = ""
    evidence_part: str = ""

    def describe(self) -> str:
        words = _WORDS[self.code]
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
