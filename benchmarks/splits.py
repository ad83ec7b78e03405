"""Dev and test halves of every set, by article (the one rule; ``evals.splits`` adds the checker records).

A check is justified by its gain on data it never saw, so every answering and verifier set is split
into a ``dev`` half (develop, tune, train and read it freely) and a ``test`` half (report it, never
read its items). The split is by article (XQuAD: by topic), so that no test article's wording leaks
into development through another question about it, and it is a hash, so it is the same on every
machine and needs no list of ids:

    >>> split_of("xquad", "Super_Bowl_50")
    'dev'

The seed set is one article: it is all ``dev``.
"""

from __future__ import annotations

import hashlib
from typing import Literal

Split = Literal["dev", "test"]
SPLITS: tuple[Split, ...] = ("dev", "test")


def article_key(source: str, article: str | int) -> str:
    """The key an article is split by: ``xquad:<topic title>``, ``10kgnad:<row>``, ``mlqa:<title>``."""
    if source == "10kgnad":
        article = int(article)
    return f"{source}:{article}"


def split_of(source: str, article: str | int) -> Split:
    """``dev`` or ``test`` for an article of ``source`` (the seed article is always ``dev``)."""
    if source == "seed":
        return "dev"
    digest = hashlib.sha256(article_key(source, article).encode("utf-8")).digest()
    return "dev" if digest[0] % 2 == 0 else "test"
