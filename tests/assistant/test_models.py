"""GGUF assembly from PyPI part packages: hash check, missing parts, bad files."""

from __future__ import annotations

import dataclasses
import hashlib

import pytest

from assistant.backends import models
from assistant.backends.llamacpp import LlamaCppChat
from assistant.errors import ModelError


def test_small_model_is_assembled_and_verified(small_gguf):
    assert small_gguf.is_file() and small_gguf.read_bytes()[:4] == b"GGUF"
    h = hashlib.sha256()
    with small_gguf.open("rb") as f:
        while block := f.read(1 << 22):
            h.update(block)
    assert h.hexdigest() == models.MODELS["qwen2.5-coder-0.5b"].sha256


def test_missing_part_packages_are_named(tmp_path, monkeypatch):
    spec = dataclasses.replace(models.MODELS["qwen2.5-coder-0.5b"], module="no_such_pkg_part", package="no-such-pkg-part")
    monkeypatch.setitem(models.MODELS, "broken", spec)
    with pytest.raises(ModelError, match=r"6 of 6 part packages missing \(no-such-pkg-part1"):
        models.ensure_gguf("broken", tmp_path)


def test_wrong_hash_is_refused_and_nothing_is_left_behind(tmp_path, monkeypatch):
    spec = dataclasses.replace(models.MODELS["qwen2.5-coder-0.5b"], sha256="0" * 64, filename="x.gguf")
    monkeypatch.setitem(models.MODELS, "corrupt", spec)
    with pytest.raises(ModelError, match="expected 000000000000"):
        models.ensure_gguf("corrupt", tmp_path)
    assert list((tmp_path / "models").iterdir()) == []


def test_unknown_name_and_non_gguf_file(tmp_path):
    with pytest.raises(ModelError, match="neither a known model"):
        models.ensure_gguf("gpt-17", tmp_path)
    bad = tmp_path / "model.gguf"
    bad.write_bytes(b"not a model at all")
    with pytest.raises(ModelError, match="not a GGUF file"):
        models.ensure_gguf(str(bad), tmp_path)


def test_corrupt_gguf_fails_to_load_with_a_clear_message(tmp_path):
    bad = tmp_path / "truncated.gguf"
    bad.write_bytes(b"GGUF" + b"\x00" * 64)
    llm = LlamaCppChat(bad)
    with pytest.raises(ModelError, match="cannot load GGUF model"):
        list(llm.stream([{"role": "user", "content": "hi"}], max_tokens=4, temperature=0))


def test_which_models_may_judge(tmp_path):
    assert not models.may_judge(tmp_path / models.MODELS["qwen2.5-coder-0.5b"].filename)
    assert models.may_judge(tmp_path / models.MODELS["qwen2.5-coder-1.5b"].filename)
    assert models.may_judge(tmp_path / "my-own-model.gguf") and models.may_judge(None)
