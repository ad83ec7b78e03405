"""Builds the XQuAD conversation set (``evals/sets/conversations-xquad.jsonl``, described in
``evals/sets/CONVERSATIONS-XQUAD.md``): dialogues made by rule from XQuAD's parallel questions.

    python -m evals.conversation_set            # writes the set; prints counts per half and kind only

A dialogue is about one paragraph: its first question; a follow-up (another question of the same
paragraph whose noun phrase shared with the first becomes a pronoun or "dort"/"there", half of them
also opened with "Und"/"And"); a switch to a paragraph of another topic and a follow-up on that one; and
an unanswerable question from a topic left out of the index, opened with "Und"/"And" as if it followed
on. The rules live in ``evals/sets/refer-back/<lang>.json``. The halves are by topic
(``benchmarks.splits``); a dialogue only draws on topics of its own half.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from vectorstore.text import STOPWORDS, fold

from .datasets import EvalQuestion, _xquad_questions

SET_PATH = Path(__file__).with_name("sets") / "conversations-xquad.jsonl"
RULES_DIR = Path(__file__).with_name("sets") / "refer-back"
HELD_OUT_PER_HALF = 2  # topics per half left out of the index: the source of unanswerable turns
SEED = 0
DISTRACTORS = 100  # 10kGNAD articles added to the set's index

_TOKEN = re.compile(r"[\w’'-]+", re.UNICODE)


def load_rules(lang: str) -> dict:
    return json.loads((RULES_DIR / f"{lang}.json").read_text(encoding="utf-8"))


@dataclass(frozen=True)
class _Tok:
    text: str
    start: int
    end: int

    @property
    def key(self) -> str:
        """The folded word without an English possessive ending."""
        return re.sub(r"(?:['’]s|['’])$", "", fold(self.text))


def _tokens(text: str) -> list[_Tok]:
    return [_Tok(m.group(), m.start(), m.end()) for m in _TOKEN.finditer(text)]


def _is_content(tok: _Tok) -> bool:
    return len(tok.key) >= 3 and tok.key not in STOPWORDS


def _shared_run(toks: list[_Tok], i: int, shared: set[str], lang: str) -> int:
    """End (exclusive) of the longest run of content words from ``i`` that the previous question also
    has (a German one ending on a capitalised noun; a number may close a name: "Super Bowl 50");
    ``i`` when there is none. Stop words end the run, so a pronoun never swallows a clause."""
    end, j = i, i
    while j < len(toks) and toks[j].key in shared:
        last = toks[j]
        if _is_content(last) and (lang != "de" or last.text[:1].isupper()):
            end = j = j + 1
        elif end > i and (last.text.isdigit() or last.text.isupper()):
            end = j = j + 1
        else:
            break
    return end


def _closes(question: str, toks: list[_Tok], end: int, rules: dict) -> bool:
    """Whether a noun phrase may end before token ``end``: at the end, at punctuation, or before a
    stop word that does not continue it (a genitive "des"/"of" does)."""
    if end >= len(toks):
        return True
    nxt = toks[end].text.lower()
    if nxt in rules["relative"]:  # "the company (that) the businessmen financed", "der Ball, den …"
        return False
    if nxt in rules["name_joiners"] and end + 1 < len(toks) and toks[end + 1].text[:1].isupper():
        return False  # "Victoria and Albert Museum": a name goes on
    if re.search(r"[,;:?!.]", question[toks[end - 1].end : toks[end].start]):
        return True
    return toks[end].key in STOPWORDS and nxt not in rules["continues_phrase"] and toks[end].text[:1].islower()


@dataclass(frozen=True)
class _Candidate:
    start: int  # character span in the question that is replaced
    end: int
    replacement: str
    weight: int  # content words replaced


def _candidates(question: str, previous: str, lang: str, rules: dict) -> list[_Candidate]:
    toks = _tokens(question)
    shared = {t.key for t in _tokens(previous)}
    preps = set(rules["prepositions"])
    out = []
    for i, tok in enumerate(toks):
        low = tok.text.lower()
        before = toks[i - 1].text.lower() if i else ""
        if low in rules["place"] and toks[0].text.lower() not in rules["asks_place"]:  # "in Anchorage" -> "dort"
            k = i + 1 + (i + 1 < len(toks) and toks[i + 1].text.lower() in _articles(lang, rules))
            end = _shared_run(toks, k, shared, lang)
            if end > k and toks[k].text[:1].isupper() and _closes(question, toks, end, rules):
                out.append(_Candidate(tok.start, toks[end - 1].end, rules["place"][low], end - k))
        if low not in _articles(lang, rules):
            continue
        end = _shared_run(toks, i + 1, shared, lang)
        if end == i + 1 or not _closes(question, toks, end, rules):
            continue  # nothing shared, or the phrase goes on and the pronoun would leave it hanging
        pronoun = _pronoun(toks, i, end, before in preps, lang, rules)
        if pronoun:
            out.append(_Candidate(tok.start, toks[end - 1].end, pronoun, sum(map(_is_content, toks[i + 1 : end]))))
    return out


def _articles(lang: str, rules: dict) -> set[str]:
    return set(rules["pronoun"]) if lang == "de" else {rules["article"]}


def _pronoun(toks: list[_Tok], i: int, end: int, after_preposition: bool, lang: str, rules: dict) -> str | None:
    article = toks[i].text.lower()
    if lang == "de":
        if after_preposition:
            return rules["pronoun_after_preposition"].get(article)
        # "der" is also a dative and a genitive: only right after a singular verb or question word is it a subject
        if article == "der" and (i == 0 or toks[i - 1].text.lower() not in rules["subject_after"]):
            return None
        if article == "den" and toks[end - 1].text.endswith("n"):
            return None  # "den Spielern": a dative plural, not "ihn"
        if i > 0 and toks[i - 1].text.lower() == "sich":
            return None  # "haben sich sie" is no German word order
        return rules["pronoun"][article]
    last = toks[end - 1]
    plural = last.key.endswith("s") and not last.key.endswith(("ss", "us", "is"))
    if last.text.endswith(("'s", "’s", "s'", "s’")):
        return rules["plural_possessive" if plural else "singular_possessive"]
    object_position = after_preposition or (i > 0 and toks[i - 1].key not in STOPWORDS)
    if plural:
        return rules["plural_object" if object_position else "plural"]
    return rules["singular_object" if object_position else "singular"]


def refer_back(question: str, previous: str, lang: str, rules: dict, *, with_and: bool = False) -> str | None:
    """``question`` as a follow-up to ``previous``: its noun phrase shared with ``previous`` (the most
    content words) replaced by a pronoun or a place adverb; optionally opened with "Und"/"And".
    None when the two share no replaceable phrase.

    >>> refer_back("Wie viele Grammys gewann die Sängerin?", "Wer war die Sängerin?", "de", load_rules("de"))
    'Wie viele Grammys gewann sie?'
    """
    found = _candidates(question, previous, lang, rules)
    if not found:
        return None
    best = max(found, key=lambda c: (c.weight, c.end - c.start))
    out = re.sub(r"\s+", " ", question[: best.start] + best.replacement + question[best.end :]).strip()
    if best.start == 0:
        out = out[:1].upper() + out[1:]
    if with_and:
        out = and_form(out, rules) or out
    return out if out != question and out.endswith("?") else None


def and_form(question: str, rules: dict) -> str | None:
    """ "Und wann …?" / "And when …?"; None when the question does not open with a question word,
    stop word or preposition (it would need its first word's case decided)."""
    toks = _tokens(question)
    first = toks[0].text.lower() if toks else ""
    if first not in STOPWORDS and first not in rules["question_words"] and first not in rules["prepositions"]:
        return None
    return f"{rules['and']} {question[:1].lower() + question[1:]}"


def _question_dict(q: EvalQuestion, kind: str, text: str | None = None) -> dict:
    d = {"question": text or q.question, "kind": kind, "article": q.gold_article}
    if kind == "unanswerable":
        return {"question": d["question"], "kind": kind, "abstain": True}
    d["facts"] = [list(f) for f in q.gold_facts]
    if text and text != q.question:
        d["standalone"] = q.question
    return d


def _stable(*parts: str) -> int:
    return int.from_bytes(hashlib.sha256("|".join(parts).encode()).digest()[:4], "big")


def follow_up_pair(questions: Sequence[EvalQuestion], rules: dict) -> tuple[EvalQuestion, EvalQuestion, str] | None:
    """(first, second, the second as a follow-up) of one paragraph's questions in one language: the
    first pair in a seeded order whose second question asks something else (other facts)."""
    unique = list({q.question: q for q in questions}.values())
    order = sorted(unique, key=lambda q: _stable(q.id))
    for a in order:
        for b in order:
            if a is b or set(a.gold_facts[0]) & set(b.gold_facts[0]):
                continue
            text = refer_back(b.question, a.question, a.language, rules, with_and=_stable(b.id, "and") % 2 == 0)
            if text:
                return a, b, text
    return None


def build(seed: int = SEED) -> tuple[list[dict], list[str]]:
    """(dialogues, held-out topics). Each paragraph gives at most one dialogue, German and English in turn."""
    _records, questions = _xquad_questions("xquad", None)
    by_para: dict[str, dict[str, list[EvalQuestion]]] = defaultdict(lambda: defaultdict(list))
    for q in questions:
        by_para[q.gold_article][q.language].append(q)
    topic_of = {p: qs["de"][0].topic for p, qs in by_para.items()}
    split_of = {p: qs["de"][0].split for p, qs in by_para.items()}
    rng = random.Random(seed)
    held: list[str] = []
    for half in ("dev", "test"):
        topics = sorted({topic_of[p] for p in by_para if split_of[p] == half})
        held += rng.sample(topics, HELD_OUT_PER_HALF)
    rules = {lang: load_rules(lang) for lang in ("de", "en")}
    paras = sorted(p for p in by_para if topic_of[p] not in held)
    pairs = {(p, lang): follow_up_pair(by_para[p][lang], rules[lang]) for p in paras for lang in ("de", "en")}
    dialogues, used = [], defaultdict(int)
    for n, p in enumerate(paras):
        langs = ("de", "en") if n % 2 == 0 else ("en", "de")
        lang = next((x for x in langs if pairs[(p, x)] is not None), None)
        if lang is None:
            continue
        others = [o for o in paras if split_of[o] == split_of[p] and topic_of[o] != topic_of[p] and pairs[(o, lang)]]
        unanswerable = [q for pp, qs in by_para.items() if topic_of[pp] in held and split_of[pp] == split_of[p]
                        for q in qs[lang]]
        a, b, follow = pairs[(p, lang)]
        # the least used other paragraph first, so that switches spread over the half
        other = min(others, key=lambda o: (used[o], _stable(o, p)))
        used[other] += 1
        c, d, follow_c = pairs[(other, lang)]
        u = rng.choice(sorted((q for q in unanswerable if and_form(q.question, rules[lang])), key=lambda q: q.id))
        turns = [_question_dict(a, "first"), _question_dict(b, "follow_up", follow), _question_dict(c, "switch"),
                 _question_dict(d, "follow_up", follow_c),
                 _question_dict(u, "unanswerable", and_form(u.question, rules[lang]))]
        dialogues.append({"id": f"x{p.removeprefix('xquad-')}-{lang}", "language": lang, "split": split_of[p],
                          "topic": topic_of[p], "turns": turns})
    return dialogues, held


def corpus_records(set_path: Path = SET_PATH, distractors: int = DISTRACTORS) -> list[dict]:
    """The set's index: every XQuAD paragraph but those of the held-out topics (``<set>.topics.json``,
    written with the set), plus the first ``distractors`` 10kGNAD articles."""
    from benchmarks.turns import conversation_corpus  # the answer bench plays over the same index

    return conversation_corpus(set_path, distractors)


def main() -> int:
    dialogues, held = build()
    with SET_PATH.open("w", encoding="utf-8") as f:
        for d in dialogues:
            f.write(json.dumps(d, ensure_ascii=False) + "\n")
    _r, questions = _xquad_questions("xquad", None)
    indexed = sorted({q.topic for q in questions} - set(held))
    SET_PATH.with_suffix(".topics.json").write_text(
        json.dumps({"held_out": sorted(held), "indexed": indexed}, indent=1) + "\n", encoding="utf-8")
    # counts only: the test half is not to be read
    for half in ("dev", "test"):
        ds = [d for d in dialogues if d["split"] == half]
        kinds: dict[str, int] = defaultdict(int)
        for d in ds:
            for t in d["turns"]:
                kinds[t["kind"]] += 1
        print(f"{half}: {len(ds)} dialogues, {sum(kinds.values())} turns: " + ", ".join(f"{k} {v}" for k, v in kinds.items()))
    print(f"-> {SET_PATH}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
