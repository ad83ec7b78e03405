"""Chat models behind one small interface: ``stream(messages, ...) -> Iterator[str]`` of text pieces.

- ``LlamaCppChat`` (``llamacpp.py``): a GGUF on the CPU through llama-cpp-python (the embedded default).
- ``OpenAICompatChat`` (``openai_compat.py``): any OpenAI-compatible server (Ollama, vLLM, llama.cpp
  server, OpenAI).
- ``ScriptedChatModel``: replays fixed replies, for fast tests of the chain's logic.

``LangChainChat`` adapts any of them to LangChain's ``BaseChatModel`` for the LCEL chain.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from ..errors import LLMUnavailableError

Message = dict[str, str]  # {"role": "system"|"user"|"assistant", "content": "..."}


class ChatModel(Protocol):
    name: str

    def stream(
        self, messages: list[Message], *, max_tokens: int, temperature: float, stop: list[str] | None = None,
        json_schema: dict | None = None,
    ) -> Iterator[str]:
        """Text pieces of the reply. ``json_schema``: the reply must be JSON of this schema (a grammar
        locally, ``response_format`` on a server); a back end that cannot enforce it may ignore it."""
        ...


@dataclass(frozen=True)
class PromptStats:
    """What the last prompt cost: its length, the tokens evaluated for it (the rest came from the
    prompt cache) and the seconds that evaluation took."""

    tokens: int
    new_tokens: int
    seconds: float

    @property
    def tokens_per_s(self) -> float:
        return self.new_tokens / self.seconds if self.seconds > 0 else 0.0


class ScriptedChatModel:
    """Replays the given replies in order (the last one repeats), streaming word by word. A reply may
    be a function of the messages (to cite whichever passage number holds a fact). Records the
    messages it received in ``calls``. For unit tests of the chain logic only."""

    def __init__(self, replies: list, name: str = "scripted"):
        if not replies:
            raise ValueError("ScriptedChatModel needs at least one reply")
        self.replies = list(replies)
        self.name = name
        self.calls: list[list[Message]] = []
        self.schemas: list[dict | None] = []

    def stream(
        self, messages: list[Message], *, max_tokens: int, temperature: float, stop: list[str] | None = None,
        json_schema: dict | None = None,
    ) -> Iterator[str]:
        self.calls.append([dict(m) for m in messages])
        self.schemas.append(json_schema)
        reply = self.replies[min(len(self.calls) - 1, len(self.replies) - 1)]
        if callable(reply):
            reply = reply(messages)
        words = reply.split(" ")
        for i, w in enumerate(words):
            yield w if i == 0 else " " + w


class FailingChatModel:
    """A chat model whose back end is down: every call raises ``LLMUnavailableError``."""

    name = "unavailable"

    def __init__(self, message: str = "LLM back end is down"):
        self.message = message

    def stream(self, messages, *, max_tokens, temperature, stop=None, json_schema=None) -> Iterator[str]:
        raise LLMUnavailableError(self.message)
        yield ""  # pragma: no cover


def make_chat_model(settings) -> ChatModel:
    """The chat model the settings describe."""
    s = settings.llm
    if s.backend == "openai":
        from .openai_compat import OpenAICompatChat  # the back ends import this module's interface

        return OpenAICompatChat(
            s.base_url or "", s.model, api_key=s.api_key, timeout_s=s.timeout_s, retries=s.retries,
            structured_output=s.structured_output,
        )
    from .llamacpp import LlamaCppChat
    from .models import MODELS, ensure_gguf

    path = ensure_gguf(s.model, Path(settings.paths.cache_dir))
    name = MODELS[s.model].name if s.model in MODELS else path.name
    return LlamaCppChat(path, name=name, n_ctx=s.n_ctx, threads=s.threads)


# ---------------------------------------------------------------------------------------------------
# LangChain adapter (LangChain types stay in here and in the chain module).

def langchain_chat(model: ChatModel, *, max_tokens: int, temperature: float):
    """Wrap a ChatModel as a LangChain ``BaseChatModel`` (streaming supported)."""
    from langchain_core.language_models.chat_models import BaseChatModel
    from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
    from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
    from pydantic import ConfigDict

    roles = {"system": "system", "human": "user", "ai": "assistant"}

    def to_dicts(messages: list[BaseMessage]) -> list[Message]:
        return [{"role": roles.get(m.type, "user"), "content": str(m.content)} for m in messages]

    class LangChainChat(BaseChatModel):
        model_config = ConfigDict(arbitrary_types_allowed=True)
        inner: Any
        max_tokens: int
        temperature: float

        @property
        def _llm_type(self) -> str:
            return "newsqa-" + type(self.inner).__name__

        def _stream(self, messages, stop=None, run_manager=None, json_schema=None, **kwargs):
            for piece in self.inner.stream(
                to_dicts(messages), max_tokens=self.max_tokens, temperature=self.temperature, stop=stop,
                **({"json_schema": json_schema} if json_schema else {}),
            ):
                chunk = ChatGenerationChunk(message=AIMessageChunk(content=piece))
                if run_manager:
                    run_manager.on_llm_new_token(piece, chunk=chunk)
                yield chunk

        def _generate(self, messages, stop=None, run_manager=None, **kwargs):
            text = "".join(c.message.content for c in self._stream(messages, stop, run_manager, **kwargs))
            return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])

    return LangChainChat(inner=model, max_tokens=max_tokens, temperature=temperature)
