"""A synthetic corpus of 60 articles (50 Markdown files and a 10-record JSONL feed) built from the seed
article's sentences, each with a unique marker sentence ("Kennung artikel7x1"), and a seeded mutation
that changes, deletes, adds and duplicates articles."""

from __future__ import annotations

import json
import random
from pathlib import Path

from tests.vectorstore.helpers import SEED_FILE, md, write
from vectorstore.loader import load_file

SENTENCES = [s.strip() + "." for s in load_file(SEED_FILE).articles[0].text.replace("\n", " ").split(". ") if len(s) > 30]


def article_body(rng: random.Random, n: int) -> str:
    paras = []
    for p in range(rng.randint(3, 6)):
        sents = [rng.choice(SENTENCES) for _ in range(rng.randint(2, 6))]
        sents.insert(rng.randrange(len(sents) + 1), f"Kennung artikel{n}x{p} steht hier.")
        paras.append(" ".join(sents))
    return "\n\n".join(paras)


def build_corpus(root: Path, rng: random.Random) -> None:
    for n in range(50):
        write(root / f"a{n:02d}.md", md(f"Artikel {n}", article_body(rng, n), date=f"2024-{1 + n % 12:02d}-{1 + n % 28:02d}",
                                         source=rng.choice(["Wire", "Lokalblatt"])))
    recs = [{"id": f"r{n}", "title": f"Meldung {n}", "text": article_body(rng, 100 + n)} for n in range(10)]
    write(root / "feed.jsonl", "\n".join(json.dumps(r, ensure_ascii=False) for r in recs) + "\n")


def mutate(root: Path, rng: random.Random, round_: int) -> None:
    """Change, delete and add articles, and edit the feed, so that killed runs also replace and remove."""
    files = sorted(root.glob("a*.md"))
    for f in rng.sample(files, 3):
        write(f, md(f.stem + " neu", article_body(rng, 1000 + round_), date="2025-01-01"))
    for f in rng.sample([f for f in files if f.exists()], 2):
        f.unlink()
    write(root / f"new{round_}.md", md(f"Neu {round_}", article_body(rng, 2000 + round_)))
    write(root / f"copy{round_}.md", (root / f"new{round_}.md").read_text(encoding="utf-8"))  # a duplicate
    recs = [json.loads(line) for line in (root / "feed.jsonl").read_text(encoding="utf-8").splitlines()]
    recs = recs[1:] + [{"id": f"r{100 + round_}", "title": f"Meldung neu {round_}", "text": article_body(rng, 3000 + round_)}]
    recs[0]["text"] += " Nachtrag."
    write(root / "feed.jsonl", "\n".join(json.dumps(r, ensure_ascii=False) for r in recs) + "\n")
