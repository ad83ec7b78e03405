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


class AccountError(AssistantError):
    """An account cannot be added, found or changed (bad name, unknown user, unsafe accounts file)."""


class AccessDeniedError(AssistantError):
    """The signed-in user may not do this: a reader asked to change articles, or a server path lies
    outside ``ui.ingest_roots``. The message names the role or the setting to change."""


class RateLimitError(AssistantError):
    """A user asked more questions per minute, or more at once, than ``ui`` limits allow."""

    def __init__(self, message: str, retry_after_s: float = 1.0):
        super().__init__(message)
        self.retry_after_s = retry_after_s


__all__ = [
    "AccessDeniedError", "AccountError", "AssistantError", "ArticleError", "ConfigError", "EmptyIndexError", "IndexBusyError", "IndexMismatchError",
    "LLMUnavailableError", "ModelError", "NewsQAError", "QuestionError", "RateLimitError", "StoreUnavailableError",
]
