"""Conversation turns in ``assistant bench answer``: a fixed few dialogues of the XQuAD conversation
set's **dev** half, played as the UI plays them (each turn with the earlier questions and the product's
own answers), timed for first turns and follow-ups apart: time to passages, to the first token and to
the checked answer, and the model calls each turn cost.

The calls are counted by wrapping the chat model's ``stream`` and ``yes_probability`` on the instance
(``CallLog``), so the product still sees its own model (type, prompt statistics, prompt cache); a call's
purpose is read from its system prompt (the condense prompt = a rewrite, the answer prompt = an answer),
``yes_probability`` is a judge's question. A follow-up's extra cost over a first turn is then measured,
not guessed.

The index is the one ``python -m evals.conversations --set evals/sets/conversations-xquad.jsonl`` plays
over (``conversation_corpus``), kept in ``<cache_dir>/bench-answer-turns`` so that later runs ingest
nothing.
"""

from __future__ import annotations

import json
import statistics
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from .common import REPO, gnad, pct, xquad
from .splits import split_of

SET = REPO / "evals" / "sets" / "conversations-xquad.jsonl"
#: dialogues played per configuration: 5 turns each (first, follow-up, switch, follow-up, unanswerable)
DIALOGUES = 6
DISTRACTORS = 100  # 10kGNAD articles in the index, as in the evaluation's
#: the turn kinds reported apart; switches and unanswerable turns are played and summarised as "other"
GROUPS = {"first": ("first",), "follow_up": ("follow_up",), "other": ("switch", "unanswerable")}
PURPOSES = ("condense", "answer", "judge", "other")


def dev_dialogues(path: Path = SET, n: int = DIALOGUES) -> list[dict]:
    """The first ``n`` dialogues of the dev half in file order, chosen by the split rule
    (``benchmarks.splits.split_of`` on the dialogue's XQuAD topic). Test-half records are dropped as
    they are read: never kept, played or printed."""
    out: list[dict] = []
    with path.open(encoding="utf-8") as f:
        for line in f:
            if len(out) >= n:
                break
            record = json.loads(line) if line.strip() else None
            if record is not None and split_of("xquad", record["topic"]) == "dev":
                out.append(record)
    return out


def conversation_corpus(set_path: Path = SET, distractors: int = DISTRACTORS) -> list[dict]:
    """The conversation set's index: every XQuAD paragraph but those of the held-out topics
    (``<set>.topics.json``, written with the set), plus the first ``distractors`` 10kGNAD articles."""
    held = set(json.loads(set_path.with_suffix(".topics.json").read_text(encoding="utf-8"))["held_out"])
    records, questions, _en = xquad()
    titles = xquad_titles()
    topic_of = {q.gold: titles[q.group] for q in questions}
    return [r for r in records if topic_of[r["id"]] not in held] + gnad()[:distractors]


def xquad_titles() -> list[str]:
    """The XQuAD topics (article titles), indexed like ``Question.group``."""
    from .common import XQUAD_EN

    return [art["title"] for art in json.loads(XQUAD_EN.read_text(encoding="utf-8"))["data"]]


@dataclass(frozen=True)
class Call:
    """One model call: what for, its token budget, the pieces it streamed, its wall time and, where the
    back end reports it, its prompt (tokens, new tokens after the cached prefix, their seconds)."""

    purpose: str
    seconds: float
    max_tokens: int | None = None
    pieces: int = 0
    prompt_tokens: int | None = None
    new_prompt_tokens: int | None = None
    prompt_s: float | None = None


class CallLog:
    """Records every call a chat model gets (``attach``). ``purposes`` maps a prompt's system text to
    what the call is for; a call with another system text is "other", a ``yes_probability`` "judge"."""

    def __init__(self, purposes: dict[str, str]):
        self.purposes = purposes
        self.calls: list[Call] = []

    def purpose(self, messages: list[dict]) -> str:
        system = next((m["content"] for m in messages if m.get("role") == "system"), "")
        return self.purposes.get(system, "other")

    def attach(self, model):
        """Wrap ``model.stream`` (and ``model.yes_probability``, if it has one) on the instance; returns it."""
        stream = model.stream

        def counted(messages, **kwargs):
            t0, pieces = time.perf_counter(), 0
            try:
                for piece in stream(messages, **kwargs):
                    pieces += 1
                    yield piece
            finally:
                stats = getattr(model, "last_prompt", None)
                self.calls.append(Call(
                    self.purpose(messages), time.perf_counter() - t0, kwargs.get("max_tokens"), pieces,
                    *((stats.tokens, stats.new_tokens, stats.seconds) if stats is not None else ()),
                ))

        model.stream = counted
        ask = getattr(model, "yes_probability", None)
        if ask is not None:
            def judged(messages):
                t0 = time.perf_counter()
                try:
                    return ask(messages)
                finally:
                    self.calls.append(Call("judge", time.perf_counter() - t0))

            model.yes_probability = judged
        return model


def purposes_of(settings) -> dict[str, str]:
    """System text -> purpose, for the prompts the settings answer with."""
    from assistant.stages.prompts import load_prompt

    a = settings.answering
    out = {}
    for lang in ("de", "en"):
        out[load_prompt("condense", lang, prompts_dir=a.prompts_dir).system] = "condense"
        out[load_prompt("answer", lang, a.prompt_variant, a.prompts_dir).system] = "answer"
    return out


Ask = Callable[..., object]


def play(dialogue: dict, ask: Ask, log: CallLog) -> list[dict]:
    """Ask the dialogue's turns in order, each with the earlier turns (as the UI keeps them); one row
    per turn with its timings and the model calls it made."""
    from assistant.types import Turn

    rows, history = [], []
    for i, turn in enumerate(dialogue["turns"], 1):
        start = len(log.calls)
        answer = ask(turn["question"], list(history))
        t, calls = answer.timings, log.calls[start:]
        rows.append({
            "dialogue": dialogue["id"], "turn": i, "kind": turn["kind"], "question": turn["question"],
            "searched_as": answer.standalone_question, "answer": answer.text, "abstained": answer.abstained,
            **{k: t.get(k) for k in ("passages_s", "condense_s", "first_token_s", "total_s", "prompt_tokens",
                                     "new_prompt_tokens")},
            "calls": dict(Counter(c.purpose for c in calls)), "call_log": [asdict(c) for c in calls],
        })
        if not answer.error:  # as the UI: a failed turn is not part of the conversation
            history.append(Turn.of(turn["question"], answer))
    return rows


def summarize(rows: list[dict]) -> dict:
    """Per group (first turns, follow-ups, other): p50/p95 of the three times, model calls per turn by
    purpose (mean and most), and the rewrite calls' prompt and output; the follow-up/first ratio of
    the checked answer's p50."""
    out: dict = {}
    for group, kinds in GROUPS.items():
        rs = [r for r in rows if r["kind"] in kinds]

        def col(key, rs=rs):
            return [r[key] for r in rs if r.get(key) is not None]

        rewrites = [c for r in rs for c in r["call_log"] if c["purpose"] == "condense"]
        out[group] = {
            "turns": len(rs),
            **{f"{k}_{q}_s": pct(col(f"{k}_s"), p) for k in ("passages", "first_token", "total")
               for q, p in (("p50", 0.5), ("p95", 0.95))},
            "calls_mean": {p: statistics.fmean([r["calls"].get(p, 0) for r in rs]) if rs else 0.0 for p in PURPOSES},
            "calls_max": {p: max((r["calls"].get(p, 0) for r in rs), default=0) for p in PURPOSES},
            "rewrite": {
                "calls": len(rewrites),
                "seconds_p50": pct([c["seconds"] for c in rewrites], 0.5),
                "prompt_tokens_p50": pct([c["prompt_tokens"] for c in rewrites if c["prompt_tokens"]], 0.5),
                "new_prompt_tokens_p50": pct([c["new_prompt_tokens"] for c in rewrites if c["new_prompt_tokens"]], 0.5),
                "pieces_p50": pct([c["pieces"] for c in rewrites], 0.5),
            },
        }
    first, follow = out["first"]["total_p50_s"], out["follow_up"]["total_p50_s"]
    out["follow_up_over_first"] = follow / first if first and follow else None
    return out


def run_turns(assistant, dialogues: list[dict], log: CallLog) -> dict:
    """Play the dialogues with a warmed-up assistant whose model ``log`` is attached to."""
    rows = []
    for d in dialogues:
        played = play(d, assistant.ask, log)
        rows += played
        print("  " + d["id"] + ": " + ", ".join(f"{r['kind']} {r['total_s']:.1f}s" for r in played), flush=True)
    return {"dialogues": [d["id"] for d in dialogues], "summary": summarize(rows), "turns": rows}


def _f(v, fmt=".2f") -> str:
    return "–" if v is None else format(v, fmt)


def markdown(model: str, by_config: dict[str, dict]) -> list[str]:
    """The turns' tables, one row per configuration and group."""
    lines = [
        f"## Conversation turns, {model} (XQuAD conversation set, dev half)", "",
        "Seconds from the question to passages shown, first token and checked answer (p50 / p95), and the model "
        "calls per turn (mean, most in brackets): rewrites of the follow-up (condense), answers, judge questions "
        "(P(yes) over one prompt). \"other\" = topic switches and unanswerable turns.", "",
        "| configuration | turns | n | passages | first token | checked answer | rewrite calls | answer calls "
        "| judge calls |", "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, r in by_config.items():
        for group in GROUPS:
            s = r["summary"][group]
            calls = [f"{s['calls_mean'][p]:.1f} ({s['calls_max'][p]})" for p in ("condense", "answer", "judge")]
            lines.append(
                f"| {name} | {group} | {s['turns']} | {_f(s['passages_p50_s'])} / {_f(s['passages_p95_s'])} "
                f"| {_f(s['first_token_p50_s'])} / {_f(s['first_token_p95_s'])} "
                f"| {_f(s['total_p50_s'])} / {_f(s['total_p95_s'])} | {' | '.join(calls)} |")
    lines.append("")
    for name, r in by_config.items():
        s, rw = r["summary"], r["summary"]["follow_up"]["rewrite"]
        lines.append(
            f"- `{name}`: follow-up / first turn, checked answer p50: **{_f(s['follow_up_over_first'])}**; "
            f"{rw['calls']} rewrite calls over {s['follow_up']['turns']} follow-ups, p50 {_f(rw['seconds_p50'])} s, "
            f"prompt {_f(rw['prompt_tokens_p50'], '.0f')} tokens ({_f(rw['new_prompt_tokens_p50'], '.0f')} new), "
            f"{_f(rw['pieces_p50'], '.0f')} pieces out; dialogues {', '.join(r['dialogues'])}")
    return lines


def turn_lines(name: str, r: dict) -> list[str]:
    """Every turn of a configuration: question, what it was searched as, the answer, times and calls."""
    lines = ["", f"## Turns, {name}", ""]
    for t in r["turns"]:
        searched = "" if t["searched_as"] == t["question"] else f" (searched as: {t['searched_as']})"
        calls = ", ".join(f"{k} {v}" for k, v in sorted(t["calls"].items()))
        lines.append(f"- {t['dialogue']} {t['turn']} {t['kind']}: **{t['question']}**{searched} → {t['answer']} "
                     f"_(first token {_f(t['first_token_s'], '.1f')} s, total {t['total_s']:.1f} s; calls: {calls})_")
    return lines
