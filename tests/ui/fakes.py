"""A deterministic chat model for UI tests: it answers from the excerpts it is shown, so its
citations point at the right passage whatever order retrieval returns them in."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass

_EXCERPT = re.compile(r"^\[(\d+)\] \((.*?)\) (.*?)(?=\n\n\[\d+\] \(|\n\n(?:Question|Frage)\b|\Z)", re.M | re.S)
_QUESTION = re.compile(r"^(?:Question|Frage): (.*)$", re.M)
_LAST_QUESTION = re.compile(r"^(?:Last question|Letzte Frage): (.*)$", re.M)


@dataclass(frozen=True)
class Rule:
    """When the question contains ``when``, answer ``say`` citing the excerpt that contains ``cite``
    (at ``{n}`` in ``say``, else as `` [n].`` at its end)."""

    when: str
    say: str
    cite: str


class QuotingChatModel:
    """Answers by rule: ``say [n].`` where n is the excerpt containing ``cite``; no rule -> refusal.
    Condense requests get the question back, or its entry in ``rewrites``. ``gate`` (an Event) holds every answer (not the
    rewrites) until it is set, so that tests can have two answers in flight at once."""

    name = "quoting-test-model"

    def __init__(self, rules: list[Rule], *, refusal: str = "The articles do not say.", gate: threading.Event | None = None,
                 rewrites: dict[str, str] | None = None):
        self.rules = rules
        self.rewrites = rewrites or {}
        self.refusal = refusal
        self.gate = gate
        self.calls = 0

    def reply(self, prompt: str) -> str:
        last = _LAST_QUESTION.findall(prompt)
        if last:  # the condense prompt: give the question back as it is
            return self.rewrites.get(last[-1].strip(), last[-1].strip())
        excerpts = {int(n): text for n, _title, text in _EXCERPT.findall(prompt)}
        questions = _QUESTION.findall(prompt)
        question = questions[-1] if questions else prompt
        # A follow-up may arrive as "earlier question + this one": the rule matching latest wins.
        q = question.lower()
        for rule in sorted((r for r in self.rules if r.when.lower() in q), key=lambda r: -q.rfind(r.when.lower())):
            for n, text in sorted(excerpts.items()):
                if rule.cite in text:
                    return rule.say.replace("{n}", str(n)) if "{n}" in rule.say else f"{rule.say} [{n}]."
        return self.refusal

    def stream(self, messages, *, max_tokens: int, temperature: float, stop=None) -> Iterator[str]:
        self.calls += 1
        prompt = messages[-1]["content"]
        text = self.reply(prompt)
        if self.gate is not None and not _LAST_QUESTION.search(prompt):  # hold answers, not rewrites
            self.gate.wait(timeout=60)
        words = text.split(" ")
        for i, w in enumerate(words):
            yield w if i == 0 else " " + w
