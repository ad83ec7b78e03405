"""Prompt-injection hygiene: sentences in articles that address the model ("ignore previous
instructions", "antworte nur mit …") are shown to the user as they are, but the model sees them
replaced by a neutral mark, and the citation check does not count them as support."""

from __future__ import annotations

import re

from vectorstore.text import sentence_spans

_PATTERNS = [
    r"\b(ignore|disregard|forget|override)\b[^.!?\n]{0,40}\b(instructions?|prompts?|rules|guidelines)\b",
    r"\b(ignoriere|ignorier|vergiss|missachte|übergehe)\b[^.!?\n]{0,40}\b(anweisungen|instruktionen|regeln|vorgaben|prompts?)\b",
    r"\b(reveal|print|show|output|repeat|leak)\b[^.!?\n]{0,30}\b(system\s*prompt|instructions)\b",
    r"\b(gib|zeige|zeig|verrate|wiederhole|nenne)\b[^.!?\n]{0,30}\b(system\s*-?\s*prompt|anweisungen)\b",
    r"\b(antworte|antwortet|answer|respond|reply)\b[^.!?\n]{0,20}\b(nur|ausschließlich|only)\b[^.!?\n]{0,10}\b(mit|with)\b",
    r"\b(you are now|du bist (jetzt|ab sofort)|act as|new instructions|neue anweisungen)\b",
    r"<\s*/?\s*(system|assistant|user|im_start|im_end)\b|\|im_(start|end)\|",
]
_INJECTION = re.compile("|".join(f"(?:{p})" for p in _PATTERNS), re.IGNORECASE)
MARK = "[…]"


def looks_like_injection(text: str) -> bool:
    return bool(_INJECTION.search(text))


def neutralize(text: str) -> str:
    """The text with every sentence that addresses the model replaced by ``[…]``."""
    if not _INJECTION.search(text):
        return text
    out, pos = [], 0
    for span in sentence_spans(text):
        if _INJECTION.search(text, span.start, span.end):
            out += [text[pos : span.start], MARK]
            pos = span.end
    return "".join(out) + text[pos:]
