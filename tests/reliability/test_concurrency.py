"""Concurrent use: a second ingest while one holds the lock gets IndexBusyError (in one process and
across processes); searches during an ingest work and only return stored, consistent passages."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import threading

import pytest

from assistant.errors import IndexBusyError
from tests.conftest import REPO, make_settings
from tests.reliability.corpus import build_corpus
from tests.vectorstore.helpers import assert_consistent
from vectorstore import open_store
from vectorstore.embedder import HashEmbedder


@pytest.fixture
def corpus(tmp_path):
    root = tmp_path / "corpus"
    build_corpus(root, random.Random(3))
    return root


def settings_for(tmp_path):
    # A small embedding batch makes the store flush every 64 chunks: several flushes per run.
    return make_settings(tmp_path / "index", **{"embedding.batch_size": 8})


def check_hit(store, hit) -> None:
    """A hit is a stored passage: its article is done and the passage is the article's text there."""
    assert store.catalog.article_status(hit.chunk.article_id) == "done", f"hit from an unfinished article: {hit.chunk.id}"
    text = store.catalog.article_text(hit.chunk.article_id)
    assert text[hit.chunk.start : hit.chunk.end] == hit.text
    assert hit.title and hit.chunk.meta["language"]


QUERIES = ["Kennung artikel3x1", "Sicherheitsgarantien Ukraine Trump", "Meldung Kennung artikel105x0", "Zelenskyy Wahlen"]


def test_search_during_ingest_and_second_ingest_in_one_process(tmp_path, corpus):
    settings = settings_for(tmp_path)
    store = open_store(settings, embedder=HashEmbedder(256))
    # Pause the ingest inside its first flush: the chunks are in Chroma and pending in the catalog.
    in_flush, go_on = threading.Event(), threading.Event()
    original_mark_done = store.catalog.mark_done
    calls = 0

    def mark_done(*args):
        nonlocal calls
        calls += 1
        if calls == 1:
            in_flush.set()
            assert go_on.wait(120)
        return original_mark_done(*args)

    store.catalog.mark_done = mark_done
    result: dict = {}

    def run():
        try:
            result["report"] = store.ingest([corpus])
        except BaseException as e:  # noqa: BLE001 - handed to the main thread
            result["error"] = e

    ingest = threading.Thread(target=run)
    ingest.start()
    try:
        assert in_flush.wait(120), result
        other = open_store(settings, embedder=HashEmbedder(256))
        with pytest.raises(IndexBusyError) as err:
            other.ingest([corpus])
        assert f"pid {os.getpid()}" in str(err.value) and str(tmp_path / "index") in str(err.value)
        # Mid-flush, nothing is stored yet as far as searches can tell, on either side.
        for s in (store, other):
            for mode in ("dense", "lexical", "hybrid"):
                for q in QUERIES:
                    for hit in s.search(q, k=10, mode=mode):
                        check_hit(s, hit)
        assert store.dense.count() > 0  # the pending chunks are in Chroma: the dense side saw them
    finally:
        go_on.set()

    # Searches keep working, and consistent, from another thread while the rest is ingested.
    errors: list[BaseException] = []
    searches = 0

    def searcher():
        nonlocal searches
        try:
            while ingest.is_alive() or searches < 20:
                for q in QUERIES:
                    for hit in store.search(q, k=5, mode=random.choice(["dense", "lexical", "hybrid"])):
                        check_hit(store, hit)
                    searches += 1
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    t = threading.Thread(target=searcher)
    t.start()
    ingest.join(300)
    t.join(300)
    assert not errors, errors[0]
    assert "error" not in result, result.get("error")
    assert len(result["report"].added) == 60
    assert_consistent(store)
    assert store.search("Kennung artikel3x1", k=1, mode="lexical")[0].title == "Artikel 3"
    # The lock is free again.
    assert other.ingest([corpus]).chunks_added == 0
    other.close()
    store.close()


@pytest.mark.slow
def test_second_ingest_process_is_refused_while_one_runs(tmp_path, corpus):
    index = tmp_path / "index"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    cmd = [sys.executable, "-m", "tests.reliability.ingest_worker", str(index), str(corpus)]
    first = subprocess.Popen([*cmd, "--pause-after", "5"], cwd=REPO, env=env, text=True,
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        for line in first.stdout:
            if line.strip() == "paused":
                break
        else:
            pytest.fail(f"the first worker never paused: {first.stderr.read()}")
        second = subprocess.run(cmd, cwd=REPO, env=env, text=True, capture_output=True, timeout=120)
        assert second.returncode == 3, second.stderr
        busy = second.stdout.strip().splitlines()[-1]
        assert busy.startswith("busy: another ingest is writing to") and f"pid {first.pid}" in busy
        first.stdin.write("\n")
        first.stdin.flush()
        out, err = first.communicate(timeout=120)
        assert first.returncode == 0, err
        assert out.strip().splitlines()[-1] == "done 60 0 0"
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    again = subprocess.run(cmd, cwd=REPO, env=env, text=True, capture_output=True, timeout=120)
    assert again.returncode == 0 and again.stdout.strip().splitlines()[-1] == "done 0 0 0", again.stderr
    store = open_store(make_settings(index), embedder=HashEmbedder(256))
    assert_consistent(store)
    store.close()
