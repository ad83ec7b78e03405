"""Prompts live in files under ``prompts/``: ``<purpose>.<variant>.<lang>.txt`` or ``<purpose>.<lang>.txt``,
each with a ``[system]`` section, optional ``[example.user]``/``[example.assistant]``
demonstration pairs, and a ``[user]`` section. Variables are ``{name}``; they are checked when a
prompt is loaded, and every prompt carries an id (a hash of its file) that answers and evaluation runs
record.
"""

from __future__ import annotations

import hashlib
import re
import string
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .errors import ConfigError

REQUIRED = {"answer": {"context", "question"}, "condense": {"history", "question"}}


@dataclass(frozen=True)
class Prompt:
    name: str
    path: Path
    system: str
    user: str
    id: str  # "<file stem>@<sha256[:10]>"
    examples: tuple[tuple[str, str], ...] = ()  # (user, assistant) demonstration turns

    def messages(self, **values: str) -> list[dict[str, str]]:
        out = [{"role": "system", "content": self.system}]
        for u, a in self.examples:
            out += [{"role": "user", "content": u}, {"role": "assistant", "content": a}]
        return out + [{"role": "user", "content": self.user.format(**values)}]


def _variables(template: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(template) if field}


@lru_cache(maxsize=64)
def _load(path: Path, purpose: str) -> Prompt:
    text = path.read_text(encoding="utf-8")
    sections = re.split(r"^\[(system|user|example\.user|example\.assistant)\]\s*$", text, flags=re.MULTILINE)
    names = sections[1::2]
    if sections[0].strip() or not names or names[0] != "system" or names[-1] != "user" or names.count("user") != 1:
        raise ConfigError(f"{path}: a prompt file needs a [system] section first and one [user] section last")
    bodies = [b.strip() for b in sections[2::2]]
    system, user = bodies[0], bodies[-1]
    ex_names, ex_bodies = names[1:-1], bodies[1:-1]
    if ex_names != ["example.user", "example.assistant"] * (len(ex_names) // 2):
        raise ConfigError(f"{path}: examples must come as [example.user] then [example.assistant] pairs")
    examples = tuple(zip(ex_bodies[0::2], ex_bodies[1::2]))
    for ex in ex_bodies:
        if _variables(ex):
            raise ConfigError(f"{path}: example sections must not have variables")
    if _variables(system):
        raise ConfigError(f"{path}: the [system] section must not have variables, found {sorted(_variables(system))}")
    found, required = _variables(user), REQUIRED.get(purpose, set())
    if found != required:
        raise ConfigError(
            f"{path}: required variables: {', '.join(sorted(required))}; the file has: {', '.join(sorted(found)) or 'none'}"
        )
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:10]
    return Prompt(name=path.stem, path=path, system=system, user=user, id=f"{path.stem}@{digest}", examples=examples)


def load_prompt(prompts_dir: Path, purpose: str, lang: str, variant: str = "default") -> Prompt:
    """Load ``<purpose>.<variant>.<lang>.txt`` (falling back to ``<purpose>.<lang>.txt``)."""
    d = Path(prompts_dir)
    for name in (f"{purpose}.{variant}.{lang}.txt", f"{purpose}.{lang}.txt"):
        if (d / name).is_file():
            return _load(d / name, purpose)
    raise ConfigError(f"no prompt {purpose}.{variant}.{lang}.txt in {d} (answering.prompt_variant={variant!r})")
