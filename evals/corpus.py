"""A large synthetic verifier corpus, German and English, half of it cross-lingual, split by article.

    python -m evals.corpus              # writes evals/sets/verifier-corpus.jsonl (seed 7, same output)

Each pair changes one thing in one sentence of XQuAD (German or English), 10kGNAD or MLQA and checks
the claim against a window of the sentence's paragraph, in the claim's language or the other one.
Cross-lingual pairs need no translation: the German and English XQuAD sentences that USE aligns 1:1
(``evals.corpus_data.align``) are each other's claims. Every pair carries the dev/test half of its
article (``evals.splits``); edits that draw names, places or neighbours from the corpus draw them from
the same half. See ``evals/sets/CORPUS.md`` for the kinds, the counts and the label audit.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import re
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from evals import perturb as P
from evals import perturb_names as N
from evals import synthetic as S
from evals.corpus_data import (Lexicon, Para, Sent, align, build_lexicon, claim_text, load_gnad, load_mlqa, load_xquad,
                               sentences, shuffled, window)
from vectorstore.text import fold, numbers

if TYPE_CHECKING:
    from vectorstore.embedder import Embedder

DATA = S.DATA
OUT = S.SETS / "verifier-corpus.jsonl"
SEED = 7

TRUE_KINDS = ("verbatim", "translation", "sub_claim", "reorder", "abbreviation", "possessive", "date_format", "number_format")
FALSE_KINDS = {
    "deleted": "not_found", "entity": "contradicted", "number": "contradicted", "date": "contradicted",
    "roles": "contradicted", "negation": "contradicted", "quantifier": "contradicted", "added_detail": "not_found",
    "other_article": "not_found", "modality": "not_found",
}
KINDS = {**{k: "supported" for k in TRUE_KINDS}, **FALSE_KINDS}
DIRECTIONS = ("de>de", "en>en", "en>de", "de>en")  # claim language > passage language

#: pairs wanted per kind and direction, half from each split (fewer where an edit applies to fewer sentences)
PLAN: dict[str, tuple[int, int, int, int]] = {
    "verbatim": (80, 70, 0, 0), "translation": (0, 0, 200, 243), "sub_claim": (170, 140, 120, 120),
    "reorder": (40, 50, 45, 0), "abbreviation": (80, 30, 25, 25), "possessive": (40, 20, 15, 10),
    "date_format": (60, 15, 12, 12), "number_format": (80, 25, 33, 40),
    "deleted": (80, 50, 60, 60), "entity": (70, 35, 45, 35), "number": (70, 40, 55, 55), "date": (55, 40, 55, 55),
    "roles": (10, 10, 10, 5), "negation": (70, 45, 55, 55), "quantifier": (60, 45, 55, 55),
    "added_detail": (60, 40, 50, 55), "other_article": (50, 30, 50, 60), "modality": (25, 15, 15, 15),
}
#: kinds that make up, in this order, what the others of their label fall short of in a direction and split
FILLERS = {"supported": ("sub_claim", "translation", "verbatim"), "contradicted": ("negation", "number", "quantifier"),
           "not_found": ("deleted", "added_detail")}
#: German sentences over German passages come from these sources in about these shares
DE_SHARES = {"10kgnad": 0.55, "mlqa": 0.25, "xquad": 0.2}
#: 10kGNAD articles (per split) whose sentences other_article claims are drawn from, beside XQuAD's and MLQA's
GNAD_POOL = 120
#: at most this many times an article's fair share of one kind and direction
CAP_FACTOR = 2.5


class Memo:
    """An embedder that embeds each text once (the XQuAD sentences are aligned and then searched)."""

    def __init__(self, inner: "Embedder"):
        self.inner, self.name, self._seen = inner, inner.name, {}

    def embed(self, texts: list[str], kind: str = "query"):
        import numpy as np

        todo = list(dict.fromkeys(t for t in texts if (t, kind) not in self._seen))
        if todo:
            self._seen.update({(t, kind): v for t, v in zip(todo, self.inner.embed(todo, kind))})
        return np.stack([self._seen[(t, kind)] for t in texts]) if texts else self.inner.embed([], kind)


@dataclass(frozen=True)
class Unit:
    """A claim sentence and the sentence whose window is the passage (the same one, or its parallel)."""

    claim: Sent
    passage: Sent

    @property
    def direction(self) -> str:
        return f"{self.claim.para.language}>{self.passage.para.language}"

    @property
    def split(self) -> str:
        return self.passage.para.split


@dataclass
class Data:
    units: dict[str, list[Unit]]  # direction -> units, in a fixed random order
    lex: dict[str, Lexicon]  # split -> people and places
    causes: dict[tuple[str, str], list[str]]  # (split, language) -> cause adverbials
    parallel: dict[str, str] = field(default_factory=dict)  # passage id (either language) -> parallel sentence
    neighbours: dict[tuple[str, str], str] = field(default_factory=dict)  # (sentence id, language) -> claim


# --------------------------------------------------------------------------------------------------
# Loading.


def _weighted_order(sents: list[Sent], shares: dict[str, float], rng: random.Random) -> list[Sent]:
    """A random order in which each source comes up about as often as its share (Efraimidis-Spirakis)."""
    count = Counter(s.para.source for s in sents)
    keys = [rng.random() ** (count[s.para.source] / shares[s.para.source]) for s in sents]
    return [s for _, s in sorted(zip(keys, sents), key=lambda x: -x[0])]


def load(data: Path, use: "Embedder", seed: int, gnad_limit: int | None = None) -> tuple[Data, list[Para]]:
    rng = random.Random(seed)
    xde, xen = load_xquad(data / "xquad-r")
    gnad = load_gnad(data / "10kGNAD" / "test.csv")[:gnad_limit]
    mlqa = load_mlqa(data / "mlqa" / "mlqa.de.de.validation.jsonl")
    pairs = align(xde, xen, use)
    de_sents = sentences(xde) + sentences(gnad, first=1) + sentences(mlqa)
    units = {
        "de>de": [Unit(s, s) for s in _weighted_order(de_sents, DE_SHARES, rng)],
        "en>en": [Unit(s, s) for s in shuffled(sentences(xen), rng)],
    }
    ordered = shuffled(sorted(pairs.values(), key=lambda p: p[0].passage_id), rng)
    units["en>de"] = [Unit(e, d) for d, e in ordered]
    units["de>en"] = [Unit(d, e) for d, e in shuffled(ordered, rng)]
    paras = xde + xen + gnad + mlqa
    lex, causes = {}, {}
    for split in ("dev", "test"):
        mine = [p for p in paras if p.split == split]
        lex[split] = build_lexicon(mine)
        for lang in ("de", "en"):
            causes[(split, lang)] = P.cause_phrases(sorted({p.article_text for p in mine if p.language == lang}), lang)
    parallel = {d.passage_id + "@de": e.text for d, e in pairs.values()} | {e.passage_id + "@en": d.text for d, e in pairs.values()}
    return Data(units, lex, causes, parallel), paras


# --------------------------------------------------------------------------------------------------
# Neighbours: the most similar sentence of another article of the same half (USE short list, e5 picks).


def neighbours(queries: list[Sent], pool: list[Sent], use: "Embedder", e5: "Embedder", k: int = 3) -> dict[tuple[str, str], str]:
    """(sentence id, language) -> the on-topic sentence of another article that e5 finds nearest among
    USE's ``k`` nearest (with at most half its content words in the query's article)."""
    import numpy as np

    if not queries or not pool:
        return {}
    pool_text = [claim_text(p) for p in pool]
    sims = use.embed([claim_text(q) for q in queries], "query") @ use.embed(pool_text, "query").T
    short: dict[int, list[int]] = {}
    for i, q in enumerate(queries):
        order = [int(j) for j in np.argsort(-sims[i], kind="stable") if pool[int(j)].group != q.group][: k * 3]
        short[i] = [j for j in order if P.content_overlap(pool_text[j], q.para.article_text) <= 0.5][:k]
    wanted = sorted({j for js in short.values() for j in js})
    if not wanted:
        return {}
    vq = e5.embed([claim_text(q) for q in queries], "query")
    vp = dict(zip(wanted, e5.embed([pool_text[j] for j in wanted], "query")))
    out = {}
    for i, q in enumerate(queries):
        scored = sorted(((float(vq[i] @ vp[j]), -j) for j in short[i]), reverse=True)
        best = next((-j for s, j in scored if s < 0.95), None)
        if best is not None:
            out[(q.passage_id, q.para.language)] = pool_text[best]
    return out


def add_neighbours(d: Data, paras: list[Para], use: "Embedder", e5: "Embedder", seed: int, per: int) -> None:
    """Neighbours for the first ``per`` claim sentences of each direction and split (enough to fill the plan)."""
    rng = random.Random(seed + 1)
    for split in ("dev", "test"):
        for lang in ("de", "en"):
            queries = list(dict.fromkeys(u.claim for dirn, us in d.units.items() if dirn.startswith(lang)
                                         for u in [u for u in us if u.split == split][:per]))
            pool_paras = [p for p in paras if p.split == split and p.language == lang]
            gnad = [p for p in pool_paras if p.source == "10kgnad"]
            keep = {p.pid for p in shuffled(gnad, rng)[:GNAD_POOL]} | {q.para.pid for q in queries}
            pool = sentences([p for p in pool_paras if p.source != "10kgnad" or p.pid in keep], first=0)
            d.neighbours.update(neighbours(queries, pool, use, e5))


# --------------------------------------------------------------------------------------------------
# One pair: the claim and the passage for a kind and a unit, or None where the edit does not apply.


def _entity(text: str, u: Unit, d: Data, rng: random.Random) -> str | None:
    lex, lang = d.lex[u.split], u.claim.para.language
    mentions = lex.mentions(text, lang)
    art = fold(u.claim.para.article_text + " " + u.passage.para.article_text)
    pools = {}
    for kind, names_ in (("person", lex.persons), ("place", lex.places[lang])):
        here = [n for n in names_ if lex.folded[n] in art]
        pools[kind] = shuffled(here, rng) + shuffled(names_, rng)
    avoid = u.passage.text + " " + d.parallel.get(f"{u.claim.passage_id}@{lang}", "")
    return N.swap_entity(text, mentions, pools, avoid, rng)


def _added_detail(text: str, u: Unit, d: Data, rng: random.Random, passage: str) -> str | None:
    lang, lex = u.claim.para.language, d.lex[u.split]
    art = fold(u.claim.para.article_text + " " + u.passage.para.article_text)
    options: list[Callable[[], str | None]] = [lambda: S.add_person(text, lang, art, lex.persons, rng)]
    if not any(lex.mentions(t, l)["place"] for t, l in ((text, lang), (passage, u.passage.para.language))):
        places = [p for p in lex.places[lang] if fold(p) not in art]
        if places:
            options.append(lambda: P.insert_phrase(text, lang, "in " + rng.choice(places)))
    if not P.has_time(text) and not P.has_time(passage):
        years = sorted(set(re.findall(r"\b(?:1[5-9]\d\d|20[0-2]\d)\b", u.claim.para.article_text)))
        phrase = (("im Jahr " if lang == "de" else "in ") + rng.choice(years)) if years else rng.choice(P.WEEKDAY_PHRASES[lang])
        options.append(lambda: P.insert_phrase(text, lang, phrase))
    if not P.has_cause(text, lang) and not P.has_cause(passage, u.passage.para.language):
        causes = [c for c in d.causes[(u.split, lang)] if fold(c) not in art] + P.CAUSES[lang]
        options.append(lambda: P.insert_phrase(text, lang, rng.choice(causes)))
    for make in shuffled(options, rng):
        claim = make()
        if claim:
            return claim
    return None


def _claim(kind: str, u: Unit, d: Data, rng: random.Random, passage: str) -> str | None:
    text, lang = claim_text(u.claim), u.claim.para.language
    lex = d.lex[u.split]
    is_name = lambda w: lex.is_name(w, lang) or w in lex.places[lang]  # noqa: E731
    edits: dict[str, Callable[[], str | None]] = {
        "verbatim": lambda: text, "translation": lambda: text, "deleted": lambda: text,
        "sub_claim": lambda: P.sub_claim(text, lang, is_name, rng),
        "reorder": lambda: S.reorder(text, lang), "abbreviation": lambda: S.abbreviate(text, lang),
        "possessive": lambda: N.possessive_checked(text, lang, is_name), "date_format": lambda: S.reformat_date(text, lang),
        "number_format": lambda: P.number_format(text, lang),
        "entity": lambda: _entity(text, u, d, rng),
        "number": lambda: P.change_figure(text, lang, u.claim.para.article_text, rng),
        "date": lambda: S.change_date(text, lang, rng),
        "roles": lambda: N.swap_actors(text, lex.persons, lex.proper.get(lang, frozenset()), lex.places[lang], lang),
        "negation": lambda: P.negate_clean(text, lang), "quantifier": lambda: P.flip_quantifier(text, lang, rng),
        "modality": lambda: P.state_as_fact_more(text, lang),
        "added_detail": lambda: _added_detail(text, u, d, rng, passage),
        "other_article": lambda: d.neighbours.get((u.claim.passage_id, lang)),
    }
    claim = edits[kind]()
    if not claim or (claim == text) != (kind in ("verbatim", "translation", "deleted")):
        return None
    if kind not in ("verbatim", "translation", "deleted", "other_article") and lang == u.passage.para.language \
            and fold(claim) in fold(passage) and KINDS[kind] != "supported":
        return None
    return claim


def _deleted_passage(u: Unit, rng: random.Random) -> str | None:
    """The neighbours on one side of the sentence, without it: not_found unless they repeat it."""
    n, i = len(u.passage.para.spans), u.passage.i
    k = rng.choice([2, 3])
    side = "after" if i == 0 else "before" if i == n - 1 else rng.choice(["before", "after"])
    passage = window(u.passage, k if side == "before" else 0, k if side == "after" else 0, skip_self=True)
    if not passage or P.content_overlap(u.passage.text, passage) > 0.5:
        return None
    figures = set(numbers(u.passage.text))
    if figures and figures <= set(numbers(passage)):
        return None
    return passage


def make_pair(kind: str, u: Unit, d: Data, seed: int) -> tuple[str, str] | None:
    """(claim, passage) for ``kind`` made from ``u``; the random choices depend on the unit alone."""
    rng = random.Random(f"{seed}|{kind}|{u.claim.passage_id}|{u.direction}")
    if kind == "deleted":
        passage = _deleted_passage(u, rng)
    else:
        passage = window(u.passage, rng.choice([1, 2]), rng.choice([1, 2]))
    if not passage:
        return None
    claim = _claim(kind, u, d, rng, passage)
    return (claim, passage) if claim else None


# --------------------------------------------------------------------------------------------------
# Building the corpus.


def record(kind: str, u: Unit, claim: str, passage: str, n: int) -> dict:
    label, p = KINDS[kind], u.passage.para
    return {
        "id": f"vc-{kind}-{n:04d}", "source": p.source, "passage_id": u.passage.passage_id, "passage_title": p.title,
        "passage_date": "", "passage": passage, "passage_language": p.language, "claim": claim,
        "claim_language": u.claim.para.language, "label": label, "kind": kind,
        "evidence": "" if label == "not_found" else u.passage.text, "split": p.split, "article": p.article,
    }


def _take(kind: str, units: list[Unit], n: int, cap: int, d: Data, seed: int, taken: Counter, out: list[dict]) -> int:
    """Up to ``n`` pairs of ``kind`` from ``units`` (in their order), at most ``cap`` per article and
    kind (``taken`` counts them); returns how many were made."""
    made = 0
    for u in units:
        if made >= n:
            break
        if taken[(kind, u.passage.group)] >= cap or (kind, u) in taken:
            continue
        pair = make_pair(kind, u, d, seed)
        if pair:
            out.append(record(kind, u, *pair, len(out)))
            taken[(kind, u.passage.group)] += 1
            taken[(kind, u)] = 1
            made += 1
    return made


def fill(d: Data, seed: int, scale: float = 1.0) -> list[dict]:
    """Every kind, direction and split up to its share of PLAN, at most a few pairs per article; what
    a kind falls short of is made up by FILLERS of its label, so each direction stays balanced."""
    out: list[dict] = []
    for k, direction in enumerate(DIRECTIONS):
        for split in ("dev", "test"):
            units = [u for u in d.units[direction] if u.split == split]
            groups = max(1, len({u.passage.group for u in units}))
            taken: Counter = Counter()
            short: Counter = Counter()
            for kind, wanted in PLAN.items():
                n = round(wanted[k] * scale / 2)
                if n:
                    cap = max(2, math.ceil(CAP_FACTOR * n / groups))
                    short[KINDS[kind]] += n - _take(kind, units, n, cap, d, seed, taken, out)
            for label, missing in short.items():
                for kind in FILLERS[label]:
                    if missing > 0 and PLAN[kind][k]:
                        cap = max(2, math.ceil(CAP_FACTOR * (PLAN[kind][k] * scale / 2 + missing) / groups))
                        missing -= _take(kind, units, missing, cap, d, seed, taken, out)
    return out


def build(data: Path, use: "Embedder", e5: "Embedder", *, seed: int = SEED, scale: float = 1.0,
          gnad_limit: int | None = None) -> list[dict]:
    use = Memo(use)
    d, paras = load(data, use, seed, gnad_limit)
    per = math.ceil(2 * max(PLAN["other_article"]) * scale / 2)
    add_neighbours(d, paras, use, e5, seed, per)
    return fill(d, seed, scale)


def summary(records: list[dict]) -> str:
    by = defaultdict(Counter)
    for r in records:
        by[r["kind"]][f"{r['claim_language']}>{r['passage_language']}"] += 1
        by[r["kind"]][r["split"]] += 1
    lines = [f"{len(records)} pairs; " + ", ".join(f"{k} {v}" for k, v in sorted(Counter(r["label"] for r in records).items()))]
    cross = sum(r["claim_language"] != r["passage_language"] for r in records)
    lines.append(f"cross-lingual {cross} ({cross / max(1, len(records)):.0%}); " +
                 ", ".join(f"{k} {v}" for k, v in sorted(Counter(r["split"] for r in records).items())))
    for kind in KINDS:
        c = by[kind]
        lines.append(f"  {kind:14s} {KINDS[kind]:12s} " + " ".join(f"{x} {c[x]:3d}" for x in (*DIRECTIONS, "dev", "test")))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m evals.corpus", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DATA, help="folder with xquad-r/, 10kGNAD/ and mlqa/")
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--seed", type=int, default=SEED)
    args = ap.parse_args(argv)
    from assistant.settings import Settings
    from vectorstore.embedder import make_embedder

    s = Settings()
    kw = dict(cache_dir=Path(s.paths.cache_dir), quantize=s.embedding.quantize, batch_size=s.embedding.batch_size,
              threads=s.embedding.threads)
    records = build(args.data, make_embedder("use-multilingual", **kw), make_embedder("e5-small", **kw), seed=args.seed)
    args.out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    print(f"-> {args.out}\n" + summary(records))
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
