"""The Python API: ``Assistant(settings).ask(question, history) -> Answer`` and ``.stream(...)``.

    >>> from assistant import Assistant
    >>> a = Assistant()                       # embedded defaults: e5-small + Qwen2.5-Coder-1.5B GGUF
    >>> ans = a.ask("Wo traf Trump Putin?")
    >>> ans.text, [c.title for c in ans.citations]

The answer is built only from retrieved passages (``assistant.stages.chain`` has the stages). The model's
``[n]`` markers are resolved to the passages it was shown and each sentence is checked against them
(``assistant.stages.citations``). When retrieval is weak or no claim survives the checks, the answer is the
fixed refusal phrase of the question's language (``types.REFUSAL``).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

from vectorstore import Filters, Hit, Store, open_store
from vectorstore.language import detect_language, language_scores
from vectorstore.store import validate_filters, validate_k, validate_query
from vectorstore.text import parse_markers, split_sentences, strip_markers

from .backends.llamacpp import LlamaCppChat
from .backends.llm import ChatModel, make_chat_model
from .errors import AssistantError, EmptyIndexError, LLMUnavailableError
from .settings import Settings
from .stages.chain import LANGUAGES, AnswerChain
from .stages.citations import sources_of
from .stages.evidence import AnswerStream
from .stages.prompts import load_prompt
from .types import REFUSAL, Answer, Checked, Context, Query, StreamEvent, Turn
from .verify import ClaimCheck, Source, Verifier

LLM_DOWN = {
    "de": "Das Sprachmodell ist nicht erreichbar. Hier sind die gefundenen Passagen.",
    "en": "The language model is unavailable. Here are the passages found.",
}


class Assistant:
    """Answers questions from the indexed articles. Builds what it is not given, lazily."""

    def __init__(self, settings: Settings | None = None, *, store: Store | None = None, llm: ChatModel | None = None):
        self.settings = settings or Settings()
        self._store = store
        self._llm = llm
        self._chain: AnswerChain | None = None

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = open_store(self.settings)
        return self._store

    @property
    def llm(self) -> ChatModel:
        if self._llm is None:
            self._llm = make_chat_model(self.settings)
        return self._llm

    @property
    def chain(self) -> AnswerChain:
        if self._chain is None:
            self._chain = AnswerChain(self.settings, self.store, self.llm)
        return self._chain

    def warm_up(self) -> None:
        """Load the models now (e5 rebuild and GGUF assembly on first use) instead of on the first question."""
        # both sides: questions run on ONNX Runtime, passage sentences (which the verifier embeds)
        # on torch, and each loads on its first use
        self.store.embedder.embed(["warm-up"], "query")
        self.store.embedder.embed(["warm-up"], "passage")
        warm = getattr(self.llm, "warm_up", None)
        if warm:
            warm()
        if isinstance(self.llm, LlamaCppChat):  # a server keeps its own prompt cache, or none
            self.chain.warm_up()

    def describe(self) -> dict:
        """What answers are made with: back end, models, prompt ids, index statistics."""
        s = self.settings
        info = {
            "llm_backend": s.llm.backend,
            "llm_model": getattr(self._llm, "name", None) or s.llm.model,
            "llm_base_url": s.llm.base_url if s.llm.backend == "openai" else None,
            "embedding_model": getattr(self.store.embedder, "name", s.embedding.model),
            "retrieval": s.retrieval.model_dump(),
            "answering": s.answering.model_dump(),
            "prompt_ids": {
                lang: load_prompt("answer", lang, s.answering.prompt_variant, s.answering.prompts_dir).id for lang in LANGUAGES
            },
        }
        try:
            info["index"] = self.store.stats()
        except AssistantError as e:
            info["index"] = {"error": str(e)}
        return info

    def verify(
        self, text: str, passages: list[Source] | None = None, *, language: str | None = None, use_model: bool = True
    ) -> list[ClaimCheck]:
        """One verdict per sentence of ``text`` (supported / contradicted / not_found, with evidence).

        With ``passages``, a sentence's ``[n]`` markers name the passages it is checked against (all of
        them when it has none). Without, each sentence is checked against the passages the index
        finds for it (``retrieval.k``). ``use_model``: also ask the answer model (as answers are checked,
        if ``verify.with_model``)."""
        lang = language or detect_language(text, default="de")
        verifier = self.chain.verifier if use_model else self._plain_verifier()
        out = []
        for sentence in split_sentences(text):
            cited = parse_markers(sentence)
            if passages is not None:
                sources = passages
                numbers = [n for n in cited if 1 <= n <= len(sources)] or None
            else:
                hits = self.store.search(strip_markers(sentence), k=self.settings.retrieval.k)
                sources, numbers = sources_of(hits), None
            out.append(verifier.check(sentence, sources, numbers, language=lang))
        return out

    def _plain_verifier(self) -> Verifier:
        """The verifier without the answer model (for ``verify`` when no model was asked for)."""
        return Verifier(self.store.embedder, self.settings.verify)

    def search(self, query: str, k: int | None = None, filters: Filters | None = None, mode: str | None = None) -> list[Hit]:
        return self.store.search(query, k=k, filters=filters, mode=mode)

    def ask(self, question: str, history: list[Turn] | None = None, *, k: int | None = None, filters: Filters | None = None) -> Answer:
        """Answer one question (see module docstring)."""
        answer = None
        for ev in self.stream(question, history, k=k, filters=filters):
            if ev.kind == "answer":
                answer = ev.answer
        assert answer is not None
        return answer

    def query(self, question: str, history: list[Turn] | None = None, *, k: int | None = None, filters: Filters | None = None) -> Query:
        """The validated question with its language (German or English) and search options."""
        text = validate_query(question, self.settings.answering.max_question_chars)
        if k is not None:
            validate_k(k)
        validate_filters(filters)
        return Query(text, detect_language(text, default="de"), tuple(history or ()), k, filters)

    def stream(
        self, question: str, history: list[Turn] | None = None, *, k: int | None = None, filters: Filters | None = None
    ) -> Iterator[StreamEvent]:
        """Yield a ``passages`` event, ``token`` events while the model writes, a ``checking`` event,
        then one ``answer``."""
        t0 = time.perf_counter()
        query = self.query(question, history, k=k, filters=filters)
        if self.store.catalog.counts()[0] == 0:
            raise EmptyIndexError("the index is empty: add articles with `assistant ingest PATH` (or the Articles tab)")
        context: Context = self.chain.prepare.invoke(query)
        condensed, retrieved = context.retrieved.condensed, context.retrieved
        notes = [condensed.note] if condensed.note else []
        timings = {"retrieval_s": retrieved.seconds}
        if query.history:
            timings["condense_s"] = condensed.seconds
        timings["passages_s"] = time.perf_counter() - t0
        yield StreamEvent("passages", passages=context.passages, best=list(context.best))

        lang = query.language
        base = dict(
            question=query.text, language=lang, passages=context.passages, standalone_question=condensed.search_text,
            model=getattr(self._llm, "name", self.settings.llm.model), prompt_id=self.chain.prompt_id(lang),
        )
        threshold = self.settings.answering.min_relevance
        if not context.passages or retrieved.best_similarity < threshold:
            notes.append(f"retrieval too weak to answer (best similarity {retrieved.best_similarity:.3f} < {threshold})")
            timings["total_s"] = time.perf_counter() - t0
            yield StreamEvent("answer", answer=Answer(
                text=REFUSAL[lang], citations=[], sentences=[], grounded=False, abstained=True, timings=timings, notes=notes, **base
            ))
            return

        decided = self.chain.answer_yes_no(context)
        if decided is not None:
            timings["first_token_s"] = timings["total_s"] = time.perf_counter() - t0
            yield StreamEvent("answer", answer=Answer(
                text=decided.text, citations=decided.citations, sentences=decided.sentences, grounded=True,
                abstained=False, raw_text="", timings=timings, notes=notes + decided.notes, **base
            ))
            return
        raw = ""
        try:
            for attempt in range(2):
                raw = shown = ""
                answer_text = AnswerStream() if self.chain.evidence_first else None
                for piece in self.chain.generate.stream(context, nudge=attempt > 0):
                    raw += piece
                    text = answer_text.feed(piece) if answer_text else raw
                    if text and text != shown:
                        timings.setdefault("first_token_s", time.perf_counter() - t0)
                        shown = text
                        yield StreamEvent("token", text=text)
                _record_prompt(self._llm, timings)
                timings["generated_s"] = time.perf_counter() - t0
                yield StreamEvent("checking", text=shown)
                checked: Checked = self.chain.check(raw, context)
                if checked.abstained or not _wrong_language(checked.text, lang):
                    break
                notes.append(f"the model answered in the wrong language; {'asked again' if attempt == 0 else 'kept the answer'}")
        except LLMUnavailableError as e:
            timings["total_s"] = time.perf_counter() - t0
            yield StreamEvent("answer", answer=Answer(
                text=LLM_DOWN[lang], citations=[], sentences=[], grounded=False, abstained=False, raw_text=raw,
                timings=timings, notes=notes, error=str(e), **base
            ))
            return
        timings["total_s"] = time.perf_counter() - t0
        yield StreamEvent("answer", answer=Answer(
            text=checked.text, citations=checked.citations, sentences=checked.sentences, grounded=checked.grounded,
            abstained=checked.abstained, raw_text=raw, timings=timings, notes=notes + checked.notes, **base
        ))


def _record_prompt(llm, timings: dict[str, float]) -> None:
    """The answer prompt's cost, where the back end reports it (the embedded model does): its tokens,
    the new ones not in the prompt cache, and the seconds they took."""
    stats = getattr(llm, "last_prompt", None)
    if stats is not None:
        timings.update(prompt_tokens=stats.tokens, new_prompt_tokens=stats.new_tokens, prompt_eval_s=stats.seconds)


_QUOTED = re.compile(r"„[^“”]*[“”]|“[^”]*”|\"[^\"]*\"")


def _wrong_language(text: str, lang: str) -> bool:
    """Whether the answer is clearly in the other language (names alone score about 0.6). Quoted
    passage sentences are the article's own words and do not count."""
    text = _QUOTED.sub(" ", text)
    if not text.strip(" .[]0123456789:"):
        return False
    de, en = language_scores(text)
    other, same = (en, de) if lang == "de" else (de, en)
    return other >= 0.8 and other > same
