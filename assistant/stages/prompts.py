"""Prompts live in files: ``<purpose>.<variant>.<lang>.txt`` or ``<purpose>.<lang>.txt``, installed with
the package as ``assistant.prompt_files`` (the top-level ``prompts/`` folder of the checkout), or read
from ``answering.prompts_dir`` when that is set. Each file has a ``[system]`` section, optional
``[example.user]``/``[example.assistant]`` demonstration pairs, and a ``[user]`` section. Variables are
``{name}``; they are checked when a prompt is loaded, and every prompt carries an id (a hash of its
file) that answers and evaluation runs record.
"""

from __future__ import annotations

import hashlib
import re
import string
from functools import lru_cache
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

from ..errors import ConfigError
from ..types import Prompt

REQUIRED = {"answer": {"context", "question"}, "condense": {"history", "question"}, "verify": {"evidence", "claim"},
    "answers": {"question", "evidence", "answer"},
}
PACKAGE = "assistant.prompt_files"


def _variables(template: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(template) if field}


_PLACEHOLDER = re.compile(r"(?<!\{)\{([A-Za-z_]\w*)\}(?!\})")


def _placeholders(literal: str) -> set[str]:
    """``{name}`` placeholders in a section that is taken literally (system text, demonstrations):
    there they would be a mistake. Other braces, such as JSON in a demonstration, are text."""
    return set(_PLACEHOLDER.findall(literal))


def parse_prompt(text: str, *, name: str, purpose: str, where: str) -> Prompt:
    """A prompt from a file's text; ConfigError naming ``where`` when it is malformed."""
    sections = re.split(r"^\[(system|user|example\.user|example\.assistant)\]\s*$", text, flags=re.MULTILINE)
    names = sections[1::2]
    if sections[0].strip() or not names or names[0] != "system" or names[-1] != "user" or names.count("user") != 1:
        raise ConfigError(f"{where}: a prompt file needs a [system] section first and one [user] section last")
    bodies = [b.strip() for b in sections[2::2]]
    system, user = bodies[0], bodies[-1]
    ex_names, ex_bodies = names[1:-1], bodies[1:-1]
    if ex_names != ["example.user", "example.assistant"] * (len(ex_names) // 2):
        raise ConfigError(f"{where}: examples must come as [example.user] then [example.assistant] pairs")
    if any(_placeholders(ex) for ex in ex_bodies):
        raise ConfigError(f"{where}: example sections must not have variables")
    if _placeholders(system):
        raise ConfigError(f"{where}: the [system] section must not have variables, found {sorted(_placeholders(system))}")
    found, required = _variables(user), REQUIRED.get(purpose, set())
    if found != required:
        raise ConfigError(
            f"{where}: required variables: {', '.join(sorted(required))}; the file has: {', '.join(sorted(found)) or 'none'}"
        )
    return Prompt(name=name, system=system, user=user, id=f"{name}@{_digest(text)}", examples=tuple(zip(ex_bodies[0::2], ex_bodies[1::2])))


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:10]


def prompt_folder(prompts_dir: Path | None = None) -> Traversable:
    """The folder prompts are read from: ``prompts_dir`` if given, else the installed prompt files."""
    if prompts_dir is not None:
        d = Path(prompts_dir).expanduser()
        if not d.is_dir():
            raise ConfigError(f"answering.prompts_dir {d}: no such folder")
        return d
    return files(PACKAGE)


@lru_cache(maxsize=64)
def _load(folder: Traversable, file: str, purpose: str) -> Prompt:
    text = (folder / file).read_text(encoding="utf-8")
    return parse_prompt(text, name=file.removesuffix(".txt"), purpose=purpose, where=str(folder / file))


def load_prompt(purpose: str, lang: str, variant: str = "default", prompts_dir: Path | None = None) -> Prompt:
    """Load ``<purpose>.<variant>.<lang>.txt`` (falling back to ``<purpose>.<lang>.txt``)."""
    folder = prompt_folder(prompts_dir)
    for file in (f"{purpose}.{variant}.{lang}.txt", f"{purpose}.{lang}.txt"):
        if (folder / file).is_file():
            return _load(folder, file, purpose)
    raise ConfigError(f"no prompt {purpose}.{variant}.{lang}.txt in {folder} (answering.prompt_variant={variant!r})")


def prompt_hashes(prompts_dir: Path | None = None) -> dict[str, str]:
    """File name -> sha256[:10] of every prompt file, for the record of an evaluation run."""
    folder = prompt_folder(prompts_dir)
    return {
        f.name: _digest(f.read_text(encoding="utf-8"))
        for f in sorted(folder.iterdir(), key=lambda f: f.name)
        if f.name.endswith(".txt")
    }
