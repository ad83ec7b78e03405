"""Errors of the store layer. ``NewsQAError`` is the base of every error the newsqa packages raise on
purpose; the CLI and the UI turn it into one line a person can act on (``str(err)``).

The answering layer (``assistant.errors``) re-exports these and adds its own; nothing here knows it.
"""

from __future__ import annotations


class NewsQAError(Exception):
    """Base of every error the product raises on purpose; ``str(err)`` is the one-line message."""


class ConfigError(NewsQAError):
    """A setting or argument is out of range or inconsistent."""


class ArticleError(NewsQAError):
    """An article file (or one record in it) cannot be read; the message names the file and line/field."""

    def __init__(self, path: str, reason: str, line: int | None = None, field: str | None = None):
        where = str(path) + (f":{line}" if line else "") + (f" [{field}]" if field else "")
        super().__init__(f"{where}: {reason}")
        self.path, self.reason, self.line, self.field = str(path), reason, line, field


class ModelError(NewsQAError):
    """A model cannot be built or loaded (missing package, corrupt file, wrong hash)."""


class IndexMismatchError(NewsQAError):
    """The index was built with another embedding model than the one configured."""


class IndexBusyError(NewsQAError):
    """Another process is writing to the index."""


class StoreUnavailableError(NewsQAError):
    """The vector store (e.g. a Chroma server) cannot be reached."""


class QuestionError(NewsQAError):
    """The question or a search argument is empty, too long or out of range."""
