"""8 concurrent client sessions against the served app with the real small GGUF: no errors, no
cross-talk. Latency percentiles go to test-artifacts/load.json (figures live in benchmarks/, not here)."""

from __future__ import annotations

import json

import pytest

from assistant.types import REFUSAL
from benchmarks.load import run_load, start_app
from vectorstore.language import detect_language
from vectorstore.text import parse_markers
from tests.conftest import MODEL_CACHE, REPO

pytestmark = [pytest.mark.slow, pytest.mark.e2e, pytest.mark.models]


def test_eight_concurrent_sessions(tmp_path):
    app, url = start_app("qwen2.5-coder-0.5b", str(MODEL_CACHE))
    try:
        r = run_load(url, sessions=8, per_session=1, timeout_s=900)
    finally:
        app.close()
    out = REPO / "test-artifacts"
    out.mkdir(exist_ok=True)
    (out / "load.json").write_text(json.dumps(r, ensure_ascii=False, indent=1))
    assert r["requests"] == 8
    assert r["errors"] == 0, [row for row in r["rows"] if not row.get("ok")]
    assert r["crosstalk"] == 0
    # each session got the answer to its own question: a refusal in the question's language, or a
    # cited answer
    for row in r["rows"]:
        lang = detect_language(row["question"])
        if row["abstained"]:
            assert row["text"] == REFUSAL[lang], row
        else:
            assert parse_markers(row["text"]), row
