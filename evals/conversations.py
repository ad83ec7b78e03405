"""The conversations set: multi-turn dialogues about the seed article, played with the product.

    python -m evals.conversations                             # the configured model, results in evals/results/
    python -m evals.conversations --model qwen2.5-coder-0.5b --limit 1 --out /tmp/conv-smoke

Each record of ``evals/sets/conversations.jsonl`` is a dialogue of 3–5 turns in German, English or both
(``language``: de, en, mixed). A turn has a ``kind``:

- ``first``: the dialogue's opening question;
- ``follow_up``: it needs the conversation to be understood ("Und wer war aus Finnland dabei?");
- ``switch``: a new, self-contained question within the conversation ("Wer nahm an den Gesprächen im
  Weißen Haus teil?" after a question on troops);
- ``unanswerable``: the article does not say, though the topic is near ("How many troops will the UK send?").

Answerable turns carry ``facts`` (each a list of alternatives, one of which a correct answer contains,
spelling-folded at a word start: ``metrics.contains_fact``); unanswerable ones carry ``"abstain": true``.

The dialogue is played turn by turn as the UI does: the history of a turn is the earlier turns'
questions with the product's own answer texts (a turn whose model call failed is left out). A turn is
*right* when it holds all its facts and did not abstain; an unanswerable turn is right when it
abstained. Reported: turns right overall, per kind and per dialogue language, and the **topic
switches answered about the previous topic**. A switch turn counts there when

1. its standalone question (``Answer.standalone_question``, what was searched) contains a content word
   (``vectorstore.text.content_words``, folded) of the previous turn's question that the switch question
   itself does not have: the product merged it with the conversation; or
2. it was answered (not an abstention) but none of the passages it cites holds any of the turn's facts:
   it answered from the wrong part of the article.

The index is the seed article alone, of its own (``--index-dir``, default ``<cache_dir>/eval-index/conversations-…``).

``--set evals/sets/conversations-xquad.jsonl`` plays the dialogues built from XQuAD by
``evals.conversation_set`` (``evals/sets/CONVERSATIONS-XQUAD.md``), over an index of their paragraphs and
100 10kGNAD distractors (``<cache_dir>/eval-index/conversations-xquad-…``); ``--split dev|test`` plays one
half (split by topic). Its turns also name their paragraph (``article``) and a follow-up its question as
written in XQuAD (``standalone``).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from assistant.errors import AssistantError, ConfigError
from assistant.types import Answer, Turn
from vectorstore.text import content_words, fold

from .datasets import SEEDS_DIR
from .hostile import AnswerRun, log_line, read_records, run_command, table_cell
from .metrics import contains_fact

CONVERSATIONS_SET = Path(__file__).with_name("sets") / "conversations.jsonl"
KINDS = ("first", "follow_up", "switch", "unanswerable")
LANGUAGES = ("de", "en", "mixed")

Ask = Callable[[str, list[Turn]], Answer]


@dataclass(frozen=True)
class DialogueTurn:
    question: str
    kind: str
    facts: tuple[tuple[str, ...], ...] = ()
    abstain: bool = False
    article: str | None = None  # the corpus record that answers it (XQuAD set)
    standalone: str | None = None  # a follow-up as a question of its own (XQuAD set)


@dataclass(frozen=True)
class Dialogue:
    id: str
    language: str
    turns: tuple[DialogueTurn, ...]
    split: str = "dev"  # the seed set is one article, all dev


def _turn(t: dict, where: str) -> DialogueTurn:
    turn = DialogueTurn(t["question"], t["kind"], tuple(tuple(f) for f in t.get("facts", ())), bool(t.get("abstain")),
                        t.get("article"), t.get("standalone"))
    if turn.kind not in KINDS:
        raise ConfigError(f"{where}: kind must be one of {KINDS}, got {turn.kind!r}")
    if turn.abstain != (turn.kind == "unanswerable") or turn.abstain == bool(turn.facts):
        raise ConfigError(f"{where}: an unanswerable turn has \"abstain\": true and no facts, any other turn has facts")
    return turn


def _dialogue(r: dict, where: str) -> Dialogue:
    turns = tuple(_turn(t, f"{where} turn {i}") for i, t in enumerate(r["turns"], 1))
    d = Dialogue(r["id"], r["language"], turns, r.get("split", "dev"))
    if d.language not in LANGUAGES:
        raise ConfigError(f"{where}: language must be one of {LANGUAGES}, got {d.language!r}")
    if not d.turns or d.turns[0].kind != "first" or any(t.kind == "first" for t in d.turns[1:]):
        raise ConfigError(f"{where}: {d.id}: the first turn, and only it, is of kind 'first'")
    return d


def load_dialogues(path: Path = CONVERSATIONS_SET) -> list[Dialogue]:
    """The dialogues of a conversations set; a broken one raises ``ConfigError`` naming its line."""
    return read_records(path, _dialogue)


def score_turn(turn: DialogueTurn, answer: Answer) -> dict:
    """Whether one answer is right for its turn (see the module docstring)."""
    held = [contains_fact(answer.text, f) for f in turn.facts]
    right = answer.abstained if turn.abstain else (not answer.abstained and all(held))
    return {"right": right, "abstained": answer.abstained, "facts_held": sum(held), "facts": len(held)}


def _folded_words(text: str) -> set[str]:
    return {fold(w) for w in content_words(text)}


def previous_topic(turn: DialogueTurn, previous_question: str, answer: Answer) -> list[str]:
    """Why a switch turn was answered about the previous topic; empty when it was not."""
    reasons = []
    carried = _folded_words(previous_question) - _folded_words(turn.question)
    merged = sorted(carried & _folded_words(answer.standalone_question or turn.question))
    if merged:
        reasons.append(f"searched with the previous question's words: {', '.join(merged)}")
    cited = " \n ".join(c.passage for c in answer.citations)
    if not answer.abstained and turn.facts and not any(contains_fact(cited, f) for f in turn.facts):
        reasons.append("cites no passage holding the turn's facts")
    return reasons


def play(dialogue: Dialogue, ask: Ask) -> list[dict]:
    """Ask the dialogue's turns in order, each with the earlier questions and the product's own answers."""
    rows: list[dict] = []
    history: list[Turn] = []
    for i, turn in enumerate(dialogue.turns, 1):
        row: dict = {"dialogue": dialogue.id, "language": dialogue.language, "turn": i, "kind": turn.kind,
                     "question": turn.question}
        rows.append(row)
        try:
            answer = ask(turn.question, list(history))
        except AssistantError as e:
            row.update(right=False, error=f"{type(e).__name__}: {e}")
            continue
        row.update(score_turn(turn, answer), text=answer.text, raw_text=answer.raw_text, standalone_question=answer.standalone_question,
                   citations=[c.number for c in answer.citations], notes=list(answer.notes), error=answer.error,
                   total_s=answer.timings.get("total_s"))
        if turn.kind == "switch":
            row["previous_topic"] = previous_topic(turn, dialogue.turns[i - 2].question, answer)
        if not answer.error:  # as the UI: a failed turn is not part of the conversation
            history.append(Turn.of(turn.question, answer))
    return rows


def _right(rows: list[dict]) -> dict:
    return {"n": len(rows), "right": sum(bool(r.get("right")) for r in rows)}


def summarize(rows: list[dict]) -> dict:
    """Turns right overall, per kind and per dialogue language; switches answered about the previous topic."""
    switches = [r for r in rows if r["kind"] == "switch"]
    return {
        **_right(rows),
        "dialogues": len({r["dialogue"] for r in rows}),
        "by_kind": {k: _right([r for r in rows if r["kind"] == k]) for k in KINDS},
        "by_language": {lang: _right([r for r in rows if r["language"] == lang]) for lang in LANGUAGES},
        "switches": len(switches),
        "switches_on_previous_topic": sum(bool(r.get("previous_topic")) for r in switches),
        "errors": sum(bool(r.get("error")) for r in rows),
    }


def headline(summary: dict) -> str:
    kinds = ", ".join(f"{k} {c['right']}/{c['n']}" for k, c in summary["by_kind"].items())
    return (f"turns right: {summary['right']} of {summary['n']} ({kinds}); topic switches answered about the "
            f"previous topic: {summary['switches_on_previous_topic']} of {summary['switches']}")


def run(dialogues: Sequence[Dialogue], ask: Ask, log: Callable[[str], None] = lambda _m: None) -> dict:
    """Play every dialogue; the per-turn rows and their summary."""
    rows, t0, interrupted = [], time.perf_counter(), False
    for d in dialogues:
        try:
            played = play(d, ask)
        except KeyboardInterrupt:  # Ctrl-C or SIGTERM: score the dialogues played to the end
            interrupted = True
            log(f"interrupted: scoring the {len({r['dialogue'] for r in rows})} dialogues played so far")
            break
        rows += played
        log(f"{d.id}: " + " ".join(f"{r['kind']}={'right' if r.get('right') else 'wrong'}" for r in played))
    return {"rows": rows, "summary": summarize(rows), "seconds": round(time.perf_counter() - t0, 1), "interrupted": interrupted}


def markdown(result: dict, title: str) -> str:
    s = result["summary"]
    lines = [
        f"# Conversations: {title}", "",
        f"**{headline(s)}**; {s['dialogues']} dialogues, errors {s['errors']}, {result['seconds']} s"
        f"{' (interrupted: the dialogues played to the end are scored)' if result.get('interrupted') else ''}.", "",
        "| group | turns | right |", "| --- | ---: | ---: |",
        *(f"| kind {k} | {c['n']} | {c['right']} |" for k, c in s["by_kind"].items() if c["n"]),
        *(f"| dialogues {lang} | {c['n']} | {c['right']} |" for lang, c in s["by_language"].items() if c["n"]),
        "", "## Turns", "",
        "| dialogue | turn | kind | right | question | searched as | answer | previous topic |",
        "| --- | ---: | --- | --- | --- | --- | --- | --- |",
    ]
    for r in result["rows"]:
        answer = r.get("text") if "text" in r else f"error: {r['error']}"
        searched = r.get("standalone_question", "")
        searched = "(as asked)" if searched == r["question"] else searched
        lines.append(f"| {r['dialogue']} | {r['turn']} | {r['kind']} | {'yes' if r.get('right') else 'no'} | "
                     f"{table_cell(r['question'], 70)} | {table_cell(searched, 90)} | {table_cell(answer)} | "
                     f"{table_cell('; '.join(r.get('previous_topic', [])), 90)} |")
    return "\n".join(lines) + "\n"


def is_xquad_set(path: Path) -> bool:
    """A set built by ``evals.conversation_set``: its held-out topics are written beside it."""
    return path.with_suffix(".topics.json").exists()


def _xquad_corpus(set_path: Path, index_dir: Path) -> list[Path]:
    from benchmarks.common import write_jsonl

    from .conversation_set import corpus_records

    return [write_jsonl(index_dir / "corpus" / "conversations-xquad.jsonl", corpus_records(set_path))]


def main(argv: list[str] | None = None, prog: str = "python -m evals.conversations") -> int:
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--set", type=Path, default=CONVERSATIONS_SET)
    pre.add_argument("--split", choices=("dev", "test"), help="play one half of the set (split by article / XQuAD topic)")
    known, rest = pre.parse_known_args(list(sys.argv[1:] if argv is None else argv))
    rest = [*rest, "--set", str(known.set)]
    xquad = is_xquad_set(known.set)

    def load(path: Path) -> list[Dialogue]:
        return [d for d in load_dialogues(path) if known.split in (None, d.split)]

    return run_command(AnswerRun(
        "conversations-xquad" if xquad else "conversations", CONVERSATIONS_SET, "play only the first N dialogues", load,
        corpus=(lambda _d, index_dir: _xquad_corpus(known.set, index_dir)) if xquad else (lambda _d, _i: [SEEDS_DIR]),
        run=lambda dialogues, assistant, limit: run(dialogues[:limit], assistant.ask, log=log_line),
        markdown=markdown, headline=headline,
    ), rest, prog, __doc__ + "\n--split dev|test: play one half of the set.")


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
