"""Stage 4, generate: the prompt of the question's language (``prompts/answer.<variant>.<lang>.txt``)
filled with the context and the question, streamed from the chat model as LCEL
``prompt | model | StrOutputParser``. An evidence-first variant binds the reply's JSON schema (the
closed list of the context's sentence ids, ``assistant.stages.evidence``) to the model for each question."""

from __future__ import annotations

from collections.abc import Iterator

from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import Runnable

from ..types import Context, Prompt
from .evidence import reply_schema

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

    def __init__(self, model: Runnable, prompts: dict[str, Prompt], *, evidence_first: bool = False):
        self.prompts = prompts
        self.model = model
        self.evidence_first = evidence_first
        self._templates = {lang: chat_template(p) for lang, p in prompts.items()}

    def messages(self, lang: str, *, context: str, question: str) -> list[dict[str, str]]:
        """The prompt of ``lang`` filled in, as chat messages."""
        roles = {"system": "system", "human": "user", "ai": "assistant"}
        filled = self._templates[lang].format_messages(context=context, question=question)
        return [{"role": roles.get(m.type, "user"), "content": str(m.content)} for m in filled]

    def stream(self, context: Context, *, nudge: bool = False) -> Iterator[str]:
        query = context.retrieved.condensed.query
        question = context.retrieved.condensed.search_text + (LANGUAGE_NUDGE[query.language] if nudge else "")
        model = self.model
        if self.evidence_first:
            model = model.bind(json_schema=reply_schema(s.id for s in context.sentences))
        chain = self._templates[query.language] | model | StrOutputParser()
        yield from chain.stream({"context": context.text, "question": question})
