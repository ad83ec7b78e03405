"""The answering stages of one question (condense, retrieve, select, build context, generate, check)
and their composition in ``chain.py``; they use ``verify`` and ``backends`` below them and know
nothing of the facade, the UI or the CLI above."""
