"""Running one evaluation: ingest a set's corpus into an index of its own, search every question,
optionally ask every question, and return everything as one results dict (``report`` writes it).

    results = run_eval(EvalOptions(set="seed", retrieval_only=True, limit=5))
    results["retrieval"]["overall"]["recall@5"]

The corpus goes into ``<cache_dir>/eval-index/...`` (reused across runs; ingest is incremental),
never into the user's index.

A held-out run (``EvalOptions(hold_out=N)``, XQuAD) asks over a copy of the set's full index from
which N topics' articles were deleted (``prepare_held_out_index``): nothing is embedded again, and
the full index is only read.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from assistant.assistant import Assistant
from assistant.backends.llm import make_chat_model
from assistant.errors import AssistantError, ConfigError, IndexBusyError
from assistant.settings import Settings
from assistant.stages.prompts import load_prompt, prompt_hashes
from assistant.types import Turn
from benchmarks.common import machine
from vectorstore import open_store

from . import datasets
from .datasets import EvalQuestion, HeldOut
from .gold import Gold, GoldResolver
from .replay import ReplayChatModel, recorded_ids, recorded_replies
from .metrics import CURVE_K, ranking_metrics, timing_stats
from .scoring import answer_breakdown, answer_metrics, held_out_metrics, retrieval_breakdown, score_answer

Log = Callable[[str], None]


@dataclass
class EvalOptions:
    """One evaluation run; ``None`` leaves the configured setting."""

    set: str = "seed"
    questions: Path | None = None  # a seed-format JSONL instead of evals/seed.jsonl
    mode: str | None = None
    k: int | None = None
    model: str | None = None
    embedding: str | None = None
    prompt_variant: str | None = None
    retrieval_only: bool = False
    limit: int | None = None
    distractors: int | None = None
    index_dir: Path | None = None
    rebuild: bool = False
    label: str = ""
    hold_out: int = 0  # XQuAD topics left out of the index (their questions must be refused)
    hold_out_seed: int = datasets.HOLD_OUT_SEED
    replay: Path | None = None  # a results JSON whose recorded model text is checked again (evals.replay)

    def overrides(self) -> dict:
        return {
            "retrieval.mode": self.mode, "retrieval.k": self.k, "llm.model": self.model,
            "embedding.model": self.embedding, "answering.prompt_variant": self.prompt_variant,
        }


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9.]+", "-", text).strip("-").lower() or "x"


def default_index_dir(settings: Settings, opts: EvalOptions) -> Path:
    """An index per corpus, embedding model and chunking (the catalog does not re-chunk unchanged
    articles, so a chunking change needs its own folder). XQuAD and XQuAD-R share their corpus."""
    c = settings.chunking
    corpus = "xquad" if opts.set == "xquad-r" else opts.set
    name = f"{corpus}-{_slug(settings.embedding.model)}-c{c.max_tokens}o{c.overlap_tokens}"
    if opts.distractors is not None:
        name += f"-d{opts.distractors}"
    return Path(settings.paths.cache_dir) / "eval-index" / name


def held_out_index_dir(full_index: Path, n: int, seed: int) -> Path:
    """Where the index of a ``--hold-out n`` run lives: a sibling of the set's full index,
    ``<index>-holdout<n>-seed<seed>``."""
    full_index = Path(full_index).expanduser().resolve()
    return full_index.with_name(f"{full_index.name}-holdout{n}-seed{seed}")


def _full_index_dir(s: Settings, opts: EvalOptions) -> Path:
    return Path(opts.index_dir or default_index_dir(s, opts)).expanduser().resolve()


def eval_settings(base: Settings | None, opts: EvalOptions) -> Settings:
    """The run's settings: the configured ones with the ablation flags and the eval index applied
    (for a held-out run, the copy of the index without those topics)."""
    s = (base or Settings()).with_overrides(**opts.overrides())
    index_dir = opts.index_dir or default_index_dir(s, opts)
    if opts.hold_out:
        index_dir = held_out_index_dir(index_dir, opts.hold_out, opts.hold_out_seed)
    return s.with_overrides(**{"paths.index_dir": str(index_dir)})


# ------------------------------------------------------------------------------ held-out index
HOLD_OUT_MARKER = "holdout.json"  # in the copy: which topics it lacks; "complete" once they are gone


@contextmanager
def _index_lock(folder: Path, *, shared: bool) -> Iterator[None]:
    """The store's ingest lock of an index folder (``ingest.lock``, flock): held shared while the full
    index is copied (no ingest writes meanwhile, and the full index gets no new file), exclusive
    while articles are deleted from the copy."""
    path = folder / "ingest.lock"
    if shared and not path.exists():
        yield
        return
    fd = os.open(path, os.O_RDONLY if shared else os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
        except BlockingIOError:
            raise IndexBusyError(f"another process is writing to {folder}; wait for it to finish") from None
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _fingerprint(index_dir: Path) -> list:
    """Size and modification time of the catalog and its write-ahead log: every write to an index
    changes them."""
    files = [index_dir / "catalog.sqlite3", index_dir / "catalog.sqlite3-wal"]
    return [[f.stat().st_size, f.stat().st_mtime_ns] for f in files if f.exists()]


def _write_marker(copy: Path, info: dict) -> None:
    tmp = copy / f".{HOLD_OUT_MARKER}.tmp"
    tmp.write_text(json.dumps(info, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(copy / HOLD_OUT_MARKER)


def _copy_index(full: Path, copy: Path, info: dict, log: Log) -> None:
    """Copy the folder under a temporary name, then rename it: a folder at ``copy`` is always whole."""
    log(f"copying the index {full} to {copy} ...")
    tmp = Path(tempfile.mkdtemp(prefix=f".{copy.name}.partial-", dir=copy.parent))
    try:
        with _index_lock(full, shared=True):
            shutil.copytree(full, tmp, dirs_exist_ok=True, ignore=shutil.ignore_patterns("ingest.lock", HOLD_OUT_MARKER))
        _write_marker(tmp, {**info, "complete": False})
        try:
            tmp.rename(copy)
        except OSError:
            if not copy.is_dir():
                raise
            log(f"  another run made {copy} meanwhile: using that one")
            shutil.rmtree(tmp)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _delete_held_out(store, held: HeldOut) -> tuple[list[str], list[str]]:
    """Delete the held-out articles from the store: found in the catalog by a source key naming a
    held-out record (``...#xquad-012``) or by a held-out record's title. The same chunk ids leave
    the catalog and Chroma; (article ids, chunk ids)."""
    ids, titles = held.record_ids, {r["title"] for r in held.records}
    doomed = [
        a["article_id"] for a in store.catalog.articles()
        if a["title"] in titles or any("#" in k and k.rpartition("#")[2] in ids for k in (a["sources"] or "").split("\n"))
    ]
    store.catalog.set_meta("dirty", "1")  # a crash between the two deletes leaves Chroma orphans: reconciled later
    chunk_ids = [cid for aid in doomed for cid in store.catalog.delete_article(aid)]
    store.dense.delete(chunk_ids)
    store.reconcile()  # also finishes a deletion that an earlier run did not
    store.catalog.set_meta("dirty", "0")
    return doomed, chunk_ids


def _check_held_out_gone(store, held: HeldOut, chunk_ids: list[str]) -> None:
    """Search the catalog for every held-out paragraph (its title and first words): no hit may be a
    chunk of it; and none of the deleted chunk ids may be left in the catalog or in Chroma."""
    titles = {r["title"] for r in held.records}
    found: list[str] = []
    for r in held.records:
        text = " ".join(r["text"].split())
        hits = store.catalog.search(" ".join([r["title"], *r["text"].split()[:30]]), 10)
        for c in store.catalog.chunks(cid for cid, _ in hits).values():
            body = " ".join(c.text.split())
            if c.meta.get("title") in titles or (len(body) >= 40 and body in text):
                found.append(f"{r['id']}: chunk {c.id} of article {c.article_id}")
    found += [f"catalog chunk {cid}" for cid in store.catalog.chunks(chunk_ids)]
    found += [f"Chroma chunk {cid}" for cid in sorted(store.dense.ids() & set(chunk_ids))]
    if found:
        raise AssertionError(f"held-out articles are still in {store.index_dir}: {'; '.join(found[:5])}")


def prepare_held_out_index(full: Path, copy: Path, held: HeldOut, settings: Settings, *, embedder=None,
                           remake: bool = False, log: Log = lambda _m: None) -> dict:
    """Make the index of a held-out run at ``copy``: the full index's folder copied, the held-out
    topics' articles deleted from the copy through the store, and checked gone. Nothing is embedded;
    the full index is only read. Returns what ``copy/holdout.json`` records (plus ``reused``).

    A complete copy with the same topics is reused while the full index is unchanged; ``remake``
    (``--rebuild``) copies again. A copy whose deletion was interrupted is finished.
    """
    full, copy = Path(full).resolve(), Path(copy).resolve()
    if settings.store.chroma_url or settings.store.catalog_url:
        raise ConfigError("--hold-out copies the index folder, which cannot copy a Chroma server's collection or a PostgreSQL "
                          "catalog; unset store.chroma_url and store.catalog_url for held-out runs")
    if not (full / "catalog.sqlite3").is_file():
        raise ConfigError(f"no index at {full} to copy for the held-out run")
    info = {**held.to_dict(), "full_index_dir": str(full), "full_index_fingerprint": _fingerprint(full)}
    marker = copy / HOLD_OUT_MARKER
    if copy.exists() and not marker.is_file():
        raise ConfigError(f"{copy} exists but was not made by a held-out run; move it away or delete it")
    if marker.is_file():
        old = json.loads(marker.read_text(encoding="utf-8"))
        if old.get("records") != info["records"]:
            raise ConfigError(f"{copy} lacks other records than this run would leave out; delete it to make it again")
        if old.get("complete") and not remake and old.get("full_index_fingerprint") == info["full_index_fingerprint"]:
            log(f"reusing the held-out index {copy} ({len(old['articles_removed'])} articles removed)")
            return {**old, "reused": True}
        if old.get("complete"):
            log(f"{'--rebuild' if remake else 'the full index changed'}: making the held-out index again")
            shutil.rmtree(copy)
    if not copy.exists():
        _copy_index(full, copy, info, log)
    store = open_store(settings.with_overrides(**{"paths.index_dir": str(copy)}), embedder=embedder)
    try:
        with _index_lock(copy, shared=False):
            articles, chunk_ids = _delete_held_out(store, held)
            _check_held_out_gone(store, held, chunk_ids)
    finally:
        store.close()
    info.update(complete=True, articles_removed=articles, chunks_removed=len(chunk_ids),
                date=dt.datetime.now().astimezone().isoformat(timespec="seconds"))
    _write_marker(copy, info)
    log(f"  removed {len(articles)} articles ({len(chunk_ids)} chunks) of {len(held.topics)} held-out topics")
    return {**info, "reused": False}


def held_out_index(opts: EvalOptions, settings: Settings | None = None, *, embedder=None,
                   log: Log = lambda _m: None) -> tuple[HeldOut, dict]:
    """The held-out topics of a ``hold_out`` run and its index (``prepare_held_out_index``). When the
    set's full index does not exist yet it is built first, once (that one ingest embeds)."""
    s = eval_settings(settings, opts)
    held = datasets.held_out_topics(opts.set, opts.hold_out, opts.hold_out_seed)
    full = _full_index_dir(s, opts)
    if not (full / "catalog.sqlite3").is_file():
        log(f"no full {opts.set} index at {full} yet: building it first ...")
        full_set = datasets.load_set(opts.set, full, distractors=opts.distractors)
        full_store = open_store(s.with_overrides(**{"paths.index_dir": str(full)}), embedder=embedder)
        try:
            report = full_store.ingest(full_set.corpus)
        finally:
            full_store.close()
        log(f"  {report.summary()}")
        if report.failed:
            raise ConfigError(f"the {opts.set} corpus did not ingest cleanly: {report.failed[0][0]}: {report.failed[0][1]}")
    info = prepare_held_out_index(full, Path(s.paths.index_dir), held, s, embedder=embedder, remake=opts.rebuild, log=log)
    return held, info


def _retrieval_phase(questions: list[EvalQuestion], golds: dict[str, Gold], pairs: dict[str, str], store, mode: str,
                     log: Log) -> tuple[list[dict], dict]:
    """Search every answerable question; per-question rows (rank, top hits) and the metrics."""
    rows: list[dict] = []
    for i, q in enumerate(questions, 1):
        row: dict = {**q.to_dict(), "pair": pairs[q.id]}
        rows.append(row)
        gold = golds[q.id]
        if not q.answerable:
            continue
        if gold.empty:
            row["retrieval_note"] = "gold passage not found in the corpus"
            continue
        t0 = time.perf_counter()
        try:
            hits = store.search(q.retrieval_query, k=CURVE_K, mode=mode)
        except AssistantError as e:
            row["retrieval_error"] = str(e)
            hits = []
        row["search_s"] = time.perf_counter() - t0
        flags = [gold.relevant_hit(h) for h in hits]
        row["rank"] = flags.index(True) + 1 if True in flags else None
        row["top"] = [
            {"chunk_id": h.chunk.id, "title": h.title[:80], "ordinal": h.chunk.ordinal, "score": round(h.score, 5), "relevant": f}
            for h, f in zip(hits, flags)
        ]
        log(f"[{i}/{len(questions)}] {q.id}: rank {row['rank']}")
    scored = [r for r in rows if "rank" in r]
    metrics = {
        "mode": mode,
        "overall": ranking_metrics([r["rank"] for r in scored]),
        "by_pair": retrieval_breakdown(scored, "pair"),
        "by_kind": retrieval_breakdown(scored, "kind"),
        "search_s": timing_stats([r.get("search_s") for r in scored]),
        "no_gold": [r["id"] for r in rows if r.get("retrieval_note")],
    }
    return rows, metrics


def _answer_phase(questions: list[EvalQuestion], golds: dict[str, Gold], rows: list[dict], assistant: Assistant,
                  k: int | None, log: Log, *, held_out: bool = False) -> dict:
    """Ask every question; adds an ``answer`` row to each question row and returns the metrics
    (with ``held_out`` the numbers of a held-out run too)."""
    interrupted = False
    for i, (q, row) in enumerate(zip(questions, rows), 1):
        history = [Turn(question=a, answer=b) for a, b in q.history]
        t0 = time.perf_counter()
        try:
            answer = assistant.ask(q.question, history or None, k=k)
        except AssistantError as e:
            row["answer"] = {"error_kind": type(e).__name__, "error": str(e), "total_s": time.perf_counter() - t0}
            log(f"[{i}/{len(questions)}] {q.id}: error {type(e).__name__}: {e}")
            continue
        except KeyboardInterrupt:
            # Ctrl-C (or SIGINT) on a long run: score what was answered rather than lose it
            interrupted = True
            log(f"interrupted: scoring the {i - 1} of {len(questions)} questions answered so far")
            break
        row["answer"] = a = score_answer(q, answer, golds[q.id])
        if answer.error:  # the model failed and the user got the passages only: not an answer to score
            a["error_kind"] = "LLMUnavailableError"
        log(f"[{i}/{len(questions)}] {q.id}: {'abstained' if a['abstained'] else 'answered'}, "
            f"correct={a['correct']} {a['text'][:70]!r}")
    arows = [{**r["answer"], "answerable": r["answerable"], "kind": r["kind"], "language_q": r["language"]}
             for r in rows if "answer" in r]
    metrics = answer_metrics(arows)
    metrics["answered_questions"] = len(arows)
    metrics["interrupted"] = interrupted
    metrics["by_kind"] = answer_breakdown(arows, "kind")
    metrics["by_language"] = answer_breakdown(arows, "language_q")
    if held_out:
        metrics["held_out"] = held_out_metrics(arows)
    metrics["prompt_ids"] = sorted({r["prompt_id"] for r in arows if r.get("prompt_id")})
    metrics["models"] = sorted({r["model"] for r in arows if r.get("model")})
    return metrics


def run_eval(
    opts: EvalOptions,
    settings: Settings | None = None,
    *,
    store=None,
    assistant: Assistant | None = None,
    log: Log = lambda _m: None,
    argv: list[str] | None = None,
) -> dict:
    """Run one evaluation and return the results dict (what ``report.write_outputs`` stores as JSON).

    ``store`` and ``assistant`` are built from the settings when not given (tests pass their own;
    the corpus is still ingested, which costs nothing when it is already there).
    """
    t_start = time.perf_counter()
    started = dt.datetime.now().astimezone()
    host = machine()
    try:
        s = eval_settings(settings, opts)
    except (ValueError, KeyError) as e:  # pydantic's ValidationError is a ValueError
        raise ConfigError("invalid setting: " + " ".join(str(e).split())) from e
    if opts.limit is not None and opts.limit < 1:
        raise ConfigError(f"limit must be at least 1, got {opts.limit}")
    if opts.hold_out < 0:
        raise ConfigError(f"hold_out must be at least 0, got {opts.hold_out}")
    if store is None and assistant is not None:
        store = assistant.store
    held, hold_info = None, None
    if opts.hold_out:
        if store is not None and Path(store.index_dir).resolve() != Path(s.paths.index_dir).resolve():
            raise ConfigError(f"a held-out run asks over {s.paths.index_dir}, but the store given is at {store.index_dir}")
        held, hold_info = held_out_index(opts, settings, embedder=store.embedder if store else None, log=log)
    eval_set = datasets.load_set(opts.set, Path(s.paths.index_dir), distractors=opts.distractors, questions=opts.questions,
                                 held_out=held)
    questions = datasets.select(eval_set.questions, opts.limit, by_answerable=held is not None)
    if opts.replay and not opts.retrieval_only:
        recorded_replies(opts.replay)  # a clear error for a file that is no results file
        answered = recorded_ids(opts.replay)
        questions = [q for q in questions if q.id in answered]
    if store is None:
        store = open_store(s)
    log(f"ingesting the {opts.set} corpus into {s.paths.index_dir} ...")
    # A held-out index is never rebuilt by embedding: --rebuild made the copy again instead.
    ingest = store.ingest(eval_set.corpus, rebuild=opts.rebuild and held is None)
    log(f"  {ingest.summary()}")
    if ingest.failed:
        raise ConfigError(f"the {opts.set} corpus did not ingest cleanly: {ingest.failed[0][0]}: {ingest.failed[0][1]}")
    resolver = GoldResolver(store, eval_set)
    golds = {q.id: resolver.resolve(q) for q in questions}
    pairs = {q.id: f"{q.language}->{eval_set.corpus_language}" for q in questions}

    rows, retrieval = _retrieval_phase(questions, golds, pairs, store, s.retrieval.mode, log)
    answers = None
    describe: dict = {}
    if not opts.retrieval_only:
        if assistant is None and opts.replay:
            assistant = _replaying_assistant(s, store, opts.replay, log)
        assistant = assistant or Assistant(s, store=store)
        answers = _answer_phase(questions, golds, rows, assistant, opts.k, log, held_out=held is not None)
        try:
            describe = assistant.describe()  # after the answers: the prompt ids are known once the chain is built
        except Exception as e:  # describe is informative only; a broken one must not sink the run
            describe = {"error": f"{type(e).__name__}: {e}"}

    label = "retrieval" if opts.retrieval_only else _slug(s.llm.model)
    set_name = f"{opts.set}-holdout{opts.hold_out}" if held else opts.set
    run_id = "-".join(x for x in (started.strftime("%Y%m%d-%H%M%S"), set_name, s.retrieval.mode, label,
                                  _slug(opts.label) if opts.label else "") if x)
    stats = store.stats()
    return {
        "schema": 1,
        "run": {
            "id": run_id,
            "label": opts.label,
            "date": started.isoformat(timespec="seconds"),
            "set": opts.set,
            "argv": argv,
            "options": {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(opts).items()},
            "retrieval_only": opts.retrieval_only,
            "n_questions": len(questions),
            "seconds": round(time.perf_counter() - t_start, 2),
            "corpus": {
                "notes": eval_set.notes, "articles": stats.get("articles"), "chunks": stats.get("chunks"),
                "index_dir": str(s.paths.index_dir), "ingest": ingest.summary(),
            },
            "hold_out": None if hold_info is None else {k: v for k, v in hold_info.items() if k != "complete"},
            "models": {
                "embedding": getattr(store.embedder, "name", s.embedding.model),
                "llm": None if answers is None else (answers["models"] or [s.llm.model]),
            },
            "prompt_hashes": prompt_hashes(s.answering.prompts_dir),
            "describe": describe,
            "settings": json.loads(s.model_dump_json()),
            "git": {"commit": host.get("git_commit"), "dirty": host.get("git_dirty")},
            "machine": host,
        },
        "retrieval": retrieval,
        "answers": answers,
        "questions": rows,
    }


def _replaying_assistant(s: Settings, store, path: Path, log: Log) -> Assistant:
    """An assistant whose answer model replays the text recorded in ``path`` (``evals.replay``)."""
    replies = recorded_replies(path)
    a = s.answering
    systems = {load_prompt("answer", lang, a.prompt_variant, a.prompts_dir).system for lang in ("de", "en")}
    log(f"replaying {len(replies)} recorded answers from {path} through the current checks")
    return Assistant(s, store=store, llm=ReplayChatModel(make_chat_model(s), replies, systems))


__all__ = [
    "EvalOptions", "default_index_dir", "eval_settings", "held_out_index", "held_out_index_dir", "prepare_held_out_index",
    "run_eval",
]
