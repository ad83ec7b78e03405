"""Stage 1, condense: a follow-up question becomes a question that stands alone for retrieval.

First it is decided whether the question is a follow-up at all (``is_follow_up``): a question that
names its own subject and points back at nothing ("Wie hoch ist die Arbeitslosenquote in
Deutschland?") is searched as it is, never merged with the one before. The rewrite is asked of the chat model with ``prompts/condense.<lang>.txt``. When the model cannot be
reached, or echoes or answers instead of rewriting, the one fallback applies: the previous question
followed by this one, which still steers retrieval to the right article. The model is asked that
too: asked the follow-up alone, over the same passages, it answered 2 of 19 conversation follow-ups
right against 6 of 19 (``evals/results/…-conversations-s12``), mostly refusing or writing claims too
short to align with their evidence.
"""

from __future__ import annotations

import re
import time

from langchain_core.output_parsers import StrOutputParser
from langchain_core.runnables import Runnable

from vectorstore.language import detect_language
from vectorstore.text import STOPWORDS, WORD, content_words, fold, names

from ..errors import LLMUnavailableError
from ..types import Condensed, Prompt, Query, Turn

CONDENSE_MAX_TOKENS = 60


def fallback_query(question: str, history: tuple[Turn, ...] | list[Turn]) -> str:
    """What a follow-up is searched as when no rewrite can be had: the previous question, then it."""
    return f"{history[-1].question} {question}" if history else question


def format_history(history: tuple[Turn, ...] | list[Turn], lang: str) -> str:
    q, a = ("Frage", "Antwort") if lang == "de" else ("Question", "Answer")
    return "\n".join(f"{q}: {t.question}\n{a}: {t.answer}" for t in history)


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


def is_rewrite(standalone: str, question: str, turns: tuple[Turn, ...] | list[Turn]) -> bool:
    """A usable rewrite is a question, not much longer than needed, that is not just the follow-up
    again: it must bring in at least one word from the conversation (any new word, when the
    conversation so far was in the other language: "Who represented Italy in the White House?" after
    "Wer nahm an den Gesprächen im Weißen Haus teil?"), and keep every name the follow-up asks about
    ("Und wer war aus Finnland dabei?" must still be about Finland)."""
    if not standalone or not standalone.endswith("?") or len(standalone) > 3 * len(question) + 200:
        return False
    kept = fold(standalone)
    if any(fold(n)[:5] not in kept for n in names(question)):
        return False

    def words(t: str) -> set[str]:
        return {w.lower() for w in WORD.findall(t) if len(w) >= 3}

    new = words(standalone) - words(question) - STOPWORDS
    if turns and all(detect_language(t.question) != detect_language(question) for t in turns):
        return bool(new)
    context = set().union(*(words(t.question) | words(t.answer) for t in turns))
    return bool(new & context)


# Words that point back into the conversation: pronouns, demonstratives, pronominal adverbs.
_BACK_REFERENCES = frozenset(
    """er sie ihn ihm ihr ihnen sein seine seinen seinem seiner seines ihre ihren ihrem ihrer ihres
    dieser diese dieses diesen diesem dort dabei dazu damit darüber davon daran darauf dafür dagegen
    danach davor derselbe dieselbe dasselbe jener jene jenes ebenfalls
    he she it him her his hers its they them their theirs this these those""".split()
)
_ELLIPSIS = re.compile(r"^\s*(?:und|and|aber|but|what about|und was ist mit|wie ist es mit|how about)\b", re.IGNORECASE)


def is_follow_up(question: str, history: tuple[Turn, ...] | list[Turn]) -> bool:
    """Whether the question needs the conversation to be understood: it points back ("Und was
    sagte Selenskyj dazu?", "Who attended it?"), or it is a fragment ("Und Finnland?")."""
    if not history:
        return False
    words = [w.lower() for w in WORD.findall(question)]
    if any(w in _BACK_REFERENCES for w in words):
        return True
    content = content_words(question, min_len=3)
    # A fragment: "Und Finnland?", "What about Meloni?" — a few words hanging on what came before.
    return bool(_ELLIPSIS.match(question)) and len(content) <= 2


class Condenser:
    """Query -> Condensed. ``model`` is a LangChain chat model (``llm.langchain_chat``)."""

    def __init__(self, model: Runnable, prompts: dict[str, Prompt], history_turns: int):
        from .generate import chat_template

        self.prompts = prompts
        self.history_turns = history_turns
        self._chains = {lang: chat_template(p) | model | StrOutputParser() for lang, p in prompts.items()}

    def __call__(self, query: Query) -> Condensed:
        turns = query.history[-self.history_turns :] if self.history_turns else ()
        if not is_follow_up(query.text, turns):
            return Condensed(query, query.text)
        t0 = time.perf_counter()
        try:
            out = self._chains[query.language].invoke(
                {"history": format_history(turns, query.language), "question": query.text}
            )
        except LLMUnavailableError as e:
            # Retrieval still works without the model.
            return Condensed(query, fallback_query(query.text, turns), time.perf_counter() - t0,
                             note=f"could not rewrite the follow-up: {e}")
        standalone = clean_standalone(out)
        if not is_rewrite(standalone, query.text, turns):
            return Condensed(query, fallback_query(query.text, turns), time.perf_counter() - t0)
        return Condensed(query, standalone, time.perf_counter() - t0)
