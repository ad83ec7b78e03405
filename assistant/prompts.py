"""Prompts live in files under ``prompts/``: ``<purpose>.<variant>.<lang>.txt`` or ``<purpose>.<lang>.txt``,
each with a ``[system]`` and a ``[user]`` section. Variables are ``{name}``; they are checked when a
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

    def messages(self, **values: str) -> list[dict[str, str]]:
        return [{"role": "system", "content": self.system}, {"role": "user", "content": self.user.format(**values)}]


def _variables(template: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(template) if field}


@lru_cache(maxsize=64)
def _load(path: Path, purpose: str) -> Prompt:
    text = path.read_text(encoding="utf-8")
    m = re.fullmatch(r"\s*\[system\]\n(.*?)\n\[user\]\n(.*)", text, re.DOTALL)
    if not m:
        raise ConfigError(f"{path}: a prompt file needs a [system] section followed by a [user] section")
    system, user = m.group(1).strip(), m.group(2).strip()
    if _variables(system):
        raise ConfigError(f"{path}: the [system] section must not have variables, found {sorted(_variables(system))}")
    found, required = _variables(user), REQUIRED.get(purpose, set())
    if found != required:
        raise ConfigError(
            f"{path}: required variables: {', '.join(sorted(required))}; the file has: {', '.join(sorted(found)) or 'none'}"
        )
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:10]
    return Prompt(name=path.stem, path=path, system=system, user=user, id=f"{path.stem}@{digest}")


def load_prompt(prompts_dir: Path, purpose: str, lang: str, variant: str = "default") -> Prompt:
    """Load ``<purpose>.<variant>.<lang>.txt`` (falling back to ``<purpose>.<lang>.txt``)."""
    d = Path(prompts_dir)
    for name in (f"{purpose}.{variant}.{lang}.txt", f"{purpose}.{lang}.txt"):
        if (d / name).is_file():
            return _load(d / name, purpose)
    raise ConfigError(f"no prompt {purpose}.{variant}.{lang}.txt in {d} (answering.prompt_variant={variant!r})")
