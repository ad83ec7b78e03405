"""Crash safety: ingest processes killed with SIGKILL at random points (seeded), while the corpus
changes between runs, then one run to completion, must leave exactly the index a clean ingest of
the final corpus builds: same chunk ids in Chroma, the catalog and FTS, same vectors, no orphans, no
duplicates."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import REPO, make_settings
from tests.reliability.corpus import build_corpus, mutate
from tests.vectorstore.helpers import assert_consistent
from vectorstore import open_store
from vectorstore.embedder import HashEmbedder

pytestmark = pytest.mark.slow


def worker(index: Path, corpus: Path, *extra: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [sys.executable, "-m", "tests.reliability.ingest_worker", str(index), str(corpus), *extra],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


# Calls after which a worker kills itself: each leaves the catalog and Chroma out of step.
WRITE_SITES = ["catalog.add_pending", "dense.upsert", "catalog.mark_done"]
DELETE_SITES = ["catalog.delete_article", "dense.delete", "catalog.unlink_source", "catalog.link_source"]


def run_and_kill(index: Path, corpus: Path, rng: random.Random, site: str | None) -> str:
    """Start a worker and SIGKILL it: from inside, right after the n-th call of ``site``, or (site
    None) from outside, after it opened the store or reported the n-th file, plus a few random ms."""
    if site:
        spec = f"{site}:{rng.randint(1, 2)}"
        proc = worker(index, corpus, "--die-after", spec)
        out, err = proc.communicate(timeout=120)
        assert proc.returncode in (-signal.SIGKILL, 0), err
        return f"{spec} ({'killed' if proc.returncode else 'never reached'})"
    proc = worker(index, corpus)
    n_files = len(list(corpus.iterdir()))
    kill_after = rng.randint(0, n_files)  # 0: right after opening (reconcile, first files)
    delay = rng.uniform(0, 0.05)
    seen = ""
    for line in proc.stdout:
        seen = line.strip()
        if seen == "opened" and kill_after == 0 or seen.startswith("progress") and int(seen.split()[1]) >= kill_after:
            time.sleep(delay)
            break
        if seen.startswith("done"):
            break
    proc.send_signal(signal.SIGKILL)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode in (-signal.SIGKILL, 0), err
    return f"after '{seen}' +{delay * 1000:.0f}ms" if proc.returncode else "finished before the kill"


def chroma_vectors(store) -> dict[str, np.ndarray]:
    got = store.dense._col.get(include=["embeddings", "documents"])
    return {i: (np.asarray(e), d) for i, e, d in zip(got["ids"], got["embeddings"], got["documents"])}


def test_killed_ingests_converge_to_a_clean_ingest(tmp_path):
    rng = random.Random(20250818)
    corpus = tmp_path / "corpus"
    build_corpus(corpus, rng)
    index = tmp_path / "crashed"
    kills = []
    # First build the index under kills, then change the corpus before every run so that replacing
    # and removing are killed too. Every write site is hit once; None is a kill from outside.
    first = [None, "dense.upsert", "catalog.add_pending", None]
    later = rng.sample(DELETE_SITES + ["catalog.mark_done", None, None], 7)
    for round_, site in enumerate(first + later):
        if round_ >= len(first):
            mutate(corpus, rng, round_)
        kills.append(run_and_kill(index, corpus, rng, site))
    proc = worker(index, corpus)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    assert out.strip().splitlines()[-1].startswith("done")

    crashed = open_store(make_settings(index), embedder=HashEmbedder(256))
    clean = open_store(make_settings(tmp_path / "clean"), embedder=HashEmbedder(256))
    clean.ingest([corpus])
    a, b = assert_consistent(crashed), assert_consistent(clean)
    assert len(b["articles"]) >= 50 and len(b["chunk_ids"]) > 200
    assert set(a["chroma_ids"]) == set(b["chroma_ids"]), kills
    assert set(a["chunk_ids"]) == set(b["chunk_ids"]) and sorted(a["fts_ids"]) == sorted(b["fts_ids"])
    assert a["articles"] == b["articles"]
    assert a["sources"] == b["sources"]
    va, vb = chroma_vectors(crashed), chroma_vectors(clean)
    for cid, (vec, doc) in vb.items():
        assert doc == va[cid][1]
        assert np.allclose(vec, va[cid][0], atol=1e-6), cid
    # And the crashed index answers like the clean one.
    for q in ("Kennung artikel7x1", "Sicherheitsgarantien Ukraine", "Meldung neu"):
        # Compared by scores: the corpus repeats sentences, and chunks with equal scores come in any order.
        da = [round(h.dense_score, 5) for h in crashed.search(q, k=10, mode="dense")]
        assert da == [round(h.dense_score, 5) for h in clean.search(q, k=10, mode="dense")]
        la = [round(s, 6) for _, s in crashed.catalog.search(q, 10)]
        assert la and la == [round(s, 6) for _, s in clean.catalog.search(q, 10)]
    crashed.close()
    clean.close()
    print("kill points:", kills)
