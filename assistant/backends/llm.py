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
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from ..errors import LLMUnavailableError, ModelError

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


def cpu_has_amx() -> bool:
    """Whether llama.cpp was built for, and runs on, a CPU with AMX (Sapphire Rapids and later)."""
    import llama_cpp

    return "AMX_INT8 = 1" in llama_cpp.llama_print_system_info().decode(errors="replace")


_LOAD_LOCK = threading.Lock()


@contextmanager
def plain_cpu_weights() -> Iterator[None]:
    """While inside, llama.cpp loads models without its extra weight buffers, on a CPU with AMX.
    There it repacks Q4_K weights into an AMX buffer whose matrix multiply crashes the process on the
    first evaluation (ggml-org/llama.cpp#20824; seen here on 2026-12-02 with llama-cpp-python 0.3.36 on
    a Xeon with AMX_INT8). Without them the weights stay in plain CPU memory, which is also fast there
    (`assistant bench answer` measures it). ``Llama`` does not take the setting, so the default model
    parameters it starts from are adjusted, and restored on the way out."""
    if not cpu_has_amx():
        yield
        return
    import llama_cpp.llama_cpp as lib

    with _LOAD_LOCK:
        defaults = lib.llama_model_default_params

        def without_extra_buffers():
            params = defaults()
            params.use_extra_bufts = False
            return params

        lib.llama_model_default_params = without_extra_buffers
        try:
            yield
        finally:
            lib.llama_model_default_params = defaults


def load_llama(model_path: Path, **kwargs):
    """``llama_cpp.Llama`` for a GGUF, loaded so that it runs on this CPU (``plain_cpu_weights``)."""
    from llama_cpp import Llama

    with plain_cpu_weights():
        return Llama(model_path=str(model_path), **kwargs)


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
        self._judge: _TokenJudge | None = None
        self._lock = threading.Lock()
        self.last_prompt: PromptStats | None = None  # set by each ``stream``
        self._evals: list[tuple[int, float]] | None = None  # (tokens, seconds) of each eval while recording

    def _load(self):
        if self._llm is None:
            try:
                import llama_cpp  # noqa: F401
            except ImportError as e:
                raise ModelError("llama-cpp-python is not installed (pip install llama-cpp-python)") from e
            import os

            try:
                self._llm = load_llama(
                    self.model_path, n_ctx=self.n_ctx, n_threads=self.threads or (os.cpu_count() or 2),
                    n_batch=512, flash_attn=True, verbose=False,
                )
            except Exception as e:
                raise ModelError(f"cannot load GGUF model {self.model_path}: {e} (corrupt file? delete it to re-assemble)") from e
            self._llm.set_cache(_prefix_cache())
            self._record_evals(self._llm)
        return self._llm

    def _record_evals(self, llm) -> None:
        """Time each ``eval`` of the llama.cpp context while a reply is being made: the first one is
        the prompt's uncached part, the rest are the generated tokens one by one."""
        evaluate = llm.eval

        def timed_eval(tokens):
            t0 = time.perf_counter()
            evaluate(tokens)
            if self._evals is not None:
                self._evals.append((len(tokens), time.perf_counter() - t0))

        llm.eval = timed_eval

    def warm_up(self) -> None:
        with self._lock:
            self._load()

    def yes_probability(self, messages: list[Message]) -> float:
        """P(yes) of the model's next word after ``messages`` (a yes/no question), from its logits."""
        with self._lock:
            llm = self._load()
            if self._judge is None:
                self._judge = _TokenJudge(llm)
            return self._judge(messages)

    def stream(
        self, messages: list[Message], *, max_tokens: int, temperature: float, stop: list[str] | None = None,
        json_schema: dict | None = None,
    ) -> Iterator[str]:
        with self._lock:
            llm = self._load()
            fmt = {"type": "json_object", "schema": json_schema} if json_schema else None
            self._evals, self.last_prompt = [], None
            try:
                for part in llm.create_chat_completion(
                    messages=messages, max_tokens=max_tokens, temperature=temperature, top_p=1.0, stop=stop or None,
                    stream=True, seed=0, response_format=fmt,
                ):
                    if self.last_prompt is None and self._evals:
                        new, seconds = self._evals[0]
                        self.last_prompt = PromptStats(llm.n_tokens - sum(n for n, _ in self._evals[1:]), new, seconds)
                    delta = part["choices"][0].get("delta", {}).get("content")
                    if delta:
                        yield delta
            except ValueError as e:  # e.g. prompt longer than the context window
                raise LLMUnavailableError(f"the local model refused the request: {e}") from e
            finally:
                self._evals = None


_JUDGE_HEADS = 4  # fixed judge prefixes whose evaluated state is kept
_YES = ("Yes", "yes", "Ja", "ja", " Yes", " yes")
_NO = ("No", "no", "Nein", "nein", " No", " no")


class _TokenJudge:
    """P(yes) for a yes/no prompt from the model's next-token logits. The prompt is formatted with
    the GGUF's own chat template; the tokens it shares with what the context already holds (the
    system prompt and demonstrations, usually) are not evaluated again, so a check costs only its
    new tokens."""

    def __init__(self, llm):
        import jinja2

        self.llm = llm
        template = llm.metadata.get("tokenizer.chat_template")
        if not template:
            raise ModelError("the GGUF has no chat template; cannot ask it yes/no questions")
        self.template = jinja2.Environment(undefined=jinja2.ChainableUndefined).from_string(template)
        first = lambda words: sorted({llm.tokenize(w.encode(), add_bos=False, special=False)[0] for w in words})  # noqa: E731
        self.yes, self.no = first(_YES), first(_NO)
        # per fixed part (one per judge prompt): its tokens and, once evaluated, the saved state
        self._heads: dict[tuple, list] = {}

    def _head(self, fixed: list[Message]) -> list:
        """[tokens, saved state or None] of the prompt's fixed part (all but the last message). A few
        fixed parts are kept (the support judge's and the answers-the-question judge's), so that
        switching between them restores a state instead of evaluating a thousand tokens again."""
        key = tuple((m["role"], m["content"]) for m in fixed)
        head = self._heads.get(key)
        if head is None:
            if len(self._heads) >= _JUDGE_HEADS:
                self._heads.pop(next(iter(self._heads)))
            text = self.template.render(messages=fixed, add_generation_prompt=False) if fixed else ""
            tokens = self.llm.tokenize(text.encode(), add_bos=False, special=True) if text else []
            head = self._heads[key] = [tokens, None]
        return head

    def __call__(self, messages: list[Message]) -> float:
        import numpy as np

        text = self.template.render(messages=messages, add_generation_prompt=True)
        tokens = self.llm.tokenize(text.encode(), add_bos=False, special=True)
        shared = self.llm.longest_token_prefix(self.llm._input_ids.tolist(), tokens)
        entry = self._head(messages[:-1])
        head = entry[0]
        if head and shared < len(head) and tokens[: len(head)] == head:
            # An answer (or the other judge) was evaluated in between and the context holds its
            # prompt: restore this judge's evaluated prefix (system text and demonstrations) instead
            # of evaluating it again.
            if entry[1] is None:
                self.llm.n_tokens = shared
                self.llm.eval(head[shared:])
                entry[1] = _without_logits(self.llm.save_state())
            else:
                self.llm.load_state(entry[1])
            shared = len(head)
        shared = min(shared, len(tokens) - 1)  # the last token must be evaluated to get its logits
        self.llm.n_tokens = shared
        self.llm.eval(tokens[shared:])
        logits = np.ctypeslib.as_array(self.llm._ctx.get_logits(), shape=(self.llm.n_vocab(),)).astype(np.float64)
        yes, no = logits[self.yes], logits[self.no]
        top = max(yes.max(), no.max())
        p_yes, p_no = np.exp(yes - top).sum(), np.exp(no - top).sum()
        return float(p_yes / (p_yes + p_no))


def _without_logits(state):
    """A saved llama.cpp state without its copy of the logits buffer (n_batch x vocabulary, 311 MB):
    one zero row is kept, which broadcasts on restore. Log-probabilities of the restored prefix are
    never read; the next evaluated token brings its own."""
    import numpy as np

    state.scores = np.zeros((1, state.scores.shape[-1]), dtype=np.single)
    return state


def _prefix_cache(capacity_bytes: int = 256 << 20):
    """llama-cpp-python's RAM cache of evaluated states, without the logits it copies into each state.

    The context only remembers the previous prompt, so a German question after an English one paid
    again for the German system prompt and demonstration (about 300 tokens, 6 s on 2 cores). The
    cache keeps the states of recent prompts and restores the one sharing the longest prefix. Each
    state would also carry a copy of the logits buffer (n_batch x vocabulary, 311 MB); they are only
    needed for log-probabilities, which we never ask for, so one zero row is kept instead (it
    broadcasts on restore) and a state costs a few MB of KV cache.
    """
    from llama_cpp import LlamaRAMCache

    class PrefixCache(LlamaRAMCache):
        def __setitem__(self, key, value):
            super().__setitem__(key, _without_logits(value))

    return PrefixCache(capacity_bytes)


class OpenAICompatChat:
    """Streams chat completions from an OpenAI-compatible server through the official ``openai``
    client (Ollama, vLLM, llama.cpp's server, OpenAI).

    The client retries connection errors, timeouts, 429 and 5xx answers with backoff (``retries``
    times) before the request counts as failed; other 4xx answers fail at once. Once text has been
    yielded nothing is retried (that would repeat it). Every failure is an ``LLMUnavailableError``
    with one line that names the server.
    """

    def __init__(
        self, base_url: str, model: str, *, api_key: str | None = None, timeout_s: float = 120.0, retries: int = 2,
        structured_output: str = "json_schema",
    ):
        if not base_url:
            raise ModelError("llm.base_url is required for the openai back end (e.g. http://localhost:11434/v1)")
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.name = f"{model} @ {self.base_url}"
        self.api_key = api_key
        self.timeout_s = timeout_s
        self.retries = retries
        self.structured_output = structured_output
        self._client = None
        self._lock = threading.Lock()

    def _openai(self):
        """The client, built once (it holds the connection pool)."""
        with self._lock:
            if self._client is None:
                import openai

                self._client = openai.OpenAI(
                    base_url=self.base_url, api_key=self.api_key or "not-needed", max_retries=self.retries,
                    # A server that does not answer the connection should not hold the question for the
                    # whole generation timeout.
                    timeout=openai.Timeout(self.timeout_s, connect=min(10.0, self.timeout_s)),
                )
            return self._client

    def stream(
        self, messages: list[Message], *, max_tokens: int, temperature: float, stop: list[str] | None = None,
        json_schema: dict | None = None,
    ) -> Iterator[str]:
        import openai

        request: dict[str, Any] = {"model": self.model, "messages": messages, "max_tokens": max_tokens,
                                   "temperature": temperature, "stream": True}
        if stop:
            request["stop"] = stop
        if json_schema and self.structured_output == "json_schema":
            request["response_format"] = {
                "type": "json_schema", "json_schema": {"name": "reply", "schema": json_schema, "strict": True},
            }
        elif json_schema and self.structured_output == "json_object":
            request["response_format"] = {"type": "json_object", "schema": json_schema}
        where = self.base_url
        while True:
            started = False
            try:
                with self._openai().chat.completions.with_streaming_response.create(**request) as resp:
                    ctype = resp.headers.get("content-type", "")
                    if "text/event-stream" in ctype:
                        pieces = _sse_deltas(resp.parse(), where)
                    elif "json" in ctype:  # a server that ignores stream=True sends the whole completion
                        pieces = self._whole_reply(resp.text())
                    else:
                        raise LLMUnavailableError(
                            f"LLM server {where} answered with {ctype or 'no content type'}, not a chat completion stream"
                        )
                    for piece in pieces:
                        started = True
                        yield piece
                if "response_format" not in request and json_schema and self.structured_output != "off":
                    self.structured_output = "off"  # it answered without: never send it again
                return
            except LLMUnavailableError:
                raise
            except openai.APIStatusError as e:
                if not started and "response_format" in request and e.status_code in (400, 422, 500):
                    # A server that does not take this response_format (llama-cpp-python's server
                    # fails with 500 on json_schema): ask again without it; the reply is then parsed
                    # leniently and checked as usual. A second failure is reported as it is.
                    request.pop("response_format")
                    continue
                raise self._failure(e, started) from e
            except openai.APIError as e:  # APIConnectionError, APITimeoutError included
                raise self._failure(e, started) from e

    def _failure(self, e: Exception, started: bool) -> LLMUnavailableError:
        """One line for a failure the openai client reported."""
        import openai

        where, cause = self.base_url, e.__cause__ or e
        if started:
            return LLMUnavailableError(f"LLM server {where} broke off the answer after it had started: {type(cause).__name__}: {cause}")
        if isinstance(e, openai.APITimeoutError):
            return LLMUnavailableError(f"LLM server {where} timed out after {self.timeout_s:g}s ({self.retries} retries)")
        if isinstance(e, openai.APIConnectionError):
            return LLMUnavailableError(f"cannot reach LLM server {where}: {type(cause).__name__}: {cause}")
        if isinstance(e, openai.APIStatusError):
            if e.status_code >= 500 or e.status_code == 429:
                return LLMUnavailableError(f"LLM server {where} answered HTTP {e.status_code} ({self.retries} retries)")
            try:
                detail = e.response.text
            except Exception:  # a body that could not be read still leaves the status code to report
                detail = e.message
            return LLMUnavailableError(f"LLM server {where} refused the request: HTTP {e.status_code} {' '.join(detail.split())[:200]}")
        return LLMUnavailableError(f"LLM server {where} reported an error: {getattr(e, 'message', e)}")

    def _whole_reply(self, body: str) -> Iterator[str]:
        try:
            text = json.loads(body)["choices"][0]["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError) as e:
            raise LLMUnavailableError(f"LLM server {self.base_url} answered garbage: {body[:80]!r}") from e
        if text:
            yield text


def _sse_deltas(chunks: Iterator[Any], where: str) -> Iterator[str]:
    """Text deltas of a streamed chat completion (the ``openai`` client's parsed chunks). A stream
    that sends no completion chunk at all, or an event that is not one, is an ``LLMUnavailableError``."""
    saw_chunk = False
    try:
        for chunk in chunks:
            saw_chunk = True
            delta = chunk.choices[0].delta if chunk.choices else None  # a usage-only chunk has no choices
            if delta is not None and delta.content:
                yield delta.content
    except (ValueError, AttributeError, TypeError, IndexError) as e:  # json.JSONDecodeError is a ValueError
        raise LLMUnavailableError(f"LLM server {where} sent a malformed stream event: {type(e).__name__}: {str(e)[:80]}") from e
    if not saw_chunk:
        raise LLMUnavailableError(f"LLM server {where} sent an empty stream (no completion chunks)")


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
        return OpenAICompatChat(
            s.base_url or "", s.model, api_key=s.api_key, timeout_s=s.timeout_s, retries=s.retries,
            structured_output=s.structured_output,
        )
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
