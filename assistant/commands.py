"""The handlers of the ``assistant`` commands (the parser and the exit codes are in ``cli.py``).

Each handler takes the parsed arguments and returns an exit code (``Exit``); an ``AssistantError`` it
raises becomes one line on stderr and the code ``exit_code`` gives for it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from enum import IntEnum
from pathlib import Path

from .errors import (
    AssistantError,
    ConfigError,
    EmptyIndexError,
    IndexBusyError,
    IndexMismatchError,
    LLMUnavailableError,
    ModelError,
    StoreUnavailableError,
)


class Exit(IntEnum):
    """The exit codes of every ``assistant`` command (listed in ``assistant --help`` and the README)."""

    OK = 0  # all done
    PARTIAL = 1  # some input failed (one line each on stderr), the rest was done
    USAGE = 2  # a wrong argument, setting, config file or path; nothing was done
    UNAVAILABLE = 3  # a model, a server or the index cannot be used (or the model failed while answering)
    BUSY = 4  # another process is writing to the index; try again later
    INTERRUPTED = 130  # Ctrl-C


class NotInstalledError(AssistantError):
    """A command whose code or extra is not installed (``assistant eval`` without ``newsqa[eval]``)."""


_UNAVAILABLE = (ModelError, LLMUnavailableError, StoreUnavailableError, IndexMismatchError, EmptyIndexError, NotInstalledError)


def exit_code(err: AssistantError) -> Exit:
    """The exit code for an error the product raised on purpose."""
    if isinstance(err, IndexBusyError):
        return Exit.BUSY
    if isinstance(err, _UNAVAILABLE):
        return Exit.UNAVAILABLE
    return Exit.USAGE


def settings_from(args: argparse.Namespace):
    if getattr(args, "config", None):
        if not Path(args.config).is_file():
            raise ConfigError(f"--config {args.config}: no such file")
        os.environ["NEWSQA_CONFIG"] = args.config
    from .settings import Settings

    try:
        s = Settings()
        return s.with_overrides(**{
            "paths.index_dir": getattr(args, "index_dir", None),
            "paths.cache_dir": getattr(args, "cache_dir", None),
            "store.chroma_url": getattr(args, "chroma_url", None),
            "embedding.model": getattr(args, "embedding_model", None),
            "llm.backend": getattr(args, "backend", None),
            "llm.model": getattr(args, "model", None),
            "llm.base_url": getattr(args, "base_url", None),
            "llm.api_key": getattr(args, "api_key", None),
            "ui.host": getattr(args, "host", None),
            "ui.port": getattr(args, "port", None),
            "ui.no_auth": getattr(args, "no_auth", None),
        })
    except Exception as e:  # pydantic ValidationError: make it one line per field
        errs = getattr(e, "errors", None)
        if callable(errs):
            first = errs()[0]
            raise ConfigError(f"invalid setting {'.'.join(str(x) for x in first['loc'])}: {first['msg']}") from e
        raise


def _filters_from(args):
    from vectorstore import Filters

    f = Filters(source=args.source, language=args.language, date_from=args.date_from, date_to=args.date_to)
    return None if f.is_empty() else f


def cmd_ingest(args) -> int:
    from vectorstore import open_store

    s = settings_from(args)
    store = open_store(s)
    bar = None
    state = {"t0": time.perf_counter()}

    def progress(done: int, total: int, chunks: int) -> None:
        nonlocal bar
        if args.quiet:
            return
        if bar is None:
            from tqdm import tqdm

            bar = tqdm(total=total, unit="file", desc="ingest", file=sys.stderr)
        bar.n = done
        rate = chunks / max(time.perf_counter() - state["t0"], 1e-9)
        bar.set_postfix_str(f"{chunks} chunks, {rate:.1f} chunks/s")
        bar.refresh()

    report = store.ingest(args.paths, progress=progress, rebuild=args.rebuild)
    if bar is not None:
        bar.close()
    for w in report.warnings:
        print(f"warning: {w}", file=sys.stderr)
    for _src, reason in report.failed:
        print(f"failed: {reason}", file=sys.stderr)
    for key, other in report.duplicates:
        print(f"duplicate: {key} has the same content as {other}", file=sys.stderr)
    rate = report.chunks_added / report.seconds if report.seconds else 0.0
    print(f"{report.summary()}; {rate:.1f} chunks/s")
    st = store.stats()
    print(f"index: {st['articles']} articles, {st['chunks']} chunks ({st['embedding_model']}, {st['chroma']}, catalog {st['catalog']})")
    return Exit.PARTIAL if report.failed else Exit.OK


def cmd_search(args) -> int:
    from vectorstore import open_store

    store = open_store(settings_from(args))
    hits = store.search(args.query, k=args.k, filters=_filters_from(args), mode=args.mode)
    if args.json:
        print(json.dumps([
            {"rank": i, "score": h.score, "dense_score": h.dense_score, "lexical_rank": h.lexical_rank, "chunk_id": h.chunk.id,
             "title": h.title, "date": h.date, "url": h.url, "start": h.chunk.start, "end": h.chunk.end, "text": h.text}
            for i, h in enumerate(hits, 1)
        ], ensure_ascii=False, indent=1))
        return 0
    if not hits:
        print("no passages found")
    for i, h in enumerate(hits, 1):
        dense = f"{h.dense_score:.3f}" if h.dense_score is not None else "-"
        print(f"{i}. [{h.score:.4f} dense {dense} lex {h.lexical_rank or '-'}] {h.title} ({h.date or 'undated'}) chars {h.chunk.start}-{h.chunk.end}")
        print("   " + h.text.replace("\n", " ")[:400])
    return 0


def _print_answer(ans, stream=None) -> None:
    print(ans.text)
    if ans.error:
        print(f"(language model error: {ans.error})", file=sys.stderr)
    for s in ans.sentences:
        if s.verdict != "supported":
            print(f"  ! {s.verdict}: {s.text}" + (f" (not in the passages: {', '.join(s.missing)})" if s.missing else ""))
    shown = ans.citations or ([] if not ans.error else [])
    if shown:
        print("\nSources:")
        for c in shown:
            print(f"[{c.number}] {c.title} ({c.date or 'undated'}){' ' + c.url if c.url else ''}")
            print(f"    “{(c.support or c.passage).strip()[:300]}”")
    elif ans.error and ans.passages:
        print("\nPassages found:")
        for i, h in enumerate(ans.passages, 1):
            print(f"[{i}] {h.title} ({h.date or 'undated'}): {h.text[:300]}")
    t = ans.timings
    if "first_token_s" in t:
        print(f"\n({ans.model}; first token {t['first_token_s']:.1f}s, total {t.get('total_s', 0):.1f}s)", file=sys.stderr)


def _ask_once(assistant, question, history, args, as_json=False):
    answer = None
    shown = 0
    for ev in assistant.stream(question, history, k=args.k, filters=_filters_from(args)):
        if ev.kind == "token" and not as_json and sys.stdout.isatty():
            sys.stdout.write(ev.text[shown:])
            sys.stdout.flush()
            shown = len(ev.text)
        elif ev.kind == "answer":
            answer = ev.answer
    if shown:
        sys.stdout.write("\r\033[K" + "\n")  # replace the raw stream by the checked answer
    return answer


def cmd_ask(args) -> int:
    from .assistant import Assistant

    a = Assistant(settings_from(args))
    ans = _ask_once(a, args.question, None, args, as_json=args.json)
    if args.json:
        print(json.dumps(ans.to_dict(), ensure_ascii=False, indent=1, default=str))
    else:
        _print_answer(ans)
    # the passages were found but the model failed: a script must not take the output for an answer
    return Exit.UNAVAILABLE if ans.error else Exit.OK


def cmd_chat(args) -> int:
    from .assistant import Assistant
    from .types import Turn

    a = Assistant(settings_from(args))
    history: list[Turn] = []
    print("Ask about the articles (German or English). Empty line or Ctrl-D ends; /new starts over.")
    while True:
        try:
            q = input("\n> ").strip()
        except EOFError:
            print()
            return 0
        if not q:
            return 0
        if q == "/new":
            history.clear()
            print("(new conversation)")
            continue
        try:
            ans = _ask_once(a, q, history, args)
        except AssistantError as e:
            print(f"error: {e}", file=sys.stderr)
            continue
        _print_answer(ans)
        history.append(Turn.of(q, ans))


def cmd_serve(args) -> int:
    from .assistant import Assistant
    from .serving.ui import serve
    from .serving.ui.access import Access

    s = settings_from(args)
    access = Access.from_settings(s)  # refuses an open non-loopback address before loading any model
    if access.warning:
        print(f"warning: {access.warning}", file=sys.stderr, flush=True)
    a = Assistant(s)
    print("Loading the models (the first start builds them from their packages) …", file=sys.stderr, flush=True)
    try:
        a.warm_up()
    except AssistantError as e:  # the UI still serves retrieval and shows the error with each answer
        print(f"warning: {e}", file=sys.stderr)
    serve(s, open_browser=args.open, assistant=a, access=access)
    return 0


def _read_new_password(args, name: str) -> str:
    import getpass

    if args.password_stdin:
        line = sys.stdin.readline()
        return line.rstrip("\r\n")
    if not sys.stdin.isatty():
        raise AssistantError("no terminal to ask for the password; pipe it with --password-stdin")
    first = getpass.getpass(f"Password for {name}: ")
    if getpass.getpass("Again: ") != first:
        raise AssistantError("the two passwords differ; nothing changed")
    return first


def cmd_users(args) -> int:
    from .serving.team import open_team

    team = open_team(settings_from(args))  # files beside the index, or PostgreSQL (store.catalog_url)
    try:
        _users(args, team.accounts, team.audit)
    finally:
        team.close()
    return 0


def _users(args, accounts, audit) -> None:
    import getpass

    actor = f"cli:{getpass.getuser()}"
    cmd = args.users_command
    if cmd == "add":
        password = _read_new_password(args, args.name)
        accounts.add(args.name, password, role=args.role, replace=args.replace)
        audit.record(actor, "user.replace" if args.replace else "user.add", name=args.name, role=args.role)
        print(f"{'updated' if args.replace else 'added'} {args.role} {args.name} ({accounts.where})")
    elif cmd == "remove":
        accounts.remove(args.name)
        audit.record(actor, "user.remove", name=args.name)
        print(f"removed {args.name}")
    elif cmd == "list":
        rows = accounts.all()
        if not rows:
            print(f"no users in {accounts.where}; add one: assistant users add NAME --role editor")
        for a in rows:
            print(f"{a.name}\t{a.role}\t{len(a.tokens)} token(s)")
    elif cmd == "token":
        if args.revoke:
            n = accounts.revoke_tokens(args.name)
            audit.record(actor, "token.revoke", name=args.name, count=n)
            print(f"revoked {n} token(s) of {args.name}")
        else:
            token = accounts.new_token(args.name)
            audit.record(actor, "token.add", name=args.name)
            print(token)
            print("(shown once: only its hash is stored. Send it as 'Authorization: Bearer <token>')", file=sys.stderr)


def _read_passage(path: Path):
    """A passage file as a verify source: an article file with its title and date, or plain text."""
    from vectorstore.loader import load_file

    from .verify import Source

    if not path.is_file():
        raise ConfigError(f"--passage {path}: no such file")
    raw = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix.lower() == ".txt" and not raw.startswith("---"):
        return Source(raw.strip())
    loaded = load_file(path)
    if not loaded.articles:
        raise AssistantError(f"--passage {path}: {loaded.errors[0] if loaded.errors else 'no text'}")
    art = loaded.articles[0]
    return Source(art.text, art.title, art.date or "")


def cmd_verify(args) -> int:
    from .assistant import Assistant

    a = Assistant(settings_from(args))
    passages = [_read_passage(p) for p in args.passage] if args.passage else None
    checks = a.verify(args.text, passages, use_model=not args.no_model)
    if args.json:
        print(json.dumps([
            {"sentence": c.claim, "verdict": c.verdict, "reasons": list(c.reasons), "similarity": round(c.similarity, 4),
             "model_p_yes": c.entailment,
             "evidence": [{"passage": e.source, "start": e.start, "end": e.end, "text": e.text, "in_title": e.in_title}
                          for e in c.evidence]}
            for c in checks
        ], ensure_ascii=False, indent=1))
        return 0
    for c in checks:
        print(f"{c.verdict.replace('_', ' ').upper():13s} {c.claim}")
        for e in c.evidence[:1]:
            print(f"    evidence [{e.source}]{' (its title)' if e.in_title else ''}: “{e.text.strip()[:300]}”")
        for r in c.reasons:
            print(f"    why: {r}")
    return 0


def cmd_status(args) -> int:
    from .assistant import Assistant

    info = Assistant(settings_from(args)).describe()
    print(json.dumps(info, ensure_ascii=False, indent=1, default=str))
    return 0


HANDLERS = {
    "ingest": cmd_ingest, "search": cmd_search, "ask": cmd_ask, "chat": cmd_chat, "serve": cmd_serve,
    "status": cmd_status, "verify": cmd_verify, "users": cmd_users,
}
