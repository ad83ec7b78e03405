"""The verifier: does a passage state a claim? Each claim gets a verdict, ``supported``,
``contradicted`` or ``not_found``, with the evidence sentences it rests on and coded findings.

No entailment model ships in any package this product may use, so the verdict is learned:

1. **Align** (``align.py``): the claim's e5 vector against every sentence, clause and headline of
   the passages it cites; the best candidate and its close neighbour are the evidence.
2. **Check** (``checks.py``): small checks compare claim and evidence (figures, dates, weekdays,
   names, polarity, direction, modality, quotations, roles, the question's names) and return
   ``Finding``s with a ``Code``.
3. **Combine** (``combiner.py``): one logistic model, fitted on synthetic hard negatives of articles
   the product never ships, turns the findings and the scores (e5 and USE similarity, word coverage,
   the answer model's P(yes) where it is asked) into P(supported).

Not supported with a contradicting finding (another figure, date or weekday, a negation, the other
direction, swapped roles) is ``contradicted``; otherwise ``not_found``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from vectorstore.embedder import Embedder
from vectorstore.language import detect_language
from vectorstore.text import STOPWORDS, WORD, content_words, date_mentions, numbers_outside_dates, strip_markers

from ..settings import Verify
from .align import Aligner, overlaps, sentence_of
from .checks import Pair, coverage, order_discordance, run_checks
from .combiner import Combiner, features, load_combiner
from .judges import AnswerJudge, ModelJudge, PromptJudge
from .types import CONTRADICTING, ClaimCheck, Code, Evidence, Finding, Source, Verdict

__all__ = [
    "AnswerJudge", "ClaimCheck", "Code", "Evidence", "Finding", "ModelJudge", "PromptJudge", "Source", "Verdict",
    "Verifier",
]

#: P(yes) of "does the passage state the claim?" from a model, or None when it cannot tell.
Entailment = Callable[[str, str], float | None]

#: A claim of at most this many words is a fragment ("Keir Starmer."), aligned with its question.
FRAGMENT_WORDS = 4
_NO_CONTENT = {"yes", "no", "ja", "nein", "doch", "stimmt", "richtig", "correct", "true", "right", "indeed",
               "tatsächlich", "fall", "case", "did", "does", "tat", "genau", "exactly", "so"}


def _states_something(text: str) -> bool:
    words = [w for w in content_words(text, min_len=3) if w.lower() not in _NO_CONTENT]
    return bool(words or numbers_outside_dates(text) or date_mentions(text))


def _unfinished(text: str) -> bool:
    return text.rstrip(" .!?").endswith(("…", "..."))


class Verifier:
    """Checks claims against sources. ``embedder`` is the store's: of a fused one (e5 + USE) e5
    aligns and USE adds its similarity and reads names across languages."""

    def __init__(self, embedder: Embedder, settings: Verify | None = None, *,
                 entailment: Entailment | None = None, answer_judge: AnswerJudge | None = None,
                 combiner: Combiner | None = None):
        self.settings = settings or Verify()
        self.embedder = getattr(embedder, "first", embedder)
        second = getattr(embedder, "second", None)
        self.use = second if getattr(second, "name", "").startswith("use") else None
        self.entailment = entailment
        self.answer_judge = answer_judge
        self.combiner = combiner or load_combiner(str(self.settings.weights) if self.settings.weights else None)
        self.aligner = Aligner(self.embedder, self.settings.neighbour_margin)
        self._words: dict[str, object] = {}  # text -> USE vectors of its words (``translated``)

    @property
    def min_answer(self) -> float:
        return self.settings.min_answers_question

    def _model(self):
        return self.combiner.judge if self.entailment is not None else self.combiner.plain

    def threshold(self) -> float:
        return self.settings.threshold if self.settings.threshold is not None else self._model().threshold

    def translated(self, names: Sequence[str], text: str) -> bool:
        """Whether ``text`` has one of ``names`` in another language, by USE (trained on translation
        pairs); False without it. A text's word vectors are computed once."""
        if self.use is None or not names:
            return False
        if text not in self._words:
            words = list(dict.fromkeys(w for w in WORD.findall(text) if len(w) >= 3 and w.lower() not in STOPWORDS))[:400]
            if len(self._words) > 64:
                self._words.clear()
            self._words[text] = self.use.embed(words, "passage") if words else None
        vectors = self._words[text]
        if vectors is None:
            return False
        return bool((self.use.embed(list(names), "passage") @ vectors.T).max() >= self.settings.translation_similarity)

    def check(self, claim: str, sources: Sequence[Source], cited: Sequence[int] | None = None, *,
              language: str | None = None, question: str = "") -> ClaimCheck:
        """The verdict on ``claim`` (markers are ignored) against ``sources`` (the 1-based ``cited``
        ones only, when given)."""
        text = strip_markers(claim)
        got = self._prepare(text, sources, cited, language, question)
        if isinstance(got, Code):
            return ClaimCheck(text, "not_found", findings=(Finding(got),))
        return self._decide(text, got, question)

    def features(self, claim: str, sources: Sequence[Source], *, language: str | None = None,
                 question: str = "") -> tuple[list[float], tuple[Finding, ...], str] | None:
        """The combiner's input for a claim against ``sources`` (for training), and the evidence text
        the judge would read; None when a gate stops the claim."""
        got = self._prepare(strip_markers(claim), sources, None, language, question)
        if isinstance(got, Code):
            return None
        evidence, findings, scores, pair = got
        return features(scores, findings), findings, pair.evidence

    def _prepare(self, text, sources, cited, language, question):
        """A gate's code, or the chosen candidate (evidence, findings, scores, pair)."""
        numbered = [(i, s) for i, s in enumerate(sources, 1) if cited is None or i in cited]
        gate = (Code.NO_PASSAGE if not numbered else Code.NO_CONTENT if not _states_something(text)
                else Code.UNFINISHED if _unfinished(text) else None)
        if gate:
            return gate
        fragment = bool(question) and len(WORD.findall(text)) <= FRAGMENT_WORDS
        ranked = self.aligner.rank(f"{question} {text}" if fragment else text, numbered)
        return self._choose(text, ranked, sources, question, fragment, language)

    def _choose(self, text, ranked, sources, question, fragment, language) -> tuple:
        """Of the best candidate and the next ones within the margin (not clauses of a sentence
        already tried), the one with the fewest findings: of two near-equal sentences, the one with
        the claim's figure."""
        s = self.settings
        tried: list[Evidence] = []
        best = None
        for e in ranked[: 1 + 3 * s.alternatives]:
            if tried and (e.similarity < ranked[0].similarity - s.alternative_margin or len(tried) > s.alternatives):
                break
            if any(overlaps(e, t) for t in tried):
                continue
            tried.append(e)
            got = self._candidate(text, e, ranked, sources, question, fragment, language)
            if best is None or len(got[1]) < len(best[1]):
                best = got
        return best

    def _candidate(self, text, best, ranked, sources, question, fragment, language) -> tuple:
        src = sources[best.source - 1]
        whole_text = src.title if best.in_title else src.text
        evidence = self.aligner.window(best, ranked, whole_text)
        evidence_text = " ".join(e.text for e in evidence)
        claim_language = language or detect_language(text)
        passage_language = detect_language(src.text)
        pair = Pair(
            claim=text, evidence=evidence_text, sentence=sentence_of(best, ranked).text, passage=f"{src.text} {src.title}",
            date=src.date, whole=src.whole,
            question=question, claim_language=claim_language, passage_language=passage_language,
            translated=self.translated,
        )
        findings = run_checks(pair)
        fixed = self.settings.fixed_similarity
        scores = {
            "sim_e5": best.similarity if fixed is None else fixed,
            "sim_use": self._use_similarity(text, evidence_text, best.similarity) if fixed is None else fixed,
            "crosslingual": float(pair.crosslingual),
            "coverage": 0.0 if pair.crosslingual else coverage(text, pair.passage, passage_language),
            "in_title": float(best.in_title), "fragment": float(fragment), "order": order_discordance(pair),
        }
        return evidence, findings, scores, pair

    def _use_similarity(self, a: str, b: str, fallback: float) -> float:
        if self.use is None:
            return fallback
        va, vb = self.use.embed([a, b], "passage")
        return float(va @ vb)

    def _decide(self, text: str, candidate: tuple, question: str) -> ClaimCheck:
        evidence, findings, scores, pair = candidate
        fragment = bool(scores["fragment"])
        p = self.combiner.plain.probability(features(scores, findings))
        entail = None
        if self.entailment is not None and p >= self.settings.judge_floor:
            entail = self.entailment(pair.evidence, f"{question} — {text}" if fragment else text)
            if entail is not None:
                scores = {**scores, "judge": entail}
                p = self.combiner.judge.probability(features(scores, findings))
        supported = p >= self.threshold()
        verdict: Verdict = "supported"
        if not supported:
            verdict = "contradicted" if any(f.code in CONTRADICTING for f in findings) else "not_found"
            if not findings:
                findings = (Finding(Code.JUDGE_NO if entail is not None and entail < 0.5 else Code.COMBINED),)
        return ClaimCheck(text, verdict, evidence, findings, evidence[0].similarity if evidence else 0.0, entail, p, scores)
