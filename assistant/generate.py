"""Stage 4, generate: the prompt of the question's language (``prompts/answer.<variant>.<lang>.txt``)
filled with the context and the question, streamed from the chat model as LCEL
``prompt | model | StrOutputParser``."""

from __future__ import annotations

from collections.abc import Iterator

from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import Runnable

from .prompts import Prompt
from .types import Context

#: Appended to the question when the model answered in the wrong language and is asked again.
LANGUAGE_NUDGE = {"de": " (Antworte auf Deutsch.)", "en": " (Answer in English.)"}


def chat_template(p: Prompt) -> ChatPromptTemplate:
    """System text and demonstrations are literal (braces escaped); only the [user] part has variables."""

    def literal(t: str) -> str:
        return t.replace("{", "{{").replace("}", "}}")

    messages = [("system", literal(p.system))]
    for u, a in p.examples:
        messages += [("human", literal(u)), ("ai", literal(a))]
    return ChatPromptTemplate.from_messages([*messages, ("human", p.user)])


class Generator:
    """Context -> the model's text, streamed piece by piece."""

    def __init__(self, model: Runnable, prompts: dict[str, Prompt]):
        self.prompts = prompts
        self._chains = {lang: chat_template(p) | model | StrOutputParser() for lang, p in prompts.items()}

    def stream(self, context: Context, *, nudge: bool = False) -> Iterator[str]:
        query = context.retrieved.condensed.query
        question = context.retrieved.condensed.search_text + (LANGUAGE_NUDGE[query.language] if nudge else "")
        yield from self._chains[query.language].stream({"context": context.text, "question": question})
