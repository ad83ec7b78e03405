"""Fixtures for the foundation tests: a small corpus on disk and stores with the hashing embedder."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import make_settings
from tests.vectorstore.helpers import build_corpus
from vectorstore import open_store
from vectorstore.embedder import HashEmbedder


@pytest.fixture
def corpus(tmp_path) -> Path:
    return build_corpus(tmp_path / "corpus")


@pytest.fixture
def hash_settings(tmp_path):
    return make_settings(tmp_path / "index", **{"embedding.model": "hash-256"})


@pytest.fixture
def store(hash_settings):
    s = open_store(hash_settings, embedder=HashEmbedder(256))
    yield s
    s.close()
