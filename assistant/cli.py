"""The ``assistant`` command: ingest, search, ask, chat, serve, users, eval, bench, status.

Settings come from the environment (NEWSQA_…), a config file (--config or ./newsqa.toml) and the
flags below, which win. Errors of the product are printed as one line on stderr (exit code 2).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from .errors import AssistantError


def _common(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("settings (override env and config file)")
    g.add_argument("--config", help="TOML config file (default: ./newsqa.toml if present)")
    g.add_argument("--index-dir", help="index folder (paths.index_dir)")
    g.add_argument("--cache-dir", help="model cache folder (paths.cache_dir)")
    g.add_argument("--chroma-url", help="use a Chroma server, e.g. http://localhost:8000 (store.chroma_url)")
    g.add_argument("--embedding-model", help="e5-small | use-multilingual | minilm | a sentence-transformers name/path")
    g.add_argument("--backend", choices=["llamacpp", "openai"], help="LLM back end (llm.backend)")
    g.add_argument("--model", help="qwen2.5-coder-1.5b | qwen2.5-coder-0.5b | GGUF path | served model name")
    g.add_argument("--base-url", help="OpenAI-compatible base URL (llm.base_url)")
    g.add_argument("--api-key", help="API key for the OpenAI-compatible server")


def _filters(p: argparse.ArgumentParser) -> None:
    p.add_argument("-k", type=int, help="number of passages (retrieval.k)")
    p.add_argument("--source", help="only articles from this source")
    p.add_argument("--language", help="only articles in this language (de, en)")
    p.add_argument("--from", dest="date_from", help="only articles dated on/after YYYY-MM-DD")
    p.add_argument("--to", dest="date_to", help="only articles dated on/before YYYY-MM-DD")


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="assistant", description="Bilingual news Q&A with checked citations (offline).")
    sub = ap.add_subparsers(dest="command", required=True)

    p = sub.add_parser("ingest", help="add, update and remove articles from files and folders")
    p.add_argument("paths", nargs="+", help="article files or folders (.md .txt .json .jsonl .html)")
    p.add_argument("--rebuild", action="store_true", help="empty the index first (e.g. after changing the embedding model)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    _common(p)

    p = sub.add_parser("search", help="print the ranked passages for a query")
    p.add_argument("query")
    p.add_argument("--mode", choices=["hybrid", "dense", "lexical"])
    p.add_argument("--json", action="store_true")
    _filters(p)
    _common(p)

    p = sub.add_parser("ask", help="answer one question with numbered sources")
    p.add_argument("question")
    p.add_argument("--json", action="store_true", help="print the whole Answer as JSON")
    _filters(p)
    _common(p)

    p = sub.add_parser("verify", help="check sentences against passages: supported / contradicted / not found")
    p.add_argument("text", help='the text to check, e.g. "Trump traf Putin in Anchorage [1]."; [n] names the n-th --passage')
    p.add_argument("--passage", action="append", type=Path, metavar="FILE",
                   help="a passage or article file (repeatable); without any, the index is searched for each sentence")
    p.add_argument("--no-model", action="store_true", help="do not ask the answer model (rules and embeddings only)")
    p.add_argument("--json", action="store_true")
    _common(p)

    p = sub.add_parser("chat", help="a conversation in the terminal (follow-up questions work)")
    _filters(p)
    _common(p)

    p = sub.add_parser("serve", help="start the web UI")
    p.add_argument("--host", help="address to bind (ui.host); beyond 127.0.0.1 it needs accounts or --no-auth")
    p.add_argument("--port", type=int)
    p.add_argument("--open", action="store_true", help="open the UI in a browser")
    p.add_argument("--no-auth", action="store_true", default=None,
                   help="serve a non-loopback address without sign-in (trusted networks only; ui.no_auth)")
    _common(p)

    p = sub.add_parser("users", help="accounts of a served assistant: add, remove, list, API tokens")
    users = p.add_subparsers(dest="users_command", required=True)
    u = users.add_parser("add", help="add a user (the password is asked for, never given as an argument)")
    u.add_argument("name")
    u.add_argument("--role", choices=["reader", "editor"], default="reader",
                   help="readers ask and search; editors also add, update and remove articles (default: reader)")
    u.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin (scripts)")
    u.add_argument("--replace", action="store_true", help="change the password and role of an existing user")
    _common(u)
    u = users.add_parser("remove", help="remove a user and their API tokens")
    u.add_argument("name")
    _common(u)
    u = users.add_parser("list", help="the users, their roles and how many API tokens they have")
    _common(u)
    u = users.add_parser("token", help="print a new API token for a user (Authorization: Bearer …); only its hash is kept")
    u.add_argument("name")
    u.add_argument("--revoke", action="store_true", help="revoke all of the user's tokens instead")
    _common(u)

    p = sub.add_parser("status", help="what is indexed and which models are configured")
    _common(p)

    for name, what in PLUGIN_COMMANDS.items():
        sub.add_parser(name, help=what, add_help=False)
    return ap


#: Commands whose code lives outside the product (evals/, benchmarks/), found by entry point.
PLUGIN_COMMANDS = {
    "eval": "run an evaluation set (see `assistant eval --help`)",
    "bench": "run a benchmark (see `assistant bench --help`)",
}
ENTRY_POINT_GROUP = "newsqa.commands"


def plugin_command(name: str):
    """The ``main(argv, prog)`` registered for ``name`` in the ``newsqa.commands`` entry points."""
    from importlib.metadata import entry_points

    found = entry_points(group=ENTRY_POINT_GROUP, name=name)
    if not found:
        raise AssistantError(f"`assistant {name}` is not installed (no {ENTRY_POINT_GROUP} entry point {name!r}); reinstall newsqa")
    try:
        return next(iter(found)).load()
    except ImportError as e:
        raise AssistantError(f"`assistant {name}` cannot be loaded: {e}") from e


def settings_from(args: argparse.Namespace):
    if getattr(args, "config", None):
        if not Path(args.config).is_file():
            raise AssistantError(f"--config {args.config}: no such file")
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
            raise AssistantError(f"invalid setting {'.'.join(str(x) for x in first['loc'])}: {first['msg']}") from e
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
    print(f"index: {st['articles']} articles, {st['chunks']} chunks ({st['embedding_model']}, {st['chroma']})")
    return 0


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
    return 0


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
        history.append(Turn(question=q, answer=ans.text))


def cmd_serve(args) -> int:
    from .assistant import Assistant
    from .ui import serve
    from .ui.access import Access

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
    import getpass

    from .accounts import Accounts, accounts_path
    from .audit import AuditLog, audit_path

    s = settings_from(args)
    accounts = Accounts(accounts_path(s))
    audit = AuditLog(audit_path(s))
    actor = f"cli:{getpass.getuser()}"
    cmd = args.users_command
    if cmd == "add":
        password = _read_new_password(args, args.name)
        accounts.add(args.name, password, role=args.role, replace=args.replace)
        audit.record(actor, "user.replace" if args.replace else "user.add", name=args.name, role=args.role)
        print(f"{'updated' if args.replace else 'added'} {args.role} {args.name} ({accounts.path})")
    elif cmd == "remove":
        accounts.remove(args.name)
        audit.record(actor, "user.remove", name=args.name)
        print(f"removed {args.name}")
    elif cmd == "list":
        rows = accounts.all()
        if not rows:
            print(f"no users in {accounts.path}; add one: assistant users add NAME --role editor")
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
    return 0


def _read_passage(path: Path):
    """A passage file as a verify source: an article file with its title and date, or plain text."""
    from vectorstore.loader import load_file

    from .verify import Source

    if not path.is_file():
        raise AssistantError(f"--passage {path}: no such file")
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


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] and argv[0] in PLUGIN_COMMANDS:
        return _guard(lambda: plugin_command(argv[0])(argv[1:], prog=f"assistant {argv[0]}"))
    args = build_parser().parse_args(argv)
    handler = {
        "ingest": cmd_ingest, "search": cmd_search, "ask": cmd_ask, "chat": cmd_chat, "serve": cmd_serve,
        "status": cmd_status, "verify": cmd_verify, "users": cmd_users,
    }[args.command]
    return _guard(lambda: handler(args))


def _guard(fn) -> int:
    try:
        return int(fn() or 0)
    except AssistantError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
