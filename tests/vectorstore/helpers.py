"""Helpers shared by the store and reliability tests: a small corpus on disk and an independent look at
both sides of the index (Chroma ids, catalog rows, FTS rows)."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

SEEDS = Path(__file__).resolve().parents[2] / "seeds"
SEED_FILE = next(SEEDS.glob("*.md"))


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding=encoding)
    return path


def md(title: str, body: str, **meta: str) -> str:
    """A front-matter Markdown article."""
    lines = ["---", f"title: {json.dumps(title, ensure_ascii=False)}"]
    lines += [f"{k}: {json.dumps(v, ensure_ascii=False)}" for k, v in meta.items()]
    return "\n".join(lines) + "\n---\n\n" + body + "\n"


EN_BODY = (
    "The city council of Springfield approved a new budget for public libraries on Tuesday. "
    "The mayor said the money would pay for longer opening hours and new books.\n\n"
    "Critics argued that the plan ignores the cost of repairing old school buildings. "
    "A final vote on the school repairs is expected next month."
)
DE_BODY = (
    "Der Stadtrat von Musterhausen hat am Dienstag einen neuen Haushalt für die Stadtbibliotheken beschlossen. "
    "Die Bürgermeisterin sagte, das Geld werde für längere Öffnungszeiten und neue Bücher verwendet.\n\n"
    "Kritiker bemängelten, dass der Plan die Sanierung der alten Schulgebäude nicht berücksichtige. "
    "Eine Abstimmung über die Schulsanierung wird im nächsten Monat erwartet."
)
SPORT_BODY = (
    "Der Fußballverein Blauweiß gewann am Samstag sein Heimspiel mit drei zu eins. "
    "Der Trainer lobte die Abwehr und den jungen Torwart, der einen Elfmeter hielt.\n\n"
    "Mit dem Sieg steht der Verein wieder auf dem dritten Tabellenplatz."
)


def build_corpus(root: Path) -> Path:
    """Seed article + three front-matter articles (de/en, two sources, three dates) + a JSONL feed."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy(SEED_FILE, root / SEED_FILE.name)
    write(root / "en-library.md", md("Springfield approves library budget", EN_BODY, date="2024-03-05", source="Springfield Post", language="en"))
    write(root / "de-bibliothek.md", md("Musterhausen beschließt Bibliothekshaushalt", DE_BODY, date="2024-06-11", source="Lokalblatt"))
    write(root / "sub" / "sport.md", md("Blauweiß gewinnt Heimspiel", SPORT_BODY, date="2023-11-25", source="Lokalblatt"))
    records = [
        {"id": "r1", "title": "Hafen erweitert Containerterminal", "date": "12.01.2024", "source": "Wire",
         "text": "Der Hafen von Nordstadt erweitert sein Containerterminal um zwei Liegeplätze. Die Arbeiten beginnen im Frühjahr."},
        {"id": "r2", "title": "Airport opens new runway", "date": "2024-02-20", "source": "Wire",
         "text": "The airport of Northtown opened its third runway on Monday. Airlines expect fewer delays this summer."},
    ]
    write(root / "feed.jsonl", "\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n")
    return root


def index_state(store) -> dict:
    """Both sides of the index, read independently of the store's own bookkeeping."""
    chroma = store.dense._col.get(include=["metadatas"])
    state = {
        "chroma_ids": list(chroma["ids"]),
        "chroma_article": {i: m["article_id"] for i, m in zip(chroma["ids"], chroma["metadatas"])},
    }
    url = getattr(store.catalog, "url", None)
    return {**state, **(_postgres_state(url) if url else _sqlite_state(store.catalog.path))}


def _sqlite_state(path: Path) -> dict:
    db = sqlite3.connect(str(path))
    try:
        return {
            "chunk_ids": [r[0] for r in db.execute("SELECT chunk_id FROM chunks")],
            "chunk_article": dict(db.execute("SELECT chunk_id, article_id FROM chunks")),
            "fts_ids": [r[0] for r in db.execute("SELECT c.chunk_id FROM chunks_fts f JOIN chunks c ON c.rowid = f.rowid")],
            "fts_rows": db.execute("SELECT count(*) FROM chunks_fts").fetchone()[0],
            "articles": dict(db.execute("SELECT article_id, status FROM articles")),
            "sources": dict(db.execute("SELECT source_key, article_id FROM sources")),
        }
    finally:
        db.close()


def _postgres_state(url: str) -> dict:
    import psycopg

    with psycopg.connect(url) as db:
        chunks = db.execute("SELECT chunk_id, article_id, length(lex_stem) > 0 OR length(lex_name) > 0 FROM chunks").fetchall()
        return {
            "chunk_ids": [r[0] for r in chunks],
            "chunk_article": {r[0]: r[1] for r in chunks},
            "fts_ids": [r[0] for r in chunks if r[2]],
            # BM25's N, kept in step by every write: it must equal the rows.
            "fts_rows": int(db.execute("SELECT value FROM meta WHERE key = 'lexical_chunks'").fetchone()[0]),
            "articles": dict(db.execute("SELECT article_id, status FROM articles").fetchall()),
            "sources": dict(db.execute("SELECT source_key, article_id FROM sources").fetchall()),
        }


def assert_consistent(store) -> dict:
    """Chroma ids == catalog chunk ids == FTS rows; every article is done and has a source; no
    duplicates, no orphans. Returns the state for further checks."""
    st = index_state(store)
    assert len(st["chroma_ids"]) == len(set(st["chroma_ids"])), "duplicate ids in Chroma"
    assert len(st["chunk_ids"]) == len(set(st["chunk_ids"])), "duplicate chunk ids in the catalog"
    assert set(st["chroma_ids"]) == set(st["chunk_ids"]), "Chroma and catalog disagree"
    assert sorted(st["fts_ids"]) == sorted(st["chunk_ids"]) and st["fts_rows"] == len(st["chunk_ids"]), "FTS and catalog disagree"
    assert st["chroma_article"] == st["chunk_article"], "a Chroma id belongs to another article than in the catalog"
    assert set(st["articles"].values()) <= {"done"}, "pending articles left behind"
    assert set(st["chunk_article"].values()) == set(st["articles"]), "an article without chunks or chunks without article"
    assert set(st["sources"].values()) == set(st["articles"]), "an article without source or a source without article"
    stats = store.stats()
    assert stats["chunks"] == stats["chroma_chunks"] == stats["lexical_rows"] == len(st["chunk_ids"])
    assert stats["articles"] == len(st["articles"])
    return st
