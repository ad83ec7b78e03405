"""The store with the hashing embedder: incremental ingest, replacement, removal, filters on both
sides, stats, and the embedding-model guard."""

from __future__ import annotations

import json
import sqlite3

import numpy as np
import pytest

from assistant.errors import ConfigError, IndexMismatchError, QuestionError
from tests.conftest import make_settings
from tests.vectorstore.helpers import EN_BODY, assert_consistent, md, write
from vectorstore import Filters, open_store
from vectorstore.chunker import chunk_article
from vectorstore.embedder import HashEmbedder
from vectorstore.loader import iter_article_files, load_file


def expected_chunks(corpus, settings) -> set[str]:
    ids = set()
    for f in iter_article_files(corpus):
        for art in load_file(f.resolve()).articles:
            ids |= {c.id for c in chunk_article(art, settings.chunking.max_tokens, settings.chunking.overlap_tokens)}
    return ids


def fts_chunk_ids(store) -> set[str]:
    db = sqlite3.connect(str(store.catalog.path))
    try:
        return {r[0] for r in db.execute("SELECT c.chunk_id FROM chunks_fts f JOIN chunks c ON c.rowid = f.rowid")}
    finally:
        db.close()


def test_ingest_then_reingest_is_idempotent(store, corpus, hash_settings):
    calls = []
    first = store.ingest([corpus], progress=lambda *a: calls.append(a))
    assert not first.failed and not first.duplicates
    assert len(first.added) == 6  # 4 Markdown files + 2 JSONL records
    state = assert_consistent(store)
    assert set(state["chunk_ids"]) == expected_chunks(corpus, hash_settings)
    assert first.chunks_added == len(state["chunk_ids"])
    assert calls[-1][:2] == (5, 5) and calls[-1][2] == first.chunks_added

    again = store.ingest([corpus])
    assert (again.added, again.replaced, again.removed, again.chunks_added, again.chunks_removed) == ([], [], [], 0, 0)
    assert sorted(again.unchanged) == sorted(first.added)
    assert assert_consistent(store)["chunk_ids"] == state["chunk_ids"]

    # A second Store object on the same folder (a new process, in effect) sees the same index.
    store.close()
    reopened = open_store(hash_settings, embedder=HashEmbedder(256))
    try:
        assert reopened.ingest([corpus]).chunks_added == 0
        assert set(assert_consistent(reopened)["chunk_ids"]) == set(state["chunk_ids"])
    finally:
        reopened.close()


def test_changed_article_replaces_its_chunks_on_both_sides(store, corpus):
    store.ingest([corpus])
    path = corpus / "en-library.md"
    key = str(path.resolve())
    old_ids = {c.id for c in store.catalog.chunks(store.catalog.chunk_ids()).values() if c.title == "Springfield approves library budget"}
    assert old_ids
    write(path, md("Springfield approves library budget", EN_BODY.replace("longer opening hours", "a zeppelinhangar"),
                   date="2024-03-05", source="Springfield Post", language="en"))
    rep = store.ingest([corpus])
    assert rep.replaced == [key] and not rep.added and not rep.removed
    assert rep.chunks_removed == len(old_ids)
    state = assert_consistent(store)
    assert not old_ids & set(state["chroma_ids"])
    assert not old_ids & fts_chunk_ids(store)
    hits = store.search("zeppelinhangar", k=3, mode="lexical")
    assert hits and "zeppelinhangar" in hits[0].text
    assert all("longer opening hours" not in h.text for h in store.search("longer opening hours", k=50, mode="lexical"))
    assert all(h.chunk.id not in old_ids for h in store.search("Springfield library budget", k=50, mode="dense"))


def test_metadata_change_alone_replaces_the_article(store, corpus):
    store.ingest([corpus])
    path = corpus / "sub" / "sport.md"
    path.write_text(path.read_text(encoding="utf-8").replace("2023-11-25", "2023-11-26"), encoding="utf-8")
    rep = store.ingest([corpus])
    assert rep.replaced == [str(path.resolve())]
    (hit,) = store.search("Heimspiel Torwart Elfmeter", k=1, mode="lexical")
    assert hit.date == "2023-11-26"
    assert_consistent(store)


def test_deleted_file_leaves_the_index(store, corpus):
    store.ingest([corpus])
    victim = corpus / "sub" / "sport.md"
    key = str(victim.resolve())
    victim.unlink()
    rep = store.ingest([corpus])
    assert rep.removed == [key] and rep.chunks_removed > 0
    assert_consistent(store)
    assert not store.search("Heimspiel Torwart Elfmeter", k=5, mode="lexical")
    assert "Blauweiß gewinnt Heimspiel" not in {a["title"] for a in store.articles()}


def test_ingesting_one_file_keeps_its_neighbours(store, corpus):
    store.ingest([corpus])
    before = assert_consistent(store)
    rep = store.ingest([corpus / "en-library.md"])
    assert rep.unchanged == [str((corpus / "en-library.md").resolve())] and not rep.removed
    assert assert_consistent(store)["chunk_ids"] == before["chunk_ids"]


def test_removed_jsonl_record_leaves_the_index(store, corpus):
    store.ingest([corpus])
    feed = corpus / "feed.jsonl"
    records = [json.loads(line) for line in feed.read_text(encoding="utf-8").splitlines()]
    feed.write_text(json.dumps(records[0], ensure_ascii=False) + "\n", encoding="utf-8")
    rep = store.ingest([corpus])
    assert rep.removed == [f"{feed.resolve()}#r2"]
    assert not rep.added and not rep.replaced
    assert_consistent(store)
    assert not store.search("runway airlines delays", k=5, mode="lexical")
    assert store.search("Containerterminal Liegeplätze", k=5, mode="lexical")


def test_jsonl_records_without_id_survive_removal_of_an_earlier_line(store, tmp_path):
    feed = tmp_path / "c" / "feed.jsonl"
    recs = [{"title": f"Meldung {i}", "text": f"Die Meldung Nummer {i} handelt vom Thema{i}."} for i in range(3)]
    write(feed, "\n".join(json.dumps(r) for r in recs) + "\n")
    store.ingest([feed.parent])
    write(feed, "\n".join(json.dumps(r) for r in (recs[0], recs[2])) + "\n")
    store.ingest([feed.parent])
    state = assert_consistent(store)
    assert sorted(a["title"] for a in store.articles()) == ["Meldung 0", "Meldung 2"]
    assert len(state["sources"]) == 2


@pytest.mark.parametrize("mode", ["dense", "lexical", "hybrid"])
def test_filters_apply_on_each_side(store, corpus, mode):
    store.ingest([corpus])
    q = "Stadtrat Haushalt Bibliothek library budget Hafen airport runway Heimspiel Trump Ukraine"
    everything = store.search(q, k=50, mode=mode)
    assert {h.source for h in everything} >= {"Lokalblatt", "Springfield Post", "Wire"}

    cases = [
        (Filters(source="Lokalblatt"), lambda h: h.source == "Lokalblatt"),
        (Filters(language="en"), lambda h: h.language == "en"),
        (Filters(language="de"), lambda h: h.language == "de"),
        (Filters(date_from="2024-01-01", date_to="2024-03-31"), lambda h: "2024-01-01" <= h.date <= "2024-03-31"),
        (Filters(date_from="2025-01-01"), lambda h: h.date >= "2025-01-01"),
        (Filters(source="Wire", language="en"), lambda h: h.source == "Wire" and h.language == "en"),
    ]
    for f, ok in cases:
        hits = store.search(q, k=50, filters=f, mode=mode)
        assert hits, f
        assert all(ok(h) for h in hits), (f, [(h.source, h.language, h.date) for h in hits])
        # Nothing the filter allows is missing: the unfiltered hits that match it all come back.
        assert {h.chunk.id for h in everything if ok(h)} <= {h.chunk.id for h in hits}, f
    assert not store.search(q, k=50, filters=Filters(source="Nirgendwo"), mode=mode)
    assert not store.search(q, k=50, filters=Filters(date_to="2000-01-01"), mode=mode)


def test_date_filter_excludes_undated_articles(store, tmp_path):
    write(tmp_path / "c" / "undated.md", md("Ohne Datum", "Der Artikel über Windräder hat kein Datum."))
    write(tmp_path / "c" / "dated.md", md("Mit Datum", "Der Artikel über Windräder hat ein Datum.", date="2024-05-01"))
    store.ingest([tmp_path / "c"])
    for mode in ("dense", "lexical"):
        hits = store.search("Windräder Artikel Datum", k=10, filters=Filters(date_from="2024-01-01"), mode=mode)
        assert [h.title for h in hits] == ["Mit Datum"]


def test_bad_search_arguments_are_question_errors(store, corpus):
    store.ingest([corpus])
    with pytest.raises(QuestionError, match="date_from"):
        store.search("x y", filters=Filters(date_from="18.08.2025"))
    with pytest.raises(QuestionError, match="after date_to"):
        store.search("x y", filters=Filters(date_from="2025-01-02", date_to="2025-01-01"))


def test_stats_agree_across_sides(store, corpus):
    store.ingest([corpus])
    stats = store.stats()
    assert stats["articles"] == 6
    assert stats["chunks"] == stats["chroma_chunks"] == stats["lexical_rows"] > 6
    assert stats["embedding_model"] == "hash-256"
    assert sum(a["chunks"] for a in store.articles()) == stats["chunks"]


def test_missing_path_is_a_config_error(store, tmp_path):
    with pytest.raises(ConfigError, match="no such file or folder"):
        store.ingest([tmp_path / "nope"])


def test_other_embedding_model_is_refused_until_rebuild(tmp_path, corpus):
    from tests.conftest import make_settings

    settings = make_settings(tmp_path / "index")
    s256 = open_store(settings, embedder=HashEmbedder(256))
    s256.ingest([corpus])
    n = s256.stats()["chunks"]
    s256.close()

    s128 = open_store(settings, embedder=HashEmbedder(128))
    with pytest.raises(IndexMismatchError) as err:
        s128.ingest([corpus])
    msg = str(err.value)
    assert "hash-256" in msg and "hash-128" in msg and "assistant ingest --rebuild" in msg and "\n" not in msg
    with pytest.raises(IndexMismatchError, match="assistant ingest --rebuild"):
        s128.search("Trump Ukraine")
    assert s128.stats()["chunks"] == n  # a refused run changes nothing

    rep = s128.ingest([corpus], rebuild=True)
    assert len(rep.added) == 6 and not rep.failed
    state = assert_consistent(s128)
    assert len(state["chunk_ids"]) == n
    assert s128.stats()["embedding_model"] == "hash-128"
    assert store_dim(s128) == 128
    assert s128.search("Heimspiel Torwart", k=1, mode="dense")[0].title == "Blauweiß gewinnt Heimspiel"
    s128.close()

    # And now the old model is the stranger.
    with pytest.raises(IndexMismatchError):
        open_store(settings, embedder=HashEmbedder(256)).ingest([corpus])


def store_dim(store) -> int:
    got = store.dense._col.get(limit=1, include=["embeddings"])
    return len(got["embeddings"][0])


def test_rebuild_with_same_model_starts_from_scratch(store, corpus):
    store.ingest([corpus])
    before = assert_consistent(store)
    (corpus / "sub" / "sport.md").unlink()
    rep = store.ingest([corpus / "en-library.md"], rebuild=True)
    assert rep.added == [str((corpus / "en-library.md").resolve())]
    state = assert_consistent(store)
    assert len(state["articles"]) == 1 and set(state["chunk_ids"]) < set(before["chunk_ids"])


def test_overlapping_paths_ingest_each_file_once(store, corpus):
    rep = store.ingest([corpus, corpus / "sub", corpus / "en-library.md", corpus])
    assert len(rep.added) == 6 and not rep.duplicates and not rep.unchanged
    assert_consistent(store)
    again = store.ingest([corpus / "sub", corpus])
    assert len(again.unchanged) == 6 and not again.duplicates and not again.removed


def test_bad_queries_are_question_errors(store):
    cases = [("", 5, "empty"), ("   \x00\x07 ", 5, "empty"), ("x" * 2001, 5, "too long"), (42, 5, "must be text"),
             ("Trump", 0, "k must be"), ("Trump", 51, "k must be")]
    for query, k, match in cases:
        with pytest.raises(QuestionError, match=match):
            store.search(query, k=k)


def test_fused_embedder_searches_as_one_index(tmp_path, corpus):
    """Two models side by side in one Chroma collection: scores are cos_a + w * cos_b, the reported
    dense score is the first model's cosine, and the index is tagged with both names."""
    from vectorstore.embedder import FusedEmbedder, make_embedder

    fused = make_embedder("hash-64+hash-128", cache_dir=tmp_path, second_weight=0.5)
    assert isinstance(fused, FusedEmbedder) and fused.name == "hash-64+hash-128"
    s = open_store(make_settings(tmp_path / "index", **{"embedding.model": "hash-64+hash-128"}), embedder=fused)
    s.ingest([corpus])
    q = "Stadtrat Haushalt Bibliotheken"
    hits = s.search(q, k=3, mode="dense")
    a, b = HashEmbedder(64), HashEmbedder(128)
    texts = [h.chunk.embedding_text() for h in hits]
    cos_a = a.embed(texts) @ a.embed([q], "query")[0]
    cos_b = b.embed(texts) @ b.embed([q], "query")[0]
    assert [h.score for h in hits] == pytest.approx((cos_a + 0.5 * cos_b).tolist(), abs=1e-3)
    assert [h.dense_score for h in hits] == pytest.approx(cos_a.tolist(), abs=1e-3)
    assert s.stats()["embedding_model"].startswith("hash-64+hash-128")
    s.close()


def test_fused_query_vectors_are_cached_and_the_same_as_computed(tmp_path):
    """A question is embedded once: the search, the context builder and a repeated question reuse
    its vector, which is exactly the fused formula's; the two models run side by side for it."""
    from vectorstore.embedder import FusedEmbedder

    class Counting(HashEmbedder):
        def __init__(self, dim):
            super().__init__(dim)
            self.texts: list[str] = []

        def embed(self, texts, kind="passage"):
            self.texts += list(texts)
            return super().embed(texts, kind)

    a, b = Counting(64), Counting(32)
    fused = FusedEmbedder(a, b, 0.5)
    first = fused.embed(["Wo traf Trump Putin?", "Wer kam?", "Wo traf Trump Putin?"], "query")
    again = fused.embed(["Wer kam?", "Wo traf Trump Putin?"], "query")
    assert a.texts == b.texts == ["Wo traf Trump Putin?", "Wer kam?"]  # each embedded once
    plain_a, plain_b = HashEmbedder(64).embed(["Wer kam?"], "query"), HashEmbedder(32).embed(["Wer kam?"], "query")
    expected = np.hstack([plain_a, 0.5 * plain_b]) / np.sqrt(1.25)
    assert np.allclose(again[0], expected[0], atol=1e-7) and np.array_equal(first[1], again[0])
    assert np.array_equal(first[0], first[2]) and fused.embed([], "query").shape == (0, 96)
    for i in range(FusedEmbedder.QUERY_CACHE + 1):  # the cache is bounded: the oldest question goes first
        fused.embed([f"q{i}"], "query")
    fused.embed(["Wo traf Trump Putin?"], "query")
    assert a.texts.count("Wo traf Trump Putin?") == 2


@pytest.mark.parametrize("model", ["e5-small+", "+use", "a+b+c"])
def test_malformed_fused_model_name_is_a_model_error(tmp_path, model):
    from assistant.errors import ModelError
    from vectorstore.embedder import make_embedder

    with pytest.raises(ModelError, match="embedding.model"):
        make_embedder(model, cache_dir=tmp_path)
