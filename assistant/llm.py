"""Chat models behind one small interface: ``stream(messages, ...) -> Iterator[str]`` of text pieces.

- ``LlamaCppChat``: a GGUF on the CPU through llama-cpp-python (the embedded default).
- ``OpenAICompatChat``: any OpenAI-compatible server (Ollama, vLLM, llama.cpp server, OpenAI).
- ``ScriptedChatModel``: replays fixed replies, for fast tests of the chain's logic.

``LangChainChat`` adapts any of them to LangChain's ``BaseChatModel`` for the LCEL chain.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

from .errors import LLMUnavailableError, ModelError

Message = dict[str, str]  # {"role": "system"|"user"|"assistant", "content": "..."}


class ChatModel(Protocol):
    name: str

    def stream(self, messages: list[Message], *, max_tokens: int, temperature: float, stop: list[str] | None = None) -> Iterator[str]: ...


class LlamaCppChat:
    """A GGUF model run by llama-cpp-python. Loaded lazily, once; calls are serialised (one context).

    llama-cpp-python keeps the evaluated tokens of the previous call and reuses the longest common
    prefix, so the fixed system prompt is processed once and later questions pay only for the rest.
    """

    def __init__(self, model_path: Path, *, name: str | None = None, n_ctx: int = 4096, threads: int = 0):
        self.model_path = Path(model_path)
        self.name = name or self.model_path.name
        self.n_ctx = n_ctx
        self.threads = threads
        self._llm = None
        self._lock = threading.Lock()

    def _load(self):
        if self._llm is None:
            try:
                from llama_cpp import Llama
            except ImportError as e:
                raise ModelError("llama-cpp-python is not installed (pip install llama-cpp-python)") from e
            import os

            try:
                self._llm = Llama(
                    model_path=str(self.model_path), n_ctx=self.n_ctx, n_threads=self.threads or (os.cpu_count() or 2),
                    n_batch=512, flash_attn=True, verbose=False,
                )
            except Exception as e:
                raise ModelError(f"cannot load GGUF model {self.model_path}: {e} (corrupt file? delete it to re-assemble)") from e
            self._llm.set_cache(_prefix_cache())
        return self._llm

    def warm_up(self) -> None:
        with self._lock:
            self._load()

    def stream(self, messages: list[Message], *, max_tokens: int, temperature: float, stop: list[str] | None = None) -> Iterator[str]:
        with self._lock:
            llm = self._load()
            try:
                for part in llm.create_chat_completion(
                    messages=messages, max_tokens=max_tokens, temperature=temperature, top_p=1.0, stop=stop or None,
                    stream=True, seed=0,
                ):
                    delta = part["choices"][0].get("delta", {}).get("content")
                    if delta:
                        yield delta
            except ValueError as e:  # e.g. prompt longer than the context window
                raise LLMUnavailableError(f"the local model refused the request: {e}") from e


def _prefix_cache(capacity_bytes: int = 256 << 20):
    """llama-cpp-python's RAM cache of evaluated states, without the logits it copies into each state.

    The context only remembers the previous prompt, so a German question after an English one paid
    again for the German system prompt and demonstration (about 300 tokens, 6 s on 2 cores). The
    cache keeps the states of recent prompts and restores the one sharing the longest prefix. Each
    state would also carry a copy of the logits buffer (n_batch x vocabulary, 311 MB); they are only
    needed for log-probabilities, which we never ask for, so one zero row is kept instead (it
    broadcasts on restore) and a state costs a few MB of KV cache.
    """
    import numpy as np
    from llama_cpp import LlamaRAMCache

    class PrefixCache(LlamaRAMCache):
        def __setitem__(self, key, value):
            value.scores = np.zeros((1, value.scores.shape[-1]), dtype=np.single)
            super().__setitem__(key, value)

    return PrefixCache(capacity_bytes)


class OpenAICompatChat:
    """Streams chat completions from an OpenAI-compatible server (``{base_url}/chat/completions``).

    Connection errors, timeouts and 5xx answers are retried with backoff before the request counts as
    failed; a 4xx answer or a body that is not the expected JSON fails at once. Every failure is an
    ``LLMUnavailableError`` with one line that names the server.
    """

    def __init__(self, base_url: str, model: str, *, api_key: str | None = None, timeout_s: float = 120.0, retries: int = 2):
        if not base_url:
            raise ModelError("llm.base_url is required for the openai back end (e.g. http://localhost:11434/v1)")
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.name = f"{model} @ {self.base_url}"
        self.api_key = api_key
        self.timeout_s = timeout_s
        self.retries = retries

    def _headers(self) -> dict[str, str]:
        h = {"Content-Type": "application/json"}
        if self.api_key:
            h["Authorization"] = f"Bearer {self.api_key}"
        return h

    def stream(self, messages: list[Message], *, max_tokens: int, temperature: float, stop: list[str] | None = None) -> Iterator[str]:
        import httpx

        body: dict[str, Any] = {"model": self.model, "messages": messages, "max_tokens": max_tokens, "temperature": temperature, "stream": True}
        if stop:
            body["stop"] = stop
        url = f"{self.base_url}/chat/completions"
        timeout = httpx.Timeout(self.timeout_s, connect=min(10.0, self.timeout_s))
        last: Exception | None = None
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(min(0.5 * 2 ** (attempt - 1), 4.0))
            yielded = False
            try:
                with httpx.Client(timeout=timeout) as client, client.stream("POST", url, json=body, headers=self._headers()) as resp:
                    if resp.status_code >= 500:
                        last = LLMUnavailableError(f"LLM server {self.base_url} answered HTTP {resp.status_code}")
                        continue
                    if resp.status_code >= 400:
                        detail = resp.read().decode("utf-8", "replace")[:200].replace("\n", " ")
                        raise LLMUnavailableError(f"LLM server {self.base_url} refused the request: HTTP {resp.status_code} {detail}")
                    ctype = resp.headers.get("content-type", "")
                    if "text/event-stream" not in ctype and "json" not in ctype:
                        raise LLMUnavailableError(f"LLM server {self.base_url} answered with {ctype or 'no content type'}, not a chat completion stream")
                    for piece in _sse_deltas(resp.iter_lines(), self.base_url):
                        yielded = True
                        yield piece
                    return
            except LLMUnavailableError:
                raise
            except httpx.TimeoutException as e:
                last = LLMUnavailableError(f"LLM server {self.base_url} timed out after {self.timeout_s:.0f}s")
                last.__cause__ = e
            except httpx.HTTPError as e:
                last = LLMUnavailableError(f"cannot reach LLM server {self.base_url}: {type(e).__name__}: {e}")
                last.__cause__ = e
            if yielded:  # a stream that broke halfway cannot be retried without duplicating text
                break
        raise last or LLMUnavailableError(f"LLM server {self.base_url} failed")


def _sse_deltas(lines: Iterator[str], where: str) -> Iterator[str]:
    """Text deltas of an OpenAI chat-completions SSE stream (or a single non-streamed JSON body)."""
    buffered: list[str] = []
    saw_event = False
    for line in lines:
        if not line:
            continue
        if not line.startswith("data:"):
            buffered.append(line)
            continue
        saw_event = True
        data = line[5:].strip()
        if data == "[DONE]":
            return
        try:
            obj = json.loads(data)
            choice = obj["choices"][0]
        except (json.JSONDecodeError, KeyError, IndexError, TypeError) as e:
            raise LLMUnavailableError(f"LLM server {where} sent a malformed stream event: {data[:80]!r}") from e
        text = (choice.get("delta") or {}).get("content") or (choice.get("message") or {}).get("content")
        if text:
            yield text
    if not saw_event:
        try:
            obj = json.loads("\n".join(buffered))
            text = obj["choices"][0]["message"]["content"]
        except (json.JSONDecodeError, KeyError, IndexError, TypeError) as e:
            raise LLMUnavailableError(f"LLM server {where} answered garbage: {' '.join(buffered)[:80]!r}") from e
        if text:
            yield text


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

    def stream(self, messages: list[Message], *, max_tokens: int, temperature: float, stop: list[str] | None = None) -> Iterator[str]:
        self.calls.append([dict(m) for m in messages])
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

    def stream(self, messages, *, max_tokens, temperature, stop=None) -> Iterator[str]:
        raise LLMUnavailableError(self.message)
        yield ""  # pragma: no cover


def make_chat_model(settings) -> ChatModel:
    """The chat model the settings describe."""
    s = settings.llm
    if s.backend == "openai":
        return OpenAICompatChat(s.base_url or "", s.model, api_key=s.api_key, timeout_s=s.timeout_s, retries=s.retries)
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

        def _stream(self, messages, stop=None, run_manager=None, **kwargs):
            for piece in self.inner.stream(to_dicts(messages), max_tokens=self.max_tokens, temperature=self.temperature, stop=stop):
                chunk = ChatGenerationChunk(message=AIMessageChunk(content=piece))
                if run_manager:
                    run_manager.on_llm_new_token(piece, chunk=chunk)
                yield chunk

        def _generate(self, messages, stop=None, run_manager=None, **kwargs):
            text = "".join(c.message.content for c in self._stream(messages, stop, run_manager))
            return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])

    return LangChainChat(inner=model, max_tokens=max_tokens, temperature=temperature)
