"""The product's error hierarchy. The CLI and the UI turn these into one line a person can act on."""

from __future__ import annotations


class AssistantError(Exception):
    """Base of every error the product raises on purpose; ``str(err)`` is the one-line message."""


class ConfigError(AssistantError):
    """A setting or argument is out of range or inconsistent."""


class ArticleError(AssistantError):
    """An article file (or one record in it) cannot be read; the message names the file and line/field."""

    def __init__(self, path: str, reason: str, line: int | None = None, field: str | None = None):
        where = str(path) + (f":{line}" if line else "") + (f" [{field}]" if field else "")
        super().__init__(f"{where}: {reason}")
        self.path, self.reason, self.line, self.field = str(path), reason, line, field


class ModelError(AssistantError):
    """A model cannot be built or loaded (missing package, corrupt file, wrong hash)."""


class IndexMismatchError(AssistantError):
    """The index was built with another embedding model than the one configured."""


class IndexBusyError(AssistantError):
    """Another process is writing to the index."""


class StoreUnavailableError(AssistantError):
    """The vector store (e.g. a Chroma server) cannot be reached."""


class LLMUnavailableError(AssistantError):
    """The language model back end cannot be reached, timed out or answered garbage."""


class QuestionError(AssistantError):
    """The question or a search argument is empty, too long or out of range."""
