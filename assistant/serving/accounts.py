"""Accounts of the people who may use a served assistant: a name, a role, an argon2 password hash and
hashed API tokens, kept in one small JSON file (mode 0600) managed by ``assistant users``.

    >>> accounts = Accounts(Path("users.json"))
    >>> accounts.add("anna", "correct horse battery", role="editor")
    >>> accounts.check_password("anna", "correct horse battery").role
    'editor'
    >>> token = accounts.new_token("anna")          # shown once; only its hash is stored
    >>> accounts.check_token(token).name
    'anna'

The file is re-read when it changes on disk, so ``assistant users remove`` takes effect on a running
server at its next request. Readers ask and search; editors also add, update and remove articles.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
import stat
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from ..errors import AccountError

READER, EDITOR = "reader", "editor"
ROLES = (READER, EDITOR)
#: The role of the one local user when the server runs without sign-in (loopback or --no-auth).
LOCAL_USER, LOCAL_ROLE = "local", EDITOR

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
_TOKEN_PREFIX = "nqa_"
MIN_PASSWORD_CHARS = 8

_hasher = PasswordHasher()
# Verified against when the name is unknown, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash("not a password of anyone")


@dataclass(frozen=True)
class Account:
    """One user. ``tokens`` are SHA-256 hex digests of API tokens (tokens are 256 random bits, so a
    fast hash is enough; passwords, chosen by people, get argon2)."""

    name: str
    role: str
    password_hash: str
    tokens: tuple[str, ...] = field(default=())

    @property
    def can_edit(self) -> bool:
        return self.role == EDITOR

    def to_dict(self) -> dict:
        return {"role": self.role, "password_hash": self.password_hash, "tokens": list(self.tokens)}


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def check_role(role: str) -> str:
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}; got {role!r}")
    return role


def check_new_account(name: str, password: str, role: str) -> str:
    """The argon2 hash of ``password`` once name, password and role are acceptable; AccountError if not."""
    if not _NAME.match(name or ""):
        raise AccountError(f"a user name is 1-64 letters, digits, '.', '_', '@' or '-'; got {name!r}")
    check_role(role)
    if len(password or "") < MIN_PASSWORD_CHARS:
        raise AccountError(f"the password of {name} must have at least {MIN_PASSWORD_CHARS} characters")
    return _hasher.hash(password)


def verify_password(account: Account | None, password: str) -> Account | None:
    """``account`` when ``password`` is its password, else None; as slow for an unknown name."""
    try:
        _hasher.verify(account.password_hash if account else _DUMMY_HASH, password or "")
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    return account


def new_token() -> tuple[str, str]:
    """A new API token and the digest that is stored in its place."""
    token = _TOKEN_PREFIX + secrets.token_urlsafe(32)
    return token, _token_digest(token)


def token_digest(token: str) -> str | None:
    """The stored digest of ``token``, or None when it cannot be one of ours."""
    if not token or not token.startswith(_TOKEN_PREFIX):
        return None
    return _token_digest(token)


NO_SUCH_USER = "no user {name!r} (see `assistant users list`)"
USER_EXISTS = "user {name} exists; use `assistant users add {name} --replace` to change it"


class Accounts:
    """The accounts file at ``path``; every method re-reads it when it changed on disk."""

    def __init__(self, path: Path):
        self.path = Path(path).expanduser()
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._accounts: dict[str, Account] = {}

    @property
    def where(self) -> str:
        return str(self.path)

    # ------------------------------------------------------------------ reading
    def _load(self) -> dict[str, Account]:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            self._stamp, self._accounts = None, {}
            return self._accounts
        stamp = (st.st_mtime_ns, st.st_size)
        if stamp == self._stamp:
            return self._accounts
        if st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            # Like ssh with a private key: a hash file others can read is a leak waiting to happen.
            raise AccountError(
                f"{self.path} can be read by other users (mode {stat.S_IMODE(st.st_mode):o}); run: chmod 600 {self.path}"
            )
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
            accounts = {
                name: Account(name, check_role(v["role"]), v["password_hash"], tuple(v.get("tokens", ())))
                for name, v in raw.get("users", {}).items()
            }
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
            raise AccountError(f"{self.path} is not a readable accounts file ({type(e).__name__}: {e})") from e
        self._stamp, self._accounts = stamp, accounts
        return accounts

    def all(self) -> list[Account]:
        """Every account, by name."""
        with self._lock:
            return sorted(self._load().values(), key=lambda a: a.name)

    def __len__(self) -> int:
        return len(self.all())

    def get(self, name: str | None) -> Account | None:
        """The account called ``name`` as it is in the file now (None when removed or unknown)."""
        if not name:
            return None
        with self._lock:
            return self._load().get(name)

    def check_password(self, name: str, password: str) -> Account | None:
        """The account when ``password`` is right, else None (same work either way)."""
        return verify_password(self.get(name), password)

    def check_token(self, token: str) -> Account | None:
        """The account owning API token ``token``, else None."""
        digest = token_digest(token)
        if digest is None:
            return None
        for account in self.all():
            if any(hmac.compare_digest(digest, t) for t in account.tokens):
                return account
        return None

    # ------------------------------------------------------------------ changing
    def _save(self, accounts: dict[str, Account]) -> None:
        """Write the whole file anew (a temporary file renamed over it), created with mode 0600."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = {"users": {n: a.to_dict() for n, a in sorted(accounts.items())}}
        fd, tmp = tempfile.mkstemp(prefix=".users-", dir=self.path.parent)  # mkstemp: mode 0600
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(data, f, indent=1)
                f.write("\n")
            os.chmod(tmp, 0o600)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self._stamp = None

    def add(self, name: str, password: str, role: str = READER, *, replace: bool = False) -> Account:
        """Add ``name`` (or, with ``replace``, set its password and role; its tokens stay)."""
        password_hash = check_new_account(name, password, role)
        with self._lock:
            accounts = dict(self._load())
            old = accounts.get(name)
            if old and not replace:
                raise AccountError(USER_EXISTS.format(name=name))
            accounts[name] = Account(name, role, password_hash, old.tokens if old else ())
            self._save(accounts)
            return accounts[name]

    def remove(self, name: str) -> None:
        """Remove ``name`` and its tokens; its open sessions are refused from the next request on."""
        with self._lock:
            accounts = dict(self._load())
            if name not in accounts:
                raise AccountError(NO_SUCH_USER.format(name=name))
            del accounts[name]
            self._save(accounts)

    def new_token(self, name: str) -> str:
        """A new API token for ``name``, returned once (only its hash is kept)."""
        token, digest = new_token()
        with self._lock:
            accounts = dict(self._load())
            old = accounts.get(name)
            if old is None:
                raise AccountError(NO_SUCH_USER.format(name=name))
            accounts[name] = Account(name, old.role, old.password_hash, (*old.tokens, digest))
            self._save(accounts)
        return token

    def revoke_tokens(self, name: str) -> int:
        """Forget every API token of ``name``; returns how many there were."""
        with self._lock:
            accounts = dict(self._load())
            old = accounts.get(name)
            if old is None:
                raise AccountError(NO_SUCH_USER.format(name=name))
            accounts[name] = Account(name, old.role, old.password_hash, ())
            self._save(accounts)
            return len(old.tokens)


def accounts_path(settings) -> Path:
    """Where the accounts of ``settings`` live: ``ui.accounts_file``, else users.json in the index folder."""
    return Path(settings.ui.accounts_file or Path(settings.paths.index_dir) / "users.json").expanduser()
