"""The Python API: ``Assistant(settings).ask(question, history) -> Answer`` and ``.stream(...)``.

    >>> from assistant import Assistant
    >>> a = Assistant()                       # embedded defaults: e5-small + Qwen2.5-Coder-1.5B GGUF
    >>> ans = a.ask("Wo traf Trump Putin?")
    >>> ans.text, [c.title for c in ans.citations]

The answer is built only from retrieved passages. The model's ``[n]`` markers are resolved to the
passages it was shown and each sentence is checked against them (``assistant.citations``). When
retrieval is weak or no claim survives the checks, the answer is the fixed refusal phrase of the
question's language (``types.REFUSAL``).
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from vectorstore import Filters, Hit, Store, open_store
from vectorstore.language import language_scores
from vectorstore.store import validate_filters, validate_query

from .chain import AnswerChain, question_language
from .citations import check_answer
from .errors import AssistantError, LLMUnavailableError
from .llm import ChatModel, make_chat_model
from .settings import Settings
from .types import REFUSAL, Answer, StreamEvent, Turn

_LANG_NUDGE = {"de": " (Antworte auf Deutsch.)", "en": " (Answer in English.)"}


class EmptyIndexError(AssistantError):
    pass


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
        self.store.embedder.embed(["warm-up"], "query")
        warm = getattr(self.llm, "warm_up", None)
        if warm:
            warm()
        _ = self.chain

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
            "prompt_ids": {lang: p.id for lang, p in self.chain.prompts.items()} if self._chain else {},
        }
        try:
            info["index"] = self.store.stats()
        except AssistantError as e:
            info["index"] = {"error": str(e)}
        return info

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

    def stream(
        self, question: str, history: list[Turn] | None = None, *, k: int | None = None, filters: Filters | None = None
    ) -> Iterator[StreamEvent]:
        """Yield a ``passages`` event, ``token`` events while the model writes, then one ``answer``."""
        t0 = time.perf_counter()
        s = self.settings
        q = validate_query(question, s.answering.max_question_chars)
        if k is not None and (not isinstance(k, int) or not 1 <= k <= 50):
            from .errors import QuestionError

            raise QuestionError(f"k must be between 1 and 50, got {k!r}")
        validate_filters(filters)
        lang = question_language(q)
        if self.store.catalog.counts()[0] == 0:
            raise EmptyIndexError("the index is empty: add articles with `assistant ingest PATH` (or the Articles tab)")
        history = list(history or [])
        inputs = {"question": q, "history": history, "language": lang, "k": k, "filters": filters}
        notes: list[str] = []
        try:
            prepared = self.chain.prepare.invoke(inputs)
        except LLMUnavailableError as e:
            # Condensing a follow-up needs the model; retrieval still works without it.
            notes.append(f"could not rewrite the follow-up: {e}")
            fallback = f"{history[-1].question} {q}" if history else q
            prepared = self.chain.assemble(self.chain.retrieve({**inputs, "standalone": fallback}))
        passages: list[Hit] = prepared["passages"]
        timings = {"retrieval_s": prepared.get("retrieval_s", 0.0)}
        if "condense_s" in prepared:
            timings["condense_s"] = prepared["condense_s"]
        yield StreamEvent("passages", passages=passages)

        best = max((h.dense_score for h in prepared["hits"] if h.dense_score is not None), default=0.0)
        base = dict(
            question=q, language=lang, passages=passages, standalone_question=prepared["standalone"],
            model=getattr(self._llm, "name", s.llm.model), prompt_id=self.chain.prompts[lang].id,
        )
        if not passages or best < s.answering.min_relevance:
            notes.append(f"retrieval too weak to answer (best similarity {best:.3f} < {s.answering.min_relevance})")
            timings["total_s"] = time.perf_counter() - t0
            yield StreamEvent("answer", answer=Answer(
                text=REFUSAL[lang], citations=[], sentences=[], grounded=False, abstained=True, timings=timings, notes=notes, **base
            ))
            return

        raw = ""
        try:
            for attempt in range(2):
                raw = ""
                question_text = prepared["standalone"] + (_LANG_NUDGE[lang] if attempt else "")
                for piece in self.chain.generate(lang).stream({"context": prepared["context"], "question": question_text}):
                    if not raw:
                        timings.setdefault("first_token_s", time.perf_counter() - t0)
                    raw += piece
                    yield StreamEvent("token", text=raw)
                checked = check_answer(raw, passages, lang)
                if checked.abstained or not _wrong_language(checked.text, lang):
                    break
                notes.append(f"the model answered in the wrong language; {'asked again' if attempt == 0 else 'kept the answer'}")
        except LLMUnavailableError as e:
            timings["total_s"] = time.perf_counter() - t0
            msg = {"de": "Das Sprachmodell ist nicht erreichbar. Hier sind die gefundenen Passagen.", "en": "The language model is unavailable. Here are the passages found."}[lang]
            yield StreamEvent("answer", answer=Answer(
                text=msg, citations=[], sentences=[], grounded=False, abstained=False, raw_text=raw,
                timings=timings, notes=notes, error=str(e), **base
            ))
            return
        timings["total_s"] = time.perf_counter() - t0
        yield StreamEvent("answer", answer=Answer(
            text=checked.text, citations=checked.citations, sentences=checked.sentences, grounded=checked.grounded,
            abstained=checked.abstained, raw_text=raw, timings=timings, notes=notes + checked.notes, **base
        ))


def _wrong_language(text: str, lang: str) -> bool:
    de, en = language_scores(text)
    other, same = (en, de) if lang == "de" else (de, en)
    return other >= 2 and other > same
