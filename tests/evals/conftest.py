"""Fixtures of the evaluation tests: the seed corpus in a store with the hashing embedder (no model)."""

from __future__ import annotations

import pytest

from tests.conftest import SEEDS, make_settings
from vectorstore import open_store
from vectorstore.embedder import HashEmbedder


@pytest.fixture(scope="module")
def hash_store(tmp_path_factory):
    """seeds/ ingested with the hashing embedder, shared by the tests of one module (read-only)."""
    s = make_settings(tmp_path_factory.mktemp("eval-hash-index"), **{"embedding.model": "hash-256"})
    store = open_store(s, embedder=HashEmbedder(256))
    store.ingest([SEEDS])
    yield store
    store.close()
