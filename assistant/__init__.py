"""Bilingual news Q&A: answers in the question's language, from the indexed articles only, with
checked ``[n]`` citations.

    from assistant import Assistant, Settings
    answer = Assistant(Settings()).ask("Wo traf Trump Putin?")
"""

from __future__ import annotations

from .assistant import Assistant
from .settings import Settings
from .types import Answer, Citation, Turn

__all__ = ["Answer", "Assistant", "Citation", "Settings", "Turn"]
