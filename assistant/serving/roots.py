"""Which server paths the UI may ingest: only those that resolve, symlinks followed, inside one of
``ui.ingest_roots``. Without roots, server paths are off. Every article file under an accepted folder
is checked too, so a symlink inside a root cannot point the ingest at a file outside it.

    >>> allowed_path("/srv/news/today", [Path("/srv/news")])
    PosixPath('/srv/news/today')
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from vectorstore.loader import iter_article_files

from ..errors import AccessDeniedError

OFF = "server paths are off: set ui.ingest_roots (NEWSQA_UI__INGEST_ROOTS) to allow folders"


def _inside(path: Path, roots: Sequence[Path]) -> bool:
    return any(path == r or path.is_relative_to(r) for r in roots)


def resolved_roots(roots: Sequence[Path | str]) -> list[Path]:
    """The roots as real paths (a root that does not exist allows nothing)."""
    out = []
    for r in roots:
        try:
            out.append(Path(r).expanduser().resolve(strict=True))
        except OSError:
            continue
    return out


def allowed_path(path: str | Path, roots: Sequence[Path | str], never_ingest: Sequence[Path | str] = ()) -> Path:
    """``path`` resolved, when it and every article file under it lie inside one of ``roots``;
    otherwise ``AccessDeniedError`` with one line naming the setting. ``never_ingest`` (the index
    folder, the accounts file, the audit log) is refused even inside a root, and so is a folder that
    holds one of them. The caller ingests the returned (resolved) path, not the one typed."""
    if not roots:
        raise AccessDeniedError(OFF)
    real_roots = resolved_roots(roots)
    typed = Path(str(path).strip()).expanduser()
    if not typed.is_absolute():
        raise AccessDeniedError(f"{path}: give an absolute path inside ui.ingest_roots")
    outside = AccessDeniedError(f"{path}: not inside ui.ingest_roots (NEWSQA_UI__INGEST_ROOTS)")
    try:
        real = typed.resolve(strict=True)
    except (OSError, RuntimeError):  # missing, unreadable, or a symlink loop
        # Outside the roots this reads like any other refusal: it must not tell what exists there.
        lexical = Path(os.path.normpath(typed))
        if _inside(lexical, real_roots) or _inside(lexical, [Path(os.path.normpath(Path(r).expanduser())) for r in roots]):
            raise AccessDeniedError(f"{path}: no such file or folder inside ui.ingest_roots") from None
        raise outside from None
    if not _inside(real, real_roots):
        raise outside
    never = [Path(os.path.realpath(p)) for p in never_ingest]
    if any(_inside(n, [real]) or _inside(real, [n]) for n in never):
        raise AccessDeniedError(f"{path}: holds the index, the accounts or the audit log, which are never ingested")
    for f in iter_article_files(real):
        try:
            target = f.resolve(strict=True)
        except (OSError, RuntimeError):
            continue  # a dangling link: the loader reports it as unreadable
        if not _inside(target, real_roots):
            raise AccessDeniedError(
                f"{path}: {f.relative_to(real) if f != real else f.name} points outside ui.ingest_roots; remove the link or add its folder"
            )
    return real
