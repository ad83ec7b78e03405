"""Typed values of the answering side. One question flows through the stages as

    Query -> (condense) -> Condensed -> (retrieve) -> Retrieved -> (build context) -> Context
          -> (generate) -> the model's raw text -> (check) -> Checked -> Answer

and ``Assistant.stream`` yields ``StreamEvent``s on the way."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal

from vectorstore.types import Filters, Hit

REFUSAL = {
    "de": "Dazu steht nichts in den Artikeln.",
    "en": "The articles do not say.",
}


@dataclass(frozen=True)
class Prompt:
    """A loaded prompt file (``stages/prompts.py`` reads them); here so the verifier's judges can take
    one without importing the stages above them."""

    name: str
    system: str
    user: str
    id: str  # "<file stem>@<sha256[:10]>"
    examples: tuple[tuple[str, str], ...] = ()  # (user, assistant) demonstration turns


@dataclass(frozen=True)
class Citation:
    """One ``[n]`` marker of the answer, resolved to the retrieved passage it points at."""

    number: int  # the n of [n] as shown to the user
    chunk_id: str
    article_id: str
    title: str
    date: str
    source: str
    url: str
    passage: str  # the passage text
    start: int  # character offsets of the passage in the article
    end: int
    support_start: int | None = None  # offsets of the supporting words inside ``passage`` (None: not found)
    support_end: int | None = None

    @property
    def support(self) -> str:
        if self.support_start is None or self.support_end is None:
            return ""
        return self.passage[self.support_start : self.support_end]


Verdict = Literal["supported", "contradicted", "not_found"]


@dataclass(frozen=True)
class SentenceCheck:
    """An answer sentence with the citations it carries and the verifier's verdict on it
    (``assistant.verify``): only ``supported`` counts as support."""

    text: str
    citations: tuple[int, ...]
    verdict: Verdict
    missing: tuple[str, ...] = ()  # why it is not supported: names, figures, dates, polarity, similarity
    evidence: tuple[str, ...] = ()  # the passage sentence(s) the verdict was reached on


#: (start, end) character offsets into a passage's text
Span = tuple[int, int]


@dataclass
class Answer:
    """The result of ``Assistant.ask``. ``text`` is what the user sees, with ``[n]`` markers that all
    resolve to ``citations``; ``grounded`` is False for abstentions and answers without supported claims."""

    question: str
    text: str
    language: str
    citations: list[Citation]
    sentences: list[SentenceCheck]
    grounded: bool
    abstained: bool
    passages: list[Hit] = field(default_factory=list)  # the passages the model was shown, numbered from 1
    standalone_question: str = ""
    raw_text: str = ""  # what the model wrote, before checks
    model: str = ""
    prompt_id: str = ""
    # passages_s, retrieval_s, condense_s, first_token_s, generated_s, total_s; prompt_tokens,
    # new_prompt_tokens, prompt_eval_s where the back end reports them
    timings: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # e.g. "dropped dangling marker [7]", "language fixed"
    error: str | None = None  # set when the LLM failed; passages are still given

    def to_dict(self) -> dict:
        d = asdict(self)
        d["passages"] = [
            {"chunk_id": h.chunk.id, "title": h.title, "date": h.date, "url": h.url, "text": h.text, "score": h.score}
            for h in self.passages
        ]
        return d


@dataclass(frozen=True)
class StreamEvent:
    """What ``Assistant.stream`` yields: ``passages`` once found, ``token`` events while the model
    writes (``text`` is the text so far), ``checking`` when the verifier starts on the finished text,
    then exactly one ``answer`` event with the checked ``Answer``."""

    kind: Literal["passages", "token", "checking", "answer"]
    text: str = ""
    answer: Answer | None = None
    passages: list[Hit] | None = None
    best: list[Span | None] | None = None  # with ``passages``: each one's sentence closest to the question


@dataclass(frozen=True)
class Turn:
    """One earlier exchange of a conversation."""

    question: str
    answer: str
    # the articles its answer cited: the conversation's state, a soft boost for searching a follow-up
    articles: tuple[str, ...] = ()

    @classmethod
    def of(cls, question: str, answer: Answer) -> Turn:
        """The turn of an answered question, with the articles its answer cited."""
        return cls(question, answer.text, tuple(dict.fromkeys(c.article_id for c in answer.citations)))


@dataclass(frozen=True)
class Query:
    """A validated question with what it is asked in: language, earlier turns, search options."""

    text: str
    language: str
    history: tuple[Turn, ...] = ()
    k: int | None = None
    filters: Filters | None = None


@dataclass(frozen=True)
class Condensed:
    """The question as it will be searched: a follow-up rewritten to stand alone."""

    query: Query
    search_text: str
    seconds: float = 0.0  # time spent rewriting (0 for a first question)
    note: str | None = None  # why the rewrite fell back, if it did
    follow_up: bool = False  # it needed the conversation (``condense.is_follow_up``)


@dataclass(frozen=True)
class Retrieved:
    """The passages the store found for the condensed question."""

    condensed: Condensed
    hits: list[Hit]
    seconds: float = 0.0

    @property
    def best_similarity(self) -> float:
        """The best dense similarity among the hits (the abstention threshold reads it)."""
        return max((h.dense_score for h in self.hits if h.dense_score is not None), default=0.0)


@dataclass(frozen=True)
class EvidenceSentence:
    """One sentence of a shown passage, as an evidence-first prompt shows it: ``id`` is
    ``"<passage>.<sentence>"`` (``"1.2"``: the second sentence of passage [1])."""

    id: str
    passage: int  # the n of [n]
    text: str


@dataclass(frozen=True)
class Context:
    """The few trimmed, numbered passages the model is shown, and their prompt text. ``sentences``
    is set when the prompt shows them one by one with ids (evidence-first answers)."""

    retrieved: Retrieved
    passages: list[Hit]
    text: str
    sentences: tuple[EvidenceSentence, ...] = ()
    best: tuple[Span | None, ...] = ()  # per passage, (start, end) in its text of the sentence closest to the question


@dataclass(frozen=True)
class EvidenceReply:
    """An evidence-first reply as data: the sentences the model chose, then its answer.
    ``well_formed`` is False when the reply was not the JSON asked for (``answer`` is then the
    whole text, checked like any other)."""

    evidence: tuple[EvidenceSentence, ...]
    answer: str
    well_formed: bool = True

    @property
    def abstains(self) -> bool:
        """The model chose no sentence: the articles do not answer the question."""
        return self.well_formed and not self.evidence


@dataclass(frozen=True)
class Checked:
    """The model's text after the citation check: what the user may see, with its evidence."""

    text: str
    citations: list[Citation]
    sentences: list[SentenceCheck]
    grounded: bool
    abstained: bool
    notes: list[str]
