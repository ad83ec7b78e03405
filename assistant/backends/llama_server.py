"""``python -m assistant.backends.llama_server``: llama-cpp-python's OpenAI-compatible server
(``python -m llama_cpp.server``, same arguments) for machines where it would crash as it is.

On a CPU with AMX, ``llama_cpp.server`` loads its model with llama.cpp's extra weight buffers and
dies on the first request (``assistant.backends.llamacpp.plain_cpu_weights`` says why). This runs the same server
with the weights in plain CPU memory, so that one model process can serve several newsqa UIs
(``llm.backend = "openai"``). Elsewhere it is exactly ``python -m llama_cpp.server``.
"""

from __future__ import annotations

from .llamacpp import plain_cpu_weights


def main() -> None:
    from llama_cpp.server.__main__ import main as serve

    with plain_cpu_weights():
        serve()


if __name__ == "__main__":
    main()
