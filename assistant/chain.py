"""The LangChain (LCEL) answering chain.

    question (+ history) -> standalone question -> retrieval -> context (few, trimmed, numbered
    passages) -> prompt from prompts/ in the question's language -> chat model (streaming)

``prepare`` runs the first four steps; ``generate`` is ``prompt | model | StrOutputParser`` and is
streamed. Checking the model's text (citations, support, language, abstention) happens in
``assistant.Assistant`` on our own types, after the stream ends.
"""

from __future__ import annotations

import re
import time
from dataclasses import replace
from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import RunnableLambda, RunnablePassthrough

from vectorstore.chunker import count_tokens
from vectorstore.language import detect_language
from vectorstore.types import Filters, Hit

from .llm import ChatModel, langchain_chat
from .prompts import Prompt, load_prompt
from .safety import neutralize
from .types import Turn


class StoreRetriever(BaseRetriever):
    """LangChain retriever over our Store. The Hit travels in ``metadata['hit']``."""

    store: Any
    k: int = 5
    filters: Any = None

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        hits = self.store.search(query, k=self.k, filters=self.filters)
        return [
            Document(
                page_content=h.text, id=h.chunk.id,
                metadata={"hit": h, "title": h.title, "date": h.date, "url": h.url, "score": h.score},
            )
            for h in hits
        ]


def _to_template(p: Prompt) -> ChatPromptTemplate:
    """System text and demonstrations are literal (braces escaped); only the [user] part has variables."""

    def lit(t: str) -> str:
        return t.replace("{", "{{").replace("}", "}}")

    messages = [("system", lit(p.system))]
    for u, a in p.examples:
        messages += [("human", lit(u)), ("ai", lit(a))]
    return ChatPromptTemplate.from_messages([*messages, ("human", p.user)])


_SENTENCE = re.compile(r"[^.!?\n]+[.!?]?[\"”“»]?\s*")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    return [m.span() for m in _SENTENCE.finditer(text) if m.group(0).strip()]


def trim_passage(hit: Hit, scores: list[float], max_tokens: int) -> Hit:
    """Keep a contiguous run of the passage's sentences within ``max_tokens``: start at the sentence
    that scores best for the question and grow towards the better-scoring neighbour. ``scores`` has
    one value per ``sentence_spans(hit.text)``. Offsets stay exact, so citations still point into
    the article."""
    text = hit.text
    spans = sentence_spans(text)
    if count_tokens(text) <= max_tokens or len(spans) < 2:
        return hit
    tokens = [count_tokens(text[a:b]) for a, b in spans]
    best = max(range(len(spans)), key=lambda i: scores[i])
    lo = hi = best
    used = tokens[best]
    while True:
        options = [i for i in (lo - 1, hi + 1) if 0 <= i < len(spans) and used + tokens[i] <= max_tokens]
        if not options:
            break
        i = max(options, key=lambda j: scores[j])
        used += tokens[i]
        lo, hi = min(lo, i), max(hi, i)
    s, e = spans[lo][0], spans[hi][1]
    while e > s and text[e - 1].isspace():
        e -= 1
    c = hit.chunk
    return replace(hit, chunk=replace(c, text=text[s:e], start=c.start + s, end=c.start + e))


def format_context(passages: list[Hit]) -> str:
    lines = []
    for i, h in enumerate(passages, 1):
        # Titles are shortened: every prompt token costs time to first token on a small CPU.
        title = h.title if len(h.title) <= 60 else h.title[:57].rsplit(" ", 1)[0] + " …"
        head = title + (f", {h.date}" if h.date else "")
        lines.append(f"[{i}] ({head}) {neutralize(h.text)}")
    return "\n\n".join(lines)


def format_history(history: list[Turn], lang: str) -> str:
    q, a = ("Frage", "Antwort") if lang == "de" else ("Question", "Answer")
    return "\n".join(f"{q}: {t.question}\n{a}: {t.answer}" for t in history)


class AnswerChain:
    """Builds and runs the LCEL pieces for one configuration."""

    def __init__(self, settings, store, llm: ChatModel):
        self.settings = settings
        self.store = store
        self.llm = llm
        a = settings.answering
        self.lc_llm = langchain_chat(llm, max_tokens=settings.llm.max_tokens, temperature=settings.llm.temperature)
        self.lc_condense = langchain_chat(llm, max_tokens=60, temperature=0.0)
        self.prompts = {
            lang: load_prompt(settings.paths.prompts_dir, "answer", lang, a.prompt_variant) for lang in ("de", "en")
        }
        self.condense_prompts = {lang: load_prompt(settings.paths.prompts_dir, "condense", lang) for lang in ("de", "en")}

    # -- step 1: follow-ups become standalone questions ---------------------------------------
    def condense(self, inputs: dict) -> dict:
        history: list[Turn] = inputs.get("history") or []
        lang = inputs["language"]
        if not history:
            return {**inputs, "standalone": inputs["question"]}
        turns = history[-self.settings.answering.history_turns :]
        chain = _to_template(self.condense_prompts[lang]) | self.lc_condense | StrOutputParser()
        t0 = time.perf_counter()
        out = chain.invoke({"history": format_history(turns, lang), "question": inputs["question"]})
        standalone = clean_standalone(out)
        # A small model sometimes echoes the question or answers instead of rewriting; then the
        # previous question plus this one still steers retrieval to the right article.
        if not is_rewrite(standalone, inputs["question"], turns):
            standalone = f"{turns[-1].question} {inputs['question']}"
        return {**inputs, "standalone": standalone, "condense_s": time.perf_counter() - t0}

    # -- step 2+3: retrieval and context -----------------------------------------------------------
    def retrieve(self, inputs: dict) -> dict:
        t0 = time.perf_counter()
        retriever = StoreRetriever(store=self.store, k=inputs.get("k") or self.settings.retrieval.k, filters=inputs.get("filters"))
        docs = retriever.invoke(inputs["standalone"])
        hits: list[Hit] = [d.metadata["hit"] for d in docs]
        return {**inputs, "hits": hits, "retrieval_s": time.perf_counter() - t0}

    def assemble(self, inputs: dict) -> dict:
        a = self.settings.answering
        chosen = inputs["hits"][: a.context_passages]
        scores = self.sentence_scores(inputs["standalone"], chosen, a.passage_max_tokens)
        passages = [trim_passage(h, sc, a.passage_max_tokens) for h, sc in zip(chosen, scores)]
        return {**inputs, "passages": passages, "context": format_context(passages)}

    def sentence_scores(self, question: str, hits: list[Hit], max_tokens: int) -> list[list[float]]:
        """Similarity of each sentence of each (over-long) passage to the question, by the store's
        embedder: it works across languages, where word overlap does not (English question, German
        passage). One batch for all sentences."""
        spans = [sentence_spans(h.text) if count_tokens(h.text) > max_tokens else [] for h in hits]
        texts = [h.text[a:b] for h, sp in zip(hits, spans) for a, b in sp]
        if not texts:
            return [[] for _ in hits]
        emb = self.store.embedder
        q = emb.embed([question], "query")[0]
        sims = (emb.embed(texts, "passage") @ q).tolist()
        out, i = [], 0
        for sp in spans:
            out.append(sims[i : i + len(sp)])
            i += len(sp)
        return out

    @property
    def prepare(self):
        """LCEL: {question, history, language, k, filters} -> {..., standalone, hits, passages, context}."""
        return RunnableLambda(self.condense) | RunnableLambda(self.retrieve) | RunnableLambda(self.assemble)

    def generate(self, language: str):
        """LCEL: {context, question} -> streamed answer text."""
        return _to_template(self.prompts[language]) | self.lc_llm | StrOutputParser()

    @property
    def chain(self):
        """The whole chain for ``invoke``: returns prepare's dict plus ``raw`` (the model's text)."""
        return self.prepare | RunnablePassthrough.assign(
            raw=lambda x: self.generate(x["language"]).invoke({"context": x["context"], "question": x["standalone"]})
        )


_LABEL = re.compile(
    r"^\s*(?:(?:letzte|eigenständige|umformulierte)\s+frage|frage|(?:last|standalone|rewritten)\s+question|question)\s*:\s*",
    re.IGNORECASE,
)


def clean_standalone(text: str) -> str:
    """The first line of the model's rewrite, without labels and quotes."""
    line = text.strip().splitlines()[0].strip() if text.strip() else ""
    while _LABEL.match(line):
        line = _LABEL.sub("", line, count=1)
    return line.strip().strip('"„“”»«').strip()


def is_rewrite(standalone: str, question: str, turns: list[Turn]) -> bool:
    """A usable rewrite is a question, not much longer than needed, that is not just the follow-up
    again: it must bring in at least one word from the conversation."""
    if not standalone or not standalone.endswith("?") or len(standalone) > 3 * len(question) + 200:
        return False
    words = lambda t: {w.lower() for w in re.findall(r"\w{3,}", t)}  # noqa: E731
    new = words(standalone) - words(question)
    context = set().union(*(words(t.question) | words(t.answer) for t in turns))
    return bool(new & context)


def question_language(question: str) -> str:
    return detect_language(question, default="de")


__all__ = ["AnswerChain", "StoreRetriever", "Filters", "question_language", "trim_passage", "format_context"]
