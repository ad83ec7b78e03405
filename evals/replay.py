"""Replaying recorded answers: ``assistant eval … --replay RESULTS.json`` puts the text the answer
model wrote in an earlier run (each question's ``raw_text``) through today's check stage, instead of
asking the model again. A change to the checks (the verifier, the answers-the-question judge, their
thresholds) is then measured on the same model text in minutes rather than hours, and the only
difference between the two runs is the check.

The answer model is still loaded: the checks read its token probabilities, and a question without a
recorded reply (or a follow-up's rewrite) is asked for real. Timings of a replayed run say nothing
about answering speed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from assistant.backends.llm import Message
from assistant.errors import ConfigError


def recorded_replies(path: Path) -> dict[str, str]:
    """Standalone question -> the model's recorded text, from a results JSON of ``assistant eval``."""
    try:
        results = json.loads(Path(path).read_text(encoding="utf-8"))
        rows = results["questions"]
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise ConfigError(f"--replay {path}: not a results file of `assistant eval` ({type(e).__name__}: {e})") from e
    replies = {}
    for row in rows:
        answer = row.get("answer") or {}
        if answer.get("raw_text") and not answer.get("error"):
            replies[answer.get("standalone_question") or row["question"]] = answer["raw_text"]
    if not replies:
        raise ConfigError(f"--replay {path}: it records no model text (a retrieval-only run?)")
    return replies


def recorded_ids(path: Path) -> set[str]:
    """The ids of the questions an earlier run answered: a replay asks only these (a stopped run
    recorded only part of its sample)."""
    rows = json.loads(Path(path).read_text(encoding="utf-8"))["questions"]
    return {row["id"] for row in rows if row.get("answer") and not row["answer"].get("error_kind")}


class ReplayChatModel:
    """A chat model that gives the recorded reply to an answer prompt (recognised by its system text)
    whose question it has, and passes everything else (condensing, the judges' token probabilities)
    to the real model."""

    def __init__(self, model, replies: dict[str, str], answer_systems: set[str]):
        self.model = model
        self.name = getattr(model, "name", "replay")
        self.answer_systems = answer_systems
        # longest first: a question that contains a shorter one is matched as itself
        self.replies = dict(sorted(replies.items(), key=lambda kv: -len(kv[0])))
        self.replayed = 0
        self.asked = 0

    @property
    def last_prompt(self):
        return None

    def _recorded(self, messages: list[Message]) -> str | None:
        if not messages or messages[0].get("content") not in self.answer_systems:
            return None
        last = messages[-1].get("content", "")
        return next((raw for question, raw in self.replies.items() if question in last), None)

    def stream(self, messages: list[Message], **kwargs) -> Iterator[str]:
        raw = self._recorded(messages)
        if raw is None:
            self.asked += 1
            yield from self.model.stream(messages, **kwargs)
            return
        self.replayed += 1
        yield raw

    def __getattr__(self, name):  # yes_probability, warm_up and the like: the real model's, if it has them
        return getattr(self.model, name)
