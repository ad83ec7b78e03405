"""The product's error hierarchy: the store layer's errors (re-exported) plus the answering layer's.
The CLI and the UI turn any ``AssistantError`` into one line a person can act on."""

from __future__ import annotations

from vectorstore.errors import (
    ArticleError,
    ConfigError,
    IndexBusyError,
    IndexMismatchError,
    ModelError,
    NewsQAError,
    QuestionError,
    StoreUnavailableError,
)

#: The base of every error the product raises on purpose (one class for both layers).
AssistantError = NewsQAError


class LLMUnavailableError(AssistantError):
    """The language model back end cannot be reached, timed out or answered garbage."""


class EmptyIndexError(AssistantError):
    """A question was asked before any article was ingested."""


__all__ = [
    "AssistantError", "ArticleError", "ConfigError", "EmptyIndexError", "IndexBusyError", "IndexMismatchError",
    "LLMUnavailableError", "ModelError", "NewsQAError", "QuestionError", "StoreUnavailableError",
]
