"""``OpenAICompatChat``: any OpenAI-compatible server (Ollama, vLLM, llama.cpp's server, OpenAI) behind
the chat interface of ``llm.py``."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

from ..errors import LLMUnavailableError, ModelError
from .llm import Message


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
