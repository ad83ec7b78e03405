"""Stage 1, condense: a follow-up question becomes a question that stands alone for retrieval.

First it is decided whether the question is a follow-up at all (``is_follow_up``): a question that
names its own subject and points back at nothing ("Wie hoch ist die Arbeitslosenquote in
Deutschland?") is searched as it is, never merged with the one before. The rewrite is asked of the chat model with ``prompts/condense.<lang>.txt``. When the model cannot be
reached, or echoes or answers instead of rewriting, the one fallback applies: the previous question
followed by this one, which still steers retrieval to the right article. The model is asked that
too: asked the follow-up alone, over the same passages, it answered 2 of 19 conversation follow-ups
right against 6 of 19 (``evals/results/…-conversations-s12``), mostly refusing or writing claims too
short to align with their evidence. With ``answering.follow_up_rewrite = "rules"`` that fallback is all
there is and a follow-up costs no extra model call; on the conversation set's dev half it answered fewer
follow-ups right (docs/conversations.md), so the rewrite is the default.
"""

from __future__ import annotations

import json
import re
import time
from functools import lru_cache
from importlib import resources

from langchain_core.output_parsers import StrOutputParser
from langchain_core.runnables import Runnable

from vectorstore.language import detect_language
from vectorstore.text import STOPWORDS, WORD, content_words, fold, names

from ..errors import LLMUnavailableError
from ..types import Condensed, Prompt, Query, Turn

LANGUAGES = ("de", "en")


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


@lru_cache(maxsize=None)
def follow_up_words() -> dict[str, frozenset[str]]:
    """The word lists of every language (``words/follow_up.<lang>.json``), merged: a short follow-up's
    language is not always detected right, and the lists do not collide."""
    out: dict[str, set[str]] = {}
    for lang in LANGUAGES:
        data = json.loads(resources.files(__package__).joinpath(f"words/follow_up.{lang}.json").read_text(encoding="utf-8"))
        for name, words in data.items():
            if not name.startswith("_"):
                out.setdefault(name, set()).update(words)
    return {name: frozenset(words) for name, words in out.items()}


def _points_back(words: list[str], i: int, lists: dict[str, frozenset[str]]) -> bool:
    """Whether word ``i`` refers to something outside the question. Not: a pronoun written capitalised
    inside the question (the polite "Sie"), an expletive ("gibt es", "were there", "es gibt"), a
    possessive after a name the question has itself ("Why did Harvard end its program?")."""
    word, low = words[i], words[i].lower()
    if low not in lists["pointers"] and low not in lists["pronouns"] and low not in lists["possessives"]:
        return False
    if i > 0 and word[:1].isupper():
        return False
    before = words[i - 1].lower() if i > 0 else ""
    after = words[i + 1].lower() if i + 1 < len(words) else ""
    if low in lists["expletive_pronouns"] and (
        before in lists["expletive_neighbours"] or (after in lists["expletive_neighbours"] and (not before or before in STOPWORDS))
    ):
        return False
    return not (low in lists["possessives"] and _own_name(words[:i], lists))


def _own_name(words: list[str], lists: dict[str, frozenset[str]]) -> bool:
    """Whether the words name something without an article before it: a proper name ("Harvard",
    "Selenskyj"), not a German common noun ("die Stimmung")."""
    found = set(names(" ".join(words)))
    return any(w in found and (j == 0 or words[j - 1].lower() not in lists["articles"]) for j, w in enumerate(words))


def is_follow_up(question: str, history: tuple[Turn, ...] | list[Turn]) -> bool:
    """Whether the question needs the conversation to be understood: it points back ("Und was
    sagte Selenskyj dazu?", "Who attended it?", "Was geschah dort?"), or it is a fragment ("Und
    Finnland?", "And the president of the Commission?", "Und wann?"). The words are data
    (``words/follow_up.<lang>.json``); measured by ``python -m evals.follow_ups`` on the XQuAD
    conversation set."""
    if not history:
        return False
    lists = follow_up_words()
    words = WORD.findall(question)
    if any(_points_back(words, i, lists) for i in range(len(words))):
        return True
    low = [w.lower() for w in words]
    opener = max((o.split() for o in lists["openers"] if low[: len(o.split())] == o.split()), key=len, default=None)
    if opener is None:
        return False
    # a fragment hangs on what came before: no question of its own, or a short one ("And who represented Italy?")
    rest = words[len(opener) :]
    asks = any(w.lower() in lists["question_words"] for w in rest)
    return not asks or len(content_words(" ".join(rest), min_len=3)) <= 2


class Condenser:
    """Query -> Condensed. ``model`` is a LangChain chat model (``llm.langchain_chat``); with
    ``use_model`` off a follow-up is resolved by rule alone (``fallback_query``), without a model call."""

    def __init__(self, model: Runnable, prompts: dict[str, Prompt], history_turns: int, *, use_model: bool = True):
        from .generate import chat_template

        self.prompts = prompts
        self.history_turns = history_turns
        self.use_model = use_model
        self._templates = {lang: chat_template(p) for lang, p in prompts.items()}
        # only the rewrite's first line is used (``clean_standalone``): the model stops there
        self._chains = {lang: t | model.bind(stop=["\n"]) | StrOutputParser() for lang, t in self._templates.items()}

    def messages(self, lang: str, *, history: str, question: str) -> list[dict[str, str]]:
        """The rewrite prompt of ``lang`` filled in, as chat messages (to warm its fixed part)."""
        roles = {"system": "system", "human": "user", "ai": "assistant"}
        filled = self._templates[lang].format_messages(history=history, question=question)
        return [{"role": roles.get(m.type, "user"), "content": str(m.content)} for m in filled]

    def __call__(self, query: Query) -> Condensed:
        turns = query.history[-self.history_turns :] if self.history_turns else ()
        if not is_follow_up(query.text, turns):
            return Condensed(query, query.text)
        if not self.use_model:
            return Condensed(query, fallback_query(query.text, turns), follow_up=True)
        t0 = time.perf_counter()
        try:
            out = self._chains[query.language].invoke(
                {"history": format_history(turns, query.language), "question": query.text}
            )
        except LLMUnavailableError as e:
            # Retrieval still works without the model.
            return Condensed(query, fallback_query(query.text, turns), time.perf_counter() - t0,
                             note=f"could not rewrite the follow-up: {e}", follow_up=True)
        standalone = clean_standalone(out)
        if not is_rewrite(standalone, query.text, turns):
            return Condensed(query, fallback_query(query.text, turns), time.perf_counter() - t0, follow_up=True)
        return Condensed(query, standalone, time.perf_counter() - t0, follow_up=True)
