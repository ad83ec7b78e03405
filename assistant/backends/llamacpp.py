"""``LlamaCppChat``: a GGUF on the CPU through llama-cpp-python, the embedded default back end; apart
from the chat interface (``llm.py``) because it carries llama.cpp's load, prompt-cache and judging
details."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import LLMUnavailableError, ModelError
from .llm import Message, PromptStats


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
