"""Model back ends: the chat models behind one ``ChatModel`` protocol (llama.cpp in process, any
OpenAI-compatible server) and the GGUF files assembled from PyPI parts. Nothing here knows the
stages that call it."""
