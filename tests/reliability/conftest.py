"""Fixtures for the ingest reliability tests: a store with the hashing embedder in a temporary folder."""

from __future__ import annotations

import pytest

from tests.conftest import make_settings
from vectorstore import open_store
from vectorstore.embedder import HashEmbedder


@pytest.fixture
def hash_settings(tmp_path):
    return make_settings(tmp_path / "index", **{"embedding.model": "hash-256"})


@pytest.fixture
def store(hash_settings):
    s = open_store(hash_settings, embedder=HashEmbedder(256))
    yield s
    s.close()
