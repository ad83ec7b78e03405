"""Bilingual news Q&A: answers in the question's language, from the indexed articles only, with
checked ``[n]`` citations.

    from assistant import Assistant, Settings
    answer = Assistant(Settings()).ask("Wo traf Trump Putin?")
"""

from __future__ import annotations

from typing import TYPE_CHECKING

__all__ = ["Answer", "Assistant", "Citation", "Settings", "Turn"]

if TYPE_CHECKING:  # pragma: no cover
    from .assistant import Assistant
    from .settings import Settings
    from .types import Answer, Citation, Turn


def __getattr__(name: str):
    # Lazy, so that `import assistant.errors` (used by vectorstore) stays light.
    if name == "Assistant":
        from .assistant import Assistant

        return Assistant
    if name == "Settings":
        from .settings import Settings

        return Settings
    if name in ("Answer", "Citation", "Turn"):
        from . import types

        return getattr(types, name)
    raise AttributeError(name)
