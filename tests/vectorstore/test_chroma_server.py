"""The dense side on a real Chroma server (`chroma run`), and what happens when the server is down."""

from __future__ import annotations

import pytest

from assistant.errors import StoreUnavailableError
from tests.conftest import make_settings
from tests.servers import ChromaServer, chroma_server, free_port  # noqa: F401 - a fixture
from tests.vectorstore.helpers import EN_BODY, assert_consistent, build_corpus, md, write
from vectorstore import open_store
from vectorstore.embedder import HashEmbedder


@pytest.mark.e2e
def test_ingest_search_and_reingest_through_a_chroma_server(chroma_server, tmp_path):
    corpus = build_corpus(tmp_path / "corpus")
    settings = make_settings(tmp_path / "index", **{"store.chroma_url": chroma_server.url, "store.collection": "e2e-news"})
    store = open_store(settings, embedder=HashEmbedder(256))
    assert store.stats()["chroma"] == chroma_server.url
    first = store.ingest([corpus])
    assert len(first.added) == 6 and not first.failed
    state = assert_consistent(store)
    assert not (tmp_path / "index" / "chroma").exists()  # nothing embedded on disk: the server holds the vectors

    hits = store.search("Heimspiel Torwart Elfmeter", k=3)
    assert hits[0].title == "Blauweiß gewinnt Heimspiel" and hits[0].dense_score is not None
    assert store.ingest([corpus]).chunks_added == 0

    write(corpus / "en-library.md", md("Springfield approves library budget", EN_BODY + "\n\nThe zeppelin hangar stays closed.",
                                       date="2024-03-05", source="Springfield Post", language="en"))
    (corpus / "sub" / "sport.md").unlink()
    rep = store.ingest([corpus])
    assert len(rep.replaced) == 1 and len(rep.removed) == 1
    after = assert_consistent(store)
    assert set(after["chroma_ids"]) != set(state["chroma_ids"])
    store.close()

    # Another client (another process, in effect) sees the same collection.
    again = open_store(settings, embedder=HashEmbedder(256))
    assert set(again.dense.ids()) == set(after["chroma_ids"])
    top = again.search("A final vote on the school repairs is expected next month. The zeppelin hangar stays closed.", k=1, mode="dense")[0]
    assert "zeppelin" in top.text and top.dense_score > 0.5
    again.close()


def test_unreachable_chroma_server_is_store_unavailable(tmp_path):
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    settings = make_settings(tmp_path / "index", **{"store.chroma_url": url})
    with pytest.raises(StoreUnavailableError) as err:
        open_store(settings, embedder=HashEmbedder(256))
    msg = str(err.value)
    assert url in msg and "\n" not in msg


@pytest.mark.e2e
def test_chroma_server_going_down_is_store_unavailable(tmp_path):
    server = ChromaServer(tmp_path / "data", tmp_path / "chroma.log")
    try:
        corpus = build_corpus(tmp_path / "corpus")
        settings = make_settings(tmp_path / "index", **{"store.chroma_url": server.url})
        store = open_store(settings, embedder=HashEmbedder(256))
        store.ingest([corpus])
    finally:
        server.stop()
    with pytest.raises(StoreUnavailableError) as err:
        store.search("Heimspiel Torwart", k=3, mode="dense")
    assert server.url in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(StoreUnavailableError):
        store.ingest([corpus])
    # The lexical side lives in the local catalog and still answers.
    assert store.search("Heimspiel Torwart", k=3, mode="lexical")
    store.close()
