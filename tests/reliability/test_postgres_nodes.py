"""Two app nodes, one index: each node has its own index folder, and they share a PostgreSQL catalog
(store.catalog_url) and a Chroma server (store.chroma_url). What one node ingests or removes, the
other finds or no longer finds; ingests from both serialise (IndexBusyError); an ingest killed
mid-write on one node is reconciled by the next ingest on the other, to what a clean ingest builds."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, make_settings
from tests.reliability.corpus import build_corpus as build_big_corpus
from tests.servers import chroma_server  # noqa: F401 - a fixture
from tests.vectorstore.helpers import assert_consistent, build_corpus
from vectorstore import open_store
from vectorstore.embedder import HashEmbedder
from vectorstore.errors import IndexBusyError

pytestmark = pytest.mark.e2e


def node(folder: Path, catalog_url: str, chroma_url: str, collection: str):
    """An app node's store: its own (otherwise empty) index folder, the shared servers."""
    settings = make_settings(folder, **{"embedding.model": "hash-256", "embedding.batch_size": 8, "store.catalog_url": catalog_url,
                                        "store.chroma_url": chroma_url, "store.collection": collection})
    return open_store(settings, embedder=HashEmbedder(256))


def worker(folder: Path, corpus: Path, catalog_url: str, chroma_url: str, collection: str, *extra: str) -> subprocess.Popen:
    """An ingest in another process (another node, in effect): tests/reliability/ingest_worker.py."""
    return subprocess.Popen(
        [sys.executable, "-m", "tests.reliability.ingest_worker", str(folder), str(corpus), "--catalog-url", catalog_url,
         "--chroma-url", chroma_url, "--collection", collection, *extra],
        cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, text=True,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )


def test_what_one_node_ingests_or_removes_the_other_sees(tmp_path, catalog_url, chroma_server):  # noqa: F811
    corpus = build_corpus(tmp_path / "corpus")
    a = node(tmp_path / "node-a", catalog_url, chroma_server.url, "two-nodes")
    b = node(tmp_path / "node-b", catalog_url, chroma_server.url, "two-nodes")
    assert len(a.ingest([corpus]).added) == 6
    hits = b.search("Wer hielt beim Heimspiel von Blauweiß den Elfmeter?", k=3)  # hybrid
    top = hits[0]
    assert top.title == "Blauweiß gewinnt Heimspiel" and top.lexical_rank == 1 and top.dense_score is not None
    assert b.search("Springfield library budget", k=1, mode="lexical")[0].title == "Springfield approves library budget"
    assert_consistent(b)
    assert b.remove(top.chunk.article_id) == [str((corpus / "sub" / "sport.md").resolve())]
    assert a.catalog.article_status(top.chunk.article_id) is None
    assert all(h.chunk.article_id != top.chunk.article_id for h in a.search("Heimspiel Torwart Elfmeter", k=5))
    assert a.stats()["articles"] == 5
    assert_consistent(a)
    # Nothing of the index lives in the nodes' folders: a node can be replaced by a fresh one.
    for folder in ("node-a", "node-b"):
        assert not (tmp_path / folder / "chroma").exists() and not (tmp_path / folder / "catalog.sqlite3").exists()
    a.close()
    b.close()


def test_ingests_from_two_nodes_serialise(tmp_path, catalog_url, chroma_server):  # noqa: F811
    corpus = build_corpus(tmp_path / "corpus")
    first = worker(tmp_path / "node-a", corpus, catalog_url, chroma_server.url, "serialise", "--pause-after", "2")
    b = node(tmp_path / "node-b", catalog_url, chroma_server.url, "serialise")
    try:
        for line in first.stdout:
            if line.strip() == "paused":
                break
        else:
            pytest.fail(f"the first worker never paused: {first.stderr.read()}")
        for attempt in (lambda: b.ingest([corpus]), lambda: b.remove("anything")):
            with pytest.raises(IndexBusyError) as err:
                attempt()
            assert "another ingest is writing to the catalog at" in str(err.value) and f"pid {first.pid}" in str(err.value)
        first.stdin.write("\n")
        first.stdin.flush()
        out, err = first.communicate(timeout=120)
        assert first.returncode == 0, err
        assert out.strip().splitlines()[-1] == "done 6 0 0"
    finally:
        if first.poll() is None:
            first.kill()
    # Once the first is done, the lock is free and everything is already there.
    assert b.ingest([corpus]).chunks_added == 0
    assert_consistent(b)
    b.close()


def test_an_ingest_killed_on_one_node_is_reconciled_by_the_other(tmp_path, postgres_server, chroma_server):  # noqa: F811
    corpus = tmp_path / "corpus"
    build_big_corpus(corpus, random.Random(7))
    shared = postgres_server.new_database("crash")
    # Killed right after the first Chroma write (its chunks pending in the catalog), then after the
    # second "done" of a later run: both leave the two sides out of step.
    for spec in ("dense.upsert:1", "catalog.mark_done:2"):
        proc = worker(tmp_path / "node-a", corpus, shared, chroma_server.url, "crash", "--die-after", spec)
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == -signal.SIGKILL, (spec, out, err)
    b = node(tmp_path / "node-b", shared, chroma_server.url, "crash")
    assert b.catalog.get_meta("dirty") == "1"
    b.ingest([corpus])
    clean = node(tmp_path / "clean", postgres_server.new_database("clean"), chroma_server.url, "clean")
    clean.ingest([corpus])
    got, want = assert_consistent(b), assert_consistent(clean)
    assert len(want["articles"]) == 60
    assert set(got["chroma_ids"]) == set(want["chroma_ids"]) and got["articles"] == want["articles"] and got["sources"] == want["sources"]
    for q in ("Kennung artikel7x1", "Sicherheitsgarantien Ukraine", "Meldung neu"):
        assert [round(s, 6) for _, s in b.catalog.search(q, 10)] == [round(s, 6) for _, s in clean.catalog.search(q, 10)]
        # Compared by scores: the corpus repeats sentences, and chunks with equal scores come in any order.
        assert [round(h.score, 5) for h in b.search(q, k=5)] == [round(h.score, 5) for h in clean.search(q, k=5)]
    b.close()
    clean.close()
