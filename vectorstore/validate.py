"""Checks of a search's arguments (question, k, filters): QuestionError with what was wrong and what was given."""

from __future__ import annotations

from .errors import QuestionError
from .types import Filters

MAX_K = 50


def validate_query(query: object, max_chars: int) -> str:
    """The query, stripped and with control characters blanked; QuestionError if empty or too long."""
    if not isinstance(query, str):
        raise QuestionError(f"the question must be text, got {type(query).__name__}")
    cleaned = "".join(ch if ch.isprintable() or ch in "\n\t" else " " for ch in query).strip()
    if not cleaned:
        raise QuestionError("the question is empty")
    if len(cleaned) > max_chars:
        raise QuestionError(f"the question is too long ({len(cleaned)} characters; at most {max_chars})")
    return cleaned


def validate_k(k: object) -> None:
    if not isinstance(k, int) or isinstance(k, bool) or not 1 <= k <= MAX_K:
        raise QuestionError(f"k must be between 1 and {MAX_K}, got {k!r}")


def validate_filters(f: Filters | None) -> None:
    if f is None:
        return
    from .loader import parse_date

    for name in ("date_from", "date_to"):
        v = getattr(f, name)
        if v is not None and parse_date(v) != v:
            raise QuestionError(f"filter {name} must be a date YYYY-MM-DD, got {v!r}")
    if f.date_from and f.date_to and f.date_from > f.date_to:
        raise QuestionError(f"filter date_from ({f.date_from}) is after date_to ({f.date_to})")
    if f.language is not None and f.language not in ("de", "en") and len(f.language) != 2:
        raise QuestionError(f"filter language must be a two-letter code such as de or en, got {f.language!r}")
