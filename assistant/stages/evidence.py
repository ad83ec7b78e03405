"""Evidence-first answers (the reply side; ``assistant.stages.context`` numbers the sentences): the model is shown the passages sentence by sentence, each with an id
(``1.2`` is the second sentence of passage [1]), and replies with JSON whose first field lists the
ids of the sentences that answer the question, then the answer written from them:

    {"evidence": ["1.2"], "answer": "Trump did not rule out sending US troops [1]."}
    {"evidence": [], "answer": ""}                      <- nothing answers it: the assistant abstains

The ids come from a closed list: a JSON schema (a llama.cpp grammar locally, ``response_format`` on
an OpenAI-compatible server) lets the model write no other. Choosing evidence first makes the
abstention an explicit decision and tells the check which sentences the answer rests on.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

from ..types import EvidenceReply, EvidenceSentence

#: Prompt variants whose replies are evidence-first JSON (``prompts/answer.evidence.<lang>.txt``).
VARIANT_PREFIX = "evidence"


def is_evidence_first(variant: str) -> bool:
    return variant.startswith(VARIANT_PREFIX)

#: The most evidence sentences a reply may name.
MAX_EVIDENCE = 3


def reply_schema(ids: Iterable[str]) -> dict:
    """The JSON schema of a reply: evidence ids from the closed list, then the answer."""
    ids = list(ids)
    item = {"type": "string", "enum": ids} if ids else {"type": "string", "enum": ["0.0"]}
    return {
        "type": "object",
        "properties": {
            "evidence": {"type": "array", "items": item, "maxItems": MAX_EVIDENCE},
            "answer": {"type": "string"},  # max_tokens bounds it (a maxLength becomes a huge grammar)
        },
        "required": ["evidence", "answer"],
        "additionalProperties": False,
    }


_ID = re.compile(r"\b\d{1,2}\.\d{1,3}\b")


def parse_reply(raw: str, sentences: list[EvidenceSentence]) -> EvidenceReply:
    """The reply as data. Ids outside the list are ignored; text that is not the JSON asked for is
    taken as a plain answer, to be checked like any other."""
    by_id = {s.id: s for s in sentences}
    text = raw.strip()
    start, end = text.find("{"), text.rfind("}")
    try:
        data = json.loads(text[start : end + 1]) if start >= 0 and end > start else None
    except ValueError:
        data = None
    if not isinstance(data, dict) or not isinstance(data.get("evidence"), list):
        return EvidenceReply((), text, well_formed=False)
    chosen = [by_id[str(i)] for i in data["evidence"] if str(i) in by_id]
    answer = data.get("answer") if isinstance(data.get("answer"), str) else ""
    return EvidenceReply(tuple(dict.fromkeys(chosen)), answer.strip())


class AnswerStream:
    """Pulls the answer's text out of a JSON reply while it streams, so the user sees the answer
    being written and not the JSON around it. ``feed`` returns the answer text so far."""

    _OPEN = re.compile(r'"answer"\s*:\s*"')
    _ESCAPES = {'"': '"', "\\": "\\", "/": "/", "n": "\n", "t": " ", "r": "", "b": "", "f": ""}

    def __init__(self):
        self.raw = ""
        self.answer = ""
        self._at: int | None = None  # where the answer string starts in ``raw``
        self._done = False

    def feed(self, piece: str) -> str:
        self.raw += piece
        if self._at is None:
            m = self._OPEN.search(self.raw)
            if not m:
                return self.answer
            self._at = m.end()
        if not self._done:
            self.answer, self._done = _json_string_prefix(self.raw[self._at :])
        return self.answer


def _json_string_prefix(s: str) -> tuple[str, bool]:
    """The decoded prefix of a JSON string body, and whether its closing quote was seen. A trailing
    incomplete escape waits for the next piece."""
    out, i = [], 0
    while i < len(s):
        c = s[i]
        if c == '"':
            return "".join(out), True
        if c == "\\":
            if i + 1 >= len(s):
                break
            e = s[i + 1]
            if e == "u":
                if i + 6 > len(s):
                    break
                try:
                    out.append(chr(int(s[i + 2 : i + 6], 16)))
                except ValueError:
                    pass
                i += 6
                continue
            out.append(AnswerStream._ESCAPES.get(e, e))
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out), False
