"""The ``assistant`` command: ingest, search, ask, chat, serve, users, eval, bench, status.

Settings come from the environment (NEWSQA_…), a config file (--config or ./newsqa.toml) and the
flags below, which win. Errors of the product are printed as one line on stderr; the exit code says
what kind of failure it was (``EXIT_CODES``, shown by ``assistant --help``). The handlers are in
``commands.py``.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from .commands import HANDLERS, Exit, NotInstalledError, exit_code
from .errors import AssistantError

EXIT_CODES = f"""\
exit codes (every command):
  {int(Exit.OK):<3}  all done
  {int(Exit.PARTIAL):<3}  some input failed, the rest was done (ingest: one line per bad file or record on stderr)
  {int(Exit.USAGE):<3}  usage error: a wrong argument, setting, config file or path; nothing was done
  {int(Exit.UNAVAILABLE):<3}  could not run: a model, the language model or Chroma server, the index (empty or
       built with another embedding model) or an extra (`assistant eval` needs newsqa[eval]);
       `ask` also when the model failed while answering (the passages are still printed)
  {int(Exit.BUSY):<3}  the index is busy: another ingest is writing to it; try again later
  {int(Exit.INTERRUPTED):<3}  interrupted (Ctrl-C)
"""
INGEST_EXIT_CODES = """\
exit codes: 0 every file ingested; 1 some files or records failed (one line each on stderr), the
rest was ingested; 2 usage error (e.g. a path that does not exist; nothing ingested); 3 the embedding
model or the Chroma server cannot be used; 4 another ingest is writing to the index. See assistant --help.
"""


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
    ap = argparse.ArgumentParser(prog="assistant", description="Bilingual news Q&A with checked citations (offline).",
                                 epilog=EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)

    p = sub.add_parser("ingest", help="add, update and remove articles from files and folders", epilog=INGEST_EXIT_CODES,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
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

    _users_parser(sub)

    p = sub.add_parser("status", help="what is indexed and which models are configured")
    _common(p)

    for name, what in PLUGIN_COMMANDS.items():
        sub.add_parser(name, help=what, add_help=False)
    return ap


def _users_parser(sub) -> None:
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


#: Commands whose code lives outside the product (evals/, benchmarks/), found by entry point.
PLUGIN_COMMANDS = {
    "eval": "run an evaluation set (see `assistant eval --help`)",
    "bench": "run a benchmark (see `assistant bench --help`)",
}
ENTRY_POINT_GROUP = "newsqa.commands"


def plugin_command(name: str):
    """The ``main(argv, prog)`` registered for ``name`` in the ``newsqa.commands`` entry points; an
    entry point that names extras (``evals.cli:main [eval]``) needs their packages installed."""
    from importlib.metadata import entry_points

    found = entry_points(group=ENTRY_POINT_GROUP, name=name)
    if not found:
        raise NotInstalledError(f"`assistant {name}` is not installed (no {ENTRY_POINT_GROUP} entry point {name!r}); reinstall newsqa")
    ep = next(iter(found))
    for extra in ep.extras:
        missing = missing_extra_packages(ep.dist.name if ep.dist else "newsqa", extra)
        if missing:
            raise NotInstalledError(f"`assistant {name}` needs the extra [{extra}] (missing: {', '.join(missing)}): "
                                    f"pip install -e '.[{extra}]' in the checkout, or pip install 'newsqa[{extra}]'")
    try:
        return ep.load()
    except ImportError as e:
        raise NotInstalledError(f"`assistant {name}` cannot be loaded: {e}") from e


def missing_extra_packages(dist: str, extra: str) -> list[str]:
    """The packages the extra ``extra`` of distribution ``dist`` requires that are not installed."""
    from importlib.metadata import PackageNotFoundError, requires, version

    try:
        reqs = requires(dist) or []
    except PackageNotFoundError:
        return []
    missing = []
    for req in reqs:
        spec, _, marker = req.partition(";")
        if not re.search(rf"""extra\s*==\s*['"]{re.escape(extra)}['"]""", marker):
            continue
        pkg = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", spec.strip()).group(0)
        try:
            version(pkg)
        except PackageNotFoundError:
            missing.append(pkg)
    return missing


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] and argv[0] in PLUGIN_COMMANDS:
        return _guard(lambda: plugin_command(argv[0])(argv[1:], prog=f"assistant {argv[0]}"))
    args = build_parser().parse_args(argv)  # a usage error exits here with code 2 (argparse)
    handler = HANDLERS[args.command]
    return _guard(lambda: handler(args))


def _guard(fn) -> int:
    try:
        return int(fn() or 0)
    except AssistantError as e:
        print(f"error: {e}", file=sys.stderr)
        return int(exit_code(e))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return int(Exit.INTERRUPTED)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
