"""Question sets for the evaluation: the hand-written seed set and the public sets.

Every set is a corpus (files that ``Store.ingest`` reads) plus question records with their gold:

- ``seed``: ``evals/seed.jsonl`` over ``seeds/`` (one German news article). Gold is a short verbatim
  passage of the article; a retrieved chunk is relevant when it holds (most of) that passage.
- ``xquad``: the German XQuAD paragraphs, asked in German (de->de) and in English (en->de). Gold is
  the paragraph (article level).
- ``xquad-r``: the same questions; gold is the sentence that holds the answer span (XQuAD-R's
  sentence boundaries) or another sentence of the paragraph that repeats the answer, so relevance
  is judged per chunk, as for the seed set.
- ``mlqa``: MLQA de-de dev, native German Wikipedia paragraphs, German questions; article level.
- ``news``: ``evals/sets/news.jsonl`` (``NEWS.md``), hand-written, over its 10kGNAD articles + 300 others.

A question's ``split`` is its half (``evals.splits``; seed: dev; MLQA: none); ``split=`` keeps one.

``xquad`` and ``xquad-r`` can hold out topics (``held_out_topics``): a fixed, seeded choice of XQuAD
articles whose paragraphs leave the corpus, so that their questions become unanswerable (a refusal is
the right answer) while the other topics' questions stay answerable.

The public sets get the 10kGNAD news articles as distractors (all 1,028 unless ``distractors`` says
fewer). The corpus records are built by ``benchmarks.common`` so that the retrieval benchmark and
the evaluation measure the same corpus; this module adds the questions' answers and gold sentences.
The seed questions ship with the package (``evals/seed.jsonl``); their corpus is the checkout's
``seeds/`` folder.

    >>> s = load_set("seed")
    >>> len(s.questions), s.corpus
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from pathlib import Path

from assistant.errors import ConfigError
from benchmarks import common

from .splits import SPLITS, split_of

SEED_QUESTIONS = Path(__file__).with_name("seed.jsonl")
SEEDS_DIR = Path(__file__).resolve().parents[1] / "seeds"  # the seed article, in the checkout
NEWS_QUESTIONS = Path(__file__).with_name("sets") / "news.jsonl"
NEWS_DISTRACTORS = 300  # other 10kGNAD articles in the news set's corpus (--distractors N for another number)
NEWS_SEED = 0  # fixed: every run gets the same distractors
SETS = ("seed", "xquad", "xquad-r", "mlqa", "news")
KINDS = ("de", "en", "crosslingual", "followup", "yesno", "unanswerable")
HOLD_OUT_SETS = ("xquad", "xquad-r")
HOLD_OUT_SEED = 0  # fixed: every --hold-out N run leaves out the same N topics


@dataclass(frozen=True)
class EvalQuestion:
    """One question with its gold.

    ``gold_facts`` is a list of facts a correct answer must contain; each fact is a list of
    alternatives (any one counts), e.g. ``[["Anchorage", "Alaska"]]``. ``gold_passages`` are verbatim
    pieces of the answering article (any one answers the question; the JSONL field ``gold_passage``
    is one string or a list); ``gold_article`` names that article by its corpus record id when the
    set has one (public sets), else the passages are looked up in every indexed article.
    """

    id: str
    question: str
    language: str
    kind: str
    gold_facts: tuple[tuple[str, ...], ...] = ()
    gold_passages: tuple[str, ...] = ()
    gold_article: str | None = None
    answerable: bool = True
    history: tuple[tuple[str, str], ...] = ()  # (question, answer) of earlier turns, oldest first
    topic: str | None = None  # the XQuAD article the question is about, e.g. "Super_Bowl_50"
    split: str | None = None  # "dev" or "test" (evals.splits); None: the set has no split (MLQA)
    yes_no: str | None = None  # a yes/no question's right answer, "yes" or "no"

    @property
    def retrieval_query(self) -> str:
        """What retrieval-only runs search for. A follow-up gets the previous question in front, the
        same fallback the answering chain uses when it cannot rewrite the question."""
        if self.history:
            return f"{self.history[-1][0]} {self.question}"
        return self.question

    def to_dict(self) -> dict:
        d = {
            "id": self.id, "question": self.question, "language": self.language, "kind": self.kind,
            "gold_facts": [list(f) for f in self.gold_facts],
            "gold_passage": (self.gold_passages[0] if len(self.gold_passages) == 1 else list(self.gold_passages)) or None,
            "answerable": self.answerable,
        }
        if self.history:
            d["history"] = [{"question": q, "answer": a} for q, a in self.history]
        for key in ("gold_article", "topic", "split", "yes_no"):
            if getattr(self, key):
                d[key] = getattr(self, key)
        return d


@dataclass(frozen=True)
class HeldOut:
    """XQuAD topics left out of the index: their paragraphs are not in the corpus, their questions
    must be refused. ``records`` are the topics' corpus records (``id``, ``title``, ``text``, ...)."""

    seed: int
    topics: tuple[str, ...]
    records: tuple[dict, ...]

    @property
    def record_ids(self) -> frozenset[str]:
        return frozenset(r["id"] for r in self.records)

    def to_dict(self) -> dict:
        return {"n": len(self.topics), "seed": self.seed, "topics": list(self.topics),
                "records": sorted(self.record_ids)}


@dataclass
class EvalSet:
    """A corpus to ingest and the questions asked over it."""

    name: str
    questions: list[EvalQuestion]
    corpus: list[Path]  # files/folders for Store.ingest
    corpus_language: str = "de"
    #: record id -> source key prefix in the catalog (``<jsonl path>#<record id>``), for gold articles
    record_file: Path | None = None
    notes: list[str] = field(default_factory=list)
    held_out: HeldOut | None = None  # topics left out of the corpus (their questions are unanswerable)

    def source_key(self, record_id: str) -> str | None:
        if self.record_file is None:
            return None
        return f"{self.record_file.resolve()}#{record_id}"


# --------------------------------------------------------------------------------------- seed set
def parse_question(rec: object, where: str) -> EvalQuestion:
    """Check one seed-format record and turn it into an ``EvalQuestion`` (ConfigError names the line)."""
    if not isinstance(rec, dict):
        raise ConfigError(f"{where}: a question record must be a JSON object")
    missing = [k for k in ("id", "question", "language", "kind", "answerable") if k not in rec]
    if missing:
        raise ConfigError(f"{where}: missing field(s) {', '.join(missing)}")
    if rec["kind"] not in KINDS:
        raise ConfigError(f"{where}: kind must be one of {', '.join(KINDS)}, got {rec['kind']!r}")
    if rec["language"] not in ("de", "en"):
        raise ConfigError(f"{where}: language must be de or en, got {rec['language']!r}")
    facts = []
    for f in rec.get("gold_facts") or []:
        alts = [f] if isinstance(f, str) else f
        if not isinstance(alts, list) or not alts or not all(isinstance(a, str) and a.strip() for a in alts):
            raise ConfigError(f"{where}: gold_facts entries must be strings or non-empty lists of strings, got {f!r}")
        facts.append(tuple(alts))
    answerable = bool(rec["answerable"])
    if answerable and not facts:
        raise ConfigError(f"{where}: an answerable question needs gold_facts")
    if answerable != (rec["kind"] != "unanswerable"):
        raise ConfigError(f"{where}: answerable must be false exactly for kind 'unanswerable'")
    history = []
    for t in rec.get("history") or []:
        if not isinstance(t, dict) or not isinstance(t.get("question"), str) or not isinstance(t.get("answer"), str):
            raise ConfigError(f"{where}: history entries need question and answer strings")
        history.append((t["question"], t["answer"]))
    if rec["kind"] == "followup" and not history:
        raise ConfigError(f"{where}: a followup needs a history")
    passage = rec.get("gold_passage")
    passages = [passage] if isinstance(passage, str) else passage
    if passages is not None and (
        not isinstance(passages, list) or not passages or not all(isinstance(p, str) and p.strip() for p in passages)
    ):
        raise ConfigError(f"{where}: gold_passage must be a non-empty string, a list of them, or null")
    if rec.get("split") not in (None, *SPLITS):
        raise ConfigError(f"{where}: split must be one of {', '.join(SPLITS)}, got {rec['split']!r}")
    if rec.get("yes_no") not in (None, "yes", "no") or (rec.get("yes_no") and rec["kind"] != "yesno"):
        raise ConfigError(f"{where}: yes_no must be 'yes' or 'no', and only on a yesno question")
    return EvalQuestion(
        id=str(rec["id"]), question=rec["question"], language=rec["language"], kind=rec["kind"],
        gold_facts=tuple(facts), gold_passages=tuple(passages or ()), gold_article=rec.get("gold_article"),
        answerable=answerable, history=tuple(history), split=rec.get("split"), yes_no=rec.get("yes_no"),
    )


def load_questions(path: Path) -> list[EvalQuestion]:
    """Read a seed-format JSONL file of questions."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: no such question file")
    out: list[EvalQuestion] = []
    seen: set[str] = set()
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as e:
            raise ConfigError(f"{path}:{n}: invalid JSON: {e.msg}") from e
        q = parse_question(rec, f"{path}:{n}")
        if q.id in seen:
            raise ConfigError(f"{path}:{n}: duplicate id {q.id!r}")
        seen.add(q.id)
        out.append(q)
    return out


# ------------------------------------------------------------------------------------ public sets
def _xquad_answers(path: Path) -> dict[str, list[str]]:
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    return {qa["id"]: [a["text"] for a in qa["answers"]] for art in data for par in art["paragraphs"] for qa in par["qas"]}


def _xquad_r_sentences(path: Path) -> dict[str, tuple[str, ...]]:
    """question id -> the sentence(s) of its paragraph that hold the answer span, plus every other
    sentence of the paragraph that repeats the answer (a chunk with either answers the question)."""
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    out: dict[str, tuple[str, ...]] = {}
    for art in data:
        for par in art["paragraphs"]:
            ctx, breaks = par["context"], par["sentence_breaks"]
            for qa in par["qas"]:
                a = qa["answers"][0]
                first, last = a["answer_start"], a["answer_start"] + max(len(a["text"]), 1) - 1
                covering = [(s, e) for s, e in breaks if s <= last and first < e]
                if not covering:
                    continue
                spans = [ctx[covering[0][0] : covering[-1][1]].strip()]
                spans += [ctx[s:e].strip() for s, e in breaks if a["text"] in ctx[s:e] and (s, e) not in covering]
                out[qa["id"]] = tuple(dict.fromkeys(sp for sp in spans if sp))
    return out


def _interleave(*groups: Sequence[EvalQuestion]) -> list[EvalQuestion]:
    out: list[EvalQuestion] = []
    for i in range(max((len(g) for g in groups), default=0)):
        out.extend(g[i] for g in groups if i < len(g))
    return out


def xquad_topics() -> list[str]:
    """The XQuAD topics (article titles, e.g. ``Super_Bowl_50``), indexed like ``Question.group``."""
    return [art["title"] for art in json.loads(common.XQUAD_EN.read_text(encoding="utf-8"))["data"]]


def _check_hold_out_set(name: str) -> None:
    if name not in HOLD_OUT_SETS:
        raise ConfigError(f"--hold-out works with --set {' or '.join(HOLD_OUT_SETS)} (its topics are XQuAD articles), got {name!r}")


def choose_topics(n_topics: int, n: int, seed: int = HOLD_OUT_SEED) -> list[int]:
    """A fixed, seeded choice of ``n`` of ``n_topics`` topic indexes (sorted); at least one stays."""
    if not 1 <= n < n_topics:
        raise ConfigError(f"--hold-out must be between 1 and {n_topics - 1} (the set has {n_topics} topics), got {n}")
    return sorted(random.Random(seed).sample(range(n_topics), n))


def held_out_topics(name: str, n: int, seed: int = HOLD_OUT_SEED) -> HeldOut:
    """The ``n`` XQuAD topics a ``--hold-out n`` run leaves out of the index, with their paragraph
    records (the same every run for the same ``n`` and ``seed``)."""
    _check_hold_out_set(name)
    records, qde, _ = common.xquad()
    titles = xquad_topics()
    chosen = choose_topics(len(titles), n, seed)
    topic_of = {q.gold: q.group for q in qde}
    return HeldOut(seed=seed, topics=tuple(titles[i] for i in chosen),
                   records=tuple(r for r in records if topic_of[r["id"]] in chosen))


def _xquad_questions(name: str, held_out: HeldOut | None) -> tuple[list[dict], list[EvalQuestion]]:
    """(corpus paragraphs, questions) of xquad / xquad-r. German and English questions alternate (a
    pair asks about the same paragraph); with topics held out, their paragraphs leave the corpus and
    their questions become unanswerable, listed after the answerable ones."""
    records, qde, qen = common.xquad()
    ans_de = _xquad_answers(common.XQUAD_DE)
    ans_en = _xquad_answers(common.XQUAD_EN)
    topics = xquad_topics()
    sentences = _xquad_r_sentences(common.DATA / "xquad-r" / "de.json") if name == "xquad-r" else {}
    left_out = held_out.record_ids if held_out else frozenset()
    order = list(range(len(qde)))
    random.Random(0).shuffle(order)  # a --limit then samples every topic, not just the first one
    de_qs, en_qs, held_de, held_en = [], [], [], []
    for i in order:
        d, e = qde[i], qen[i]
        answerable = d.gold not in left_out
        passages = sentences.get(d.id, ()) if answerable else ()
        shared = {"gold_article": d.gold, "topic": topics[d.group], "answerable": answerable,
                  "gold_passages": passages, "split": split_of("xquad", topics[d.group])}
        (de_qs if answerable else held_de).append(EvalQuestion(
            id=f"{d.id}-de", question=d.text, language="de", kind="de" if answerable else "unanswerable",
            gold_facts=(tuple(dict.fromkeys(ans_de[d.id])),), **shared,
        ))
        (en_qs if answerable else held_en).append(EvalQuestion(
            id=f"{e.id}-en", question=e.text, language="en", kind="crosslingual" if answerable else "unanswerable",
            gold_facts=(tuple(dict.fromkeys(ans_en[e.id] + ans_de[d.id])),), **shared,
        ))
    kept = [r for r in records if r["id"] not in left_out]
    return kept, _interleave(de_qs, en_qs) + _interleave(held_de, held_en)


def _public_set(name: str, work_dir: Path, distractors: int | None, held_out: HeldOut | None = None) -> EvalSet:
    if name in ("xquad", "xquad-r"):
        records, questions = _xquad_questions(name, held_out)
    else:  # mlqa (load_set checked the name)
        records, qs = common.mlqa()
        rows = (json.loads(line) for line in common.MLQA_DE.read_text(encoding="utf-8").splitlines())
        answers = {row["id"]: list(dict.fromkeys(row["answers"]["text"])) for row in rows}
        order = list(range(len(qs)))
        random.Random(0).shuffle(order)
        questions = [EvalQuestion(id=qs[i].id, question=qs[i].text, language="de", kind="de",
                                  gold_facts=(tuple(answers[qs[i].id]),), gold_article=qs[i].gold) for i in order]
    gnad = [] if distractors == 0 else common.gnad()[: None if distractors is None else max(0, distractors)]
    record_file = common.write_jsonl(Path(work_dir) / "corpus" / f"{name.split('-')[0]}.jsonl", records + gnad)
    left_out = f" (without the {len(held_out.records)} of the {len(held_out.topics)} held-out topics)" if held_out else ""
    notes = [f"{len(records)} {name.split('-')[0]} paragraphs{left_out} + {len(gnad)} 10kGNAD distractor articles"]
    return EvalSet(name, questions, [record_file], record_file=record_file, notes=notes, held_out=held_out)


def _news_set(work_dir: Path, distractors: int | None, questions: Path | None) -> EvalSet:
    """The news set: its 10kGNAD articles plus a fixed, seeded choice of other 10kGNAD articles."""
    qs = load_questions(questions or NEWS_QUESTIONS)
    own = {q.gold_article for q in qs}
    gnad = common.gnad()
    others = [r for r in gnad if r["id"] not in own]
    n = min(max(0, NEWS_DISTRACTORS if distractors is None else distractors), len(others))
    chosen = sorted(random.Random(NEWS_SEED).sample(range(len(others)), n))
    records = [r for r in gnad if r["id"] in own] + [others[i] for i in chosen]
    record_file = common.write_jsonl(Path(work_dir) / "corpus" / "news.jsonl", records)
    notes = [f"{len(own)} 10kGNAD articles asked about + {n} other 10kGNAD articles (seed {NEWS_SEED})"]
    return EvalSet(name="news", questions=qs, corpus=[record_file], record_file=record_file, notes=notes)


def _seed_set(work_dir: Path | None, distractors: int | None, questions: Path | None) -> EvalSet:
    if not SEEDS_DIR.is_dir():
        raise ConfigError(f"the seed set's articles are not at {SEEDS_DIR}: run it from a checkout of newsqa")
    qs = [q if q.split else replace(q, split=split_of("seed", "")) for q in load_questions(questions or SEED_QUESTIONS)]
    corpus, notes = [SEEDS_DIR], ["seeds/ (one German news article)"]
    if distractors:
        if work_dir is None:
            raise ConfigError("distractors for the seed set need a work folder")
        corpus.append(common.write_jsonl(Path(work_dir) / "corpus" / "distractors.jsonl", common.gnad()[:distractors]))
        notes.append(f"+ {distractors} 10kGNAD distractor articles")
    return EvalSet(name="seed", questions=qs, corpus=corpus, notes=notes)


#: The half ``load_set`` keeps when not told (None: all): ``--split`` sets it around the run.
SPLIT: ContextVar[str | None] = ContextVar("evals_split", default=None)


def _keep_split(s: EvalSet, split: str) -> EvalSet:
    kept = [q for q in s.questions if q.split == split]
    if split not in SPLITS or any(q.split is None for q in s.questions) or not kept:
        raise ConfigError(f"the {s.name} set has no {split!r} questions (splits: {', '.join(SPLITS)}; MLQA has none)")
    return replace(s, questions=kept, notes=[*s.notes, f"{split} split: {len(kept)} of {len(s.questions)} questions"])


def load_set(name: str, work_dir: Path | None = None, *, distractors: int | None = None, questions: Path | None = None,
             held_out: HeldOut | None = None, split: str | None = None) -> EvalSet:
    """The named question set. Public sets and ``news`` write their corpus JSONL into ``work_dir/corpus``.

    For ``seed``, ``distractors`` adds that many 10kGNAD articles to the corpus (default: none, so
    that the unanswerable questions stay unanswerable), and ``questions`` replaces evals/seed.jsonl.
    For ``news``: the number of other 10kGNAD articles (default ``NEWS_DISTRACTORS``), and news.jsonl.
    ``held_out`` (xquad, xquad-r; see ``held_out_topics``) leaves those topics' paragraphs out of the
    corpus and makes their questions unanswerable. ``split`` (default: ``SPLIT``) keeps one half.
    """
    if held_out is not None:
        _check_hold_out_set(name)
    if name not in SETS:
        raise ConfigError(f"unknown question set {name!r}; use one of {', '.join(SETS)}")
    if name == "seed":
        s = _seed_set(work_dir, distractors, questions)
    elif work_dir is None:
        raise ConfigError(f"the {name} set needs a work folder for its corpus")
    else:
        s = (_news_set(Path(work_dir), distractors, questions) if name == "news"
             else _public_set(name, Path(work_dir), distractors, held_out))
    split = split or SPLIT.get()
    return _keep_split(s, split) if split else s


def select(questions: list[EvalQuestion], limit: int | None, *, by_answerable: bool = False) -> list[EvalQuestion]:
    """The first ``limit`` questions, taken round-robin over kinds so that a small limit still
    covers every kind (the order within a kind is kept). ``by_answerable`` alternates answerable and
    unanswerable questions instead (a held-out run: half and half, German and English alternating
    within each half as the set lists them)."""
    if limit is None or limit >= len(questions):
        return list(questions)
    groups: dict[object, list[EvalQuestion]] = {}
    for q in questions:
        groups.setdefault(q.answerable if by_answerable else q.kind, []).append(q)
    return _interleave(*groups.values())[: max(0, limit)]


__all__ = [
    "EvalQuestion", "EvalSet", "HeldOut", "SETS", "KINDS", "HOLD_OUT_SETS", "HOLD_OUT_SEED", "choose_topics",
    "held_out_topics", "load_set", "load_questions", "parse_question", "select", "xquad_topics",
    "NEWS_QUESTIONS", "NEWS_DISTRACTORS", "NEWS_SEED", "SPLIT",
]
