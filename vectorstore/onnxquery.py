"""Questions through ONNX Runtime: the e5 weights, exported once into the model's own folder, embed
a question on one thread in about half the time sentence-transformers takes (torch's per-call
overhead dominates a 20-token input; benchmarks/results/latency.md). Same fp32 weights, same
tokenizer, same mean pooling: the vectors agree with sentence-transformers' to ~1e-6, so the
index is unchanged and nothing is re-embedded. Passages stay with sentence-transformers, whose
batches already use both cores well.

The export (``torch.onnx.export``, which needs the ``onnx`` package) writes into a temporary file
that is checked against torch on probe sentences before it is renamed into place, so an
interrupted or wrong export never leaves a model behind.
"""

from __future__ import annotations

import os
import tempfile
import threading
from pathlib import Path

import numpy as np

from .errors import ModelError

ONNX_FILE = "model.onnx"
#: export is verified on these: the largest absolute difference of any hidden state must stay tiny
_PROBES = ["query: Wer nahm an den Gesprächen im Weißen Haus teil?", "passage: Der Bundestag beschloss am 18. August 2025 das Gesetz."]
_TOLERANCE = 1e-4


def ensure_onnx(folder: Path) -> Path:
    """The ONNX export of the transformer in ``folder`` (a sentence-transformers folder), made once."""
    out = folder / ONNX_FILE
    if out.is_file():
        return out
    try:
        import torch
        from transformers import AutoModel
    except ImportError as e:  # pragma: no cover - torch and transformers come with sentence-transformers
        raise ModelError(f"cannot export {folder.name} to ONNX: {e}") from e
    try:
        model = AutoModel.from_pretrained(str(folder), local_files_only=True).eval()
    except Exception as e:
        raise ModelError(f"cannot export {folder} to ONNX: no model loads from it ({type(e).__name__})") from e

    class LastHidden(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask):
            return self.inner(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    tokenizer = _tokenizer(folder)
    probes = [_encode(tokenizer, text) for text in _PROBES]
    ids, mask = probes[0]
    fd, tmp_name = tempfile.mkstemp(prefix=ONNX_FILE + ".", suffix=".tmp", dir=folder)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        import warnings

        # The wrapper starts in eval mode: the exporter restores the mode it found afterwards, and a
        # wrapper left in training mode would switch the model's dropout on for the check below.
        wrapper = LastHidden(model).eval()
        with torch.no_grad():
            expected = [wrapper(torch.from_numpy(i), torch.from_numpy(m)).numpy() for i, m in probes]
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")  # the TorchScript exporter announces its own deprecation
            torch.onnx.export(
                wrapper, (torch.from_numpy(ids), torch.from_numpy(mask)), str(tmp),
                input_names=["input_ids", "attention_mask"], output_names=["last_hidden_state"],
                dynamic_axes={"input_ids": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"},
                              "last_hidden_state": {0: "batch", 1: "tokens"}},
                opset_version=17, dynamo=False,
            )
        session = _session(tmp, threads=1)
        got = [session.run(None, {"input_ids": i, "attention_mask": m})[0] for i, m in probes]
        diff = max(float(np.abs(g - x).max()) for g, x in zip(got, expected))
        if diff > _TOLERANCE:
            raise ModelError(f"the ONNX export of {folder.name} disagrees with torch (max difference {diff:.2g})")
        tmp.replace(out)
    except ModelError:
        raise
    except Exception as e:
        raise ModelError(f"cannot export {folder.name} to ONNX: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}") from e
    finally:
        tmp.unlink(missing_ok=True)
    return out


def _tokenizer(folder: Path, max_tokens: int = 512):
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    tokenizer.enable_truncation(max_length=max_tokens)
    tokenizer.no_padding()
    return tokenizer


def _encode(tokenizer, text: str) -> tuple[np.ndarray, np.ndarray]:
    """One text as a batch of one: never padded, so the traced graph only ever sees the kind of
    input it was exported and checked on."""
    encoding = tokenizer.encode(text)
    return np.asarray([encoding.ids], dtype=np.int64), np.asarray([encoding.attention_mask], dtype=np.int64)


def _session(path: Path, threads: int):
    try:
        import onnxruntime as ort
    except ImportError as e:
        raise ModelError("onnxruntime is not installed (it comes with chromadb)") from e
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


class OnnxQueryEncoder:
    """Mean-pooled, unit-length sentence vectors from the exported transformer, one thread.

    One thread, as for torch before: a question is too short for a second core to pay, and a busy
    machine (the LLM holds both cores while it writes) would make the call wait at a barrier.
    """

    def __init__(self, folder: Path, prefix: str, threads: int = 1):
        self.folder, self.prefix, self.threads = Path(folder), prefix, threads
        self._session = None
        self._tokenizer = None
        self._lock = threading.Lock()

    def _load(self):
        if self._session is None:
            with self._lock:
                if self._session is None:
                    self._tokenizer = _tokenizer(self.folder)
                    self._session = _session(ensure_onnx(self.folder), self.threads)
        return self._session

    def encode(self, texts: list[str]) -> np.ndarray:
        """One vector per text; texts run one at a time (a few questions, so batching gains nothing)."""
        session = self._load()
        vectors = []
        for text in texts:
            ids, mask = _encode(self._tokenizer, self.prefix + text)
            pooled = session.run(None, {"input_ids": ids, "attention_mask": mask})[0][0].mean(axis=0)
            vectors.append(pooled / max(float(np.linalg.norm(pooled)), 1e-12))
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), -1)
