"""Who may use the served app and what they may do: sign-in (Gradio's login page for people, HTTP
Basic or ``Bearer`` API tokens for scripts), roles checked inside the handlers, per-user limits and
the audit trail.

A gate in front of every route refuses a request without a valid session or credentials, except the
few the login page itself needs (``PUBLIC``): deny by default, so a route Gradio adds later is
covered too. Serving beyond loopback without accounts refuses to start (``Access.from_settings``),
unless ``ui.no_auth`` says the network is trusted.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import ipaddress
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import anyio
from starlette.requests import Request

from ...errors import AccessDeniedError, ConfigError, RateLimitError
from ..accounts import EDITOR, LOCAL_ROLE, LOCAL_USER, Accounts
from ..audit import AuditLog
from ..limits import UNLIMITED, Limits
from ..team import open_team

#: What the login page needs before anyone has signed in: the page itself, its scripts, styles and
#: icons, and the login form's target. Everything else needs a session or credentials.
PUBLIC = re.compile(
    r"^/(?:|login/?|logout/?|assets/.+|static/.+|svelte/.+|favicon\.ico|theme\.css|robots\.txt|manifest\.json"
    r"|gradio_api/(?:theme\.css|startup-events|login_check/?|app_id/?))$"
)
#: Routes that start an answer through the API by name (``/ask``); queue/join names it by fn_index.
_API_CALL = re.compile(r"^/gradio_api/(?:call/v2|call|run|api)/([^/]+)/?$")
_UPLOAD = re.compile(r"^/gradio_api/upload/?$")
BASIC_CACHE_S = 60.0  # a verified Basic password is not re-hashed (argon2, ~50 ms) on every request


class User(NamedTuple):
    """The person behind a request: name, role, and the key their limits are counted under."""

    name: str
    role: str
    key: str


def is_loopback(host: str) -> bool:
    if host in ("localhost", ""):
        return host == "localhost"
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass
class Access:
    """The serving policy of one app. ``auth`` on: every request needs an account. Off (loopback
    without accounts, or ``--no-auth``): one local user who is an editor."""

    auth: bool
    accounts: Accounts
    audit: AuditLog
    limits: Limits = UNLIMITED
    roots: list[Path] = field(default_factory=list)
    never_ingest: list[Path] = field(default_factory=list)
    per_client: bool = False  # --no-auth beyond loopback: limits count per client address
    max_upload_mb: float = 50.0  # Gradio refuses larger uploads before they reach a handler
    failed_sign_ins: Limits = field(default_factory=lambda: Limits(10, 0))  # per user name and minute
    warning: str | None = None
    _basic: dict[str, tuple[str, float]] = field(default_factory=dict, repr=False)  # hmac -> (password hash, when)
    _salt: bytes = field(default_factory=lambda: secrets.token_bytes(16), repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def from_settings(cls, settings) -> "Access":
        """The policy for ``settings.ui``; raises ``ConfigError`` for an open non-loopback address."""
        ui = settings.ui
        team = open_team(settings)  # files in index_dir, or tables beside a PostgreSQL catalog
        accounts = team.accounts
        n = len(accounts)  # also checks the file (mode 0600, readable)
        loopback = is_loopback(ui.host)
        auth = n > 0 and not ui.no_auth
        warning = None
        if not auth and not loopback:
            if not ui.no_auth:
                raise ConfigError(
                    f"refusing to serve {ui.host} without sign-in: add a user with `assistant users add NAME --role editor` "
                    "(or pass --no-auth on a trusted network)"
                )
            warning = (f"serving {ui.host} without sign-in (--no-auth): anyone who can reach port {ui.port} can ask "
                       "and change the articles")
        if auth or not loopback:
            limits = team.limits(ui.questions_per_minute, ui.answers_per_user)
        else:
            limits = UNLIMITED  # the machine's own user, as before accounts existed
        never = [p for p in (Path(settings.paths.index_dir), accounts.path, team.audit.path) if p is not None]
        return cls(auth=auth, accounts=accounts, audit=team.audit, limits=limits,
                   roots=list(ui.ingest_roots), never_ingest=never, per_client=not auth and not loopback, warning=warning,
                   max_upload_mb=ui.max_upload_mb, failed_sign_ins=team.limits(ui.failed_sign_ins_per_minute, 0, "sign-ins"))

    # ------------------------------------------------------------------ who is asking
    def user(self, request) -> User:
        """The user behind a Gradio event (``gr.Request``); ``AccessDeniedError`` when nobody valid is."""
        if not self.auth:
            host = getattr(getattr(request, "client", None), "host", None) or "local"
            return User(LOCAL_USER, LOCAL_ROLE, host if self.per_client else LOCAL_USER)
        name = getattr(request, "username", None)
        account = self.accounts.get(name)
        if account is None:
            raise AccessDeniedError("sign in first (this account may have been removed)")
        return User(account.name, account.role, account.name)

    def editor(self, request, action: str, **what) -> User:
        """The user when they may change the articles; else the refusal is logged and raised."""
        u = self.user(request)
        if u.role != EDITOR:
            self.audit.record(u.name, action, outcome="refused", reason=f"role {u.role}", **what)
            raise AccessDeniedError(f"only editors may add or remove articles; {u.name} is a {u.role}")
        return u

    def is_editor(self, request) -> bool:
        try:
            return self.user(request).role == EDITOR
        except AccessDeniedError:
            return False

    # ------------------------------------------------------------------ credentials
    async def check_login(self, username: str, password: str) -> bool:
        """Gradio's login form. A failed sign-in is logged (the name tried, never the password).
        Argon2 takes a fraction of a second of CPU on purpose: it runs in a worker thread, so
        people signing in at once do not stall everyone else's requests."""
        return await anyio.to_thread.run_sync(self._password_ok, username, password, "sign-in")

    def _password_ok(self, name: str, password: str, how: str) -> bool:
        """The password check behind the form and HTTP Basic, with a cap on wrong guesses per name."""
        if self.failed_sign_ins.full(name):
            self.audit.record(name[:64], how, outcome="refused", reason="too many failed sign-ins this minute")
            return False
        if self.accounts.check_password(name, password) is not None:
            return True
        try:
            self.failed_sign_ins.admit(name)
        except RateLimitError:
            pass
        self.audit.record(name[:64], how, outcome="refused", reason="wrong name or password")
        return False

    def _check_basic(self, name: str, password: str) -> str | None:
        key = hmac.new(self._salt, f"{name}\0{password}".encode(), hashlib.sha256).hexdigest()
        now = time.monotonic()
        with self._lock:
            hit = self._basic.get(key)
        account = self.accounts.get(name)
        if hit and now - hit[1] < BASIC_CACHE_S and account and account.password_hash == hit[0]:
            return name  # same account, same password hash as when it was verified
        if not self._password_ok(name, password, "basic-auth"):
            return None
        with self._lock:
            if len(self._basic) > 10_000:
                self._basic.clear()
            self._basic[key] = (account.password_hash if account else "", now)
        return name

    def authenticate(self, headers, cookies: dict, server_app) -> str | None:
        """The account name of a request: a Gradio session cookie of an account that still exists,
        an API token (``Authorization: Bearer nqa_…``) or a name and password (``Basic``)."""
        cookie_id = getattr(server_app, "cookie_id", None)
        if cookie_id:
            token = cookies.get(f"access-token-{cookie_id}") or cookies.get(f"access-token-unsecure-{cookie_id}")
            name = getattr(server_app, "tokens", {}).get(token) if token else None
            if name and self.accounts.get(name):
                return name
        scheme, _, value = (headers.get("authorization") or "").partition(" ")
        scheme, value = scheme.lower(), value.strip()
        if scheme == "bearer":
            account = self.accounts.check_token(value)
            return account.name if account else None
        if scheme == "basic":
            try:
                name, _, password = base64.b64decode(value, validate=True).decode("utf-8").partition(":")
            except (binascii.Error, UnicodeDecodeError):
                return None
            return self._check_basic(name, password)
        return None

    def session_user(self, request: Request) -> str | None:
        """Replaces Gradio's ``get_current_user`` dependency, so API clients with a token or a Basic
        password are the same users as people signed in through the page (``gr.Request.username``)."""
        state = request.scope.get("state") or {}
        if state.get("newsqa_user"):
            return state["newsqa_user"]
        return self.authenticate(request.headers, request.cookies, request.scope.get("app"))

    def install(self, server_app) -> None:
        """Make Gradio's routes see our users (a FastAPI dependency override of its current-user function)."""
        if not self.auth:
            return
        for path, _methods, endpoint in routes(server_app):
            if path == "/gradio_api/user":
                server_app.dependency_overrides[endpoint] = self.session_user
                return
        raise RuntimeError("this Gradio version has no /gradio_api/user route to hook sign-in into")


def routes(server_app):
    """Every route of a FastAPI app as (path, methods, endpoint), included routers walked through."""

    def walk(items, prefix: str):
        for r in items:
            inner = getattr(r, "original_router", None)  # FastAPI >= 0.16x includes routers lazily
            if inner is not None:
                yield from walk(inner.routes, prefix + getattr(r.include_context, "prefix", ""))
            elif hasattr(r, "path"):
                yield prefix + r.path, set(getattr(r, "methods", None) or {"GET"}), getattr(r, "endpoint", None)

    yield from walk(server_app.routes, "")


class Gate:
    """ASGI middleware in front of every route: no session or credentials, no answer (401), except
    the login page's own files (``PUBLIC``). It also admits questions to ``/ask`` (429 when a user is
    over ``ui.questions_per_minute`` or ``ui.answers_per_user``) and keeps uploads to editors."""

    def __init__(self, app, access: Access, ask_api: str = "ask"):
        self.app = app
        self.access = access
        self.ask_api = ask_api

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        path = scope.get("path", "")
        access = self.access
        user: str | None = None
        if access.auth:
            if PUBLIC.match(path):
                return await self.app(scope, receive, send)
            headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
            cookies = _cookies(headers.get("cookie", ""))
            if headers.get("authorization", "")[:6].lower() == "basic ":  # argon2: off the event loop
                user = await anyio.to_thread.run_sync(access.authenticate, headers, cookies, scope.get("app"))
            else:
                user = access.authenticate(headers, cookies, scope.get("app"))
            if user is None:
                return await _reply(send, scope, 401, "sign in first: a session, an API token (Authorization: Bearer …) "
                                    "or HTTP Basic credentials are needed",
                                    {"www-authenticate": 'Bearer realm="newsqa"'})
            scope.setdefault("state", {})["newsqa_user"] = user
            account = access.accounts.get(user)
            if account is None:  # removed a moment ago
                return await _reply(send, scope, 401, "sign in first (this account may have been removed)")
            if _UPLOAD.match(path) and account.role != EDITOR:
                access.audit.record(user, "upload", outcome="refused", reason="reader")
                return await _reply(send, scope, 403, "only editors may upload articles")
        if scope["type"] == "http" and scope.get("method") == "POST" and access.limits is not UNLIMITED:
            receive, is_ask = await self._is_ask(scope, receive, path)
            if is_ask:
                key = user or (scope.get("client") or ("local",))[0]
                try:
                    access.limits.admit(key)
                except RateLimitError as e:
                    access.audit.record(key, "ask", outcome="refused", reason="limit", detail=str(e))
                    return await _reply(send, scope, 429, str(e), {"retry-after": str(int(e.retry_after_s + 0.999))})
        return await self.app(scope, receive, send)

    async def _is_ask(self, scope, receive, path: str):
        """Whether this POST starts an answer of the ``ask`` API (by route name or queue/join fn_index).
        The body is read (small JSON) and replayed to the app."""
        m = _API_CALL.match(path)
        if m and m.group(1) == self.ask_api:
            return receive, True
        if not m and path.rstrip("/") != "/gradio_api/queue/join":
            return receive, False
        # queue/join, or another name (e.g. /run/predict) with the function given by fn_index
        body, more = b"", True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > 10_000_000:
                break
        sent = False

        async def replay():
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        try:
            fn_index = json.loads(body or b"{}").get("fn_index")
            blocks = scope["app"].get_blocks()
            fn = blocks.fns.get(fn_index) if isinstance(fn_index, int) else None
            return replay, bool(fn and fn.api_name == self.ask_api)
        except (ValueError, AttributeError, KeyError):
            return replay, False


def _cookies(header: str) -> dict[str, str]:
    out = {}
    for part in header.split(";"):
        k, _, v = part.strip().partition("=")
        if k:
            out[k] = v
    return out


async def _reply(send, scope, status: int, message: str, headers: dict | None = None):
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1008})
        return
    body = json.dumps({"detail": message}).encode()
    hs = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    hs += [(k.encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": hs})
    await send({"type": "http.response.body", "body": body})
