"""The team state of a served assistant in PostgreSQL (``store.catalog_url``), shared by every app node:
accounts and API tokens, the audit log, and the per-user rate-limit counters.

Same interfaces as the file and in-memory versions (``Accounts``, ``AuditLog``, ``Limits``), so the
gate in front of the routes does not know which it has. Counters use the server's clock and a
per-user advisory lock, so two nodes admitting the same user's questions count them once each.
The tables are created and migrated with the catalog's (``schema_version``, component ``team``).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from datetime import datetime, timezone

import psycopg

from vectorstore import pg

from ..errors import AccountError
from .accounts import NO_SUCH_USER, USER_EXISTS, Account, check_new_account, new_token, token_digest, verify_password
from .limits import WINDOW_S, at_once_error, minute_error

SETTING = "store.catalog_url"
#: First key of the advisory locks serialising one user's counters (the second is a hash of the user).
LIMITS_LOCK = 0x6E657775
#: An answer in progress that was never released (its node died) stops counting after this long.
STALE_ANSWER_S = 600

MIGRATIONS = [
    """
    CREATE TABLE accounts (name text PRIMARY KEY, role text NOT NULL, password_hash text NOT NULL,
                           created_at timestamptz NOT NULL DEFAULT now());
    CREATE TABLE api_tokens (digest text PRIMARY KEY, name text NOT NULL REFERENCES accounts ON DELETE CASCADE,
                             created_at timestamptz NOT NULL DEFAULT now());
    CREATE INDEX api_tokens_name ON api_tokens(name);
    -- Only ever inserted into (AuditLog.record); the order of ids is the order of events.
    CREATE TABLE audit_log (id bigserial PRIMARY KEY, entry jsonb NOT NULL);
    CREATE TABLE rate_events (kind text NOT NULL, user_key text NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp());
    CREATE INDEX rate_events_user ON rate_events(kind, user_key, at);
    CREATE TABLE running_answers (id bigserial PRIMARY KEY, kind text NOT NULL, user_key text NOT NULL,
                                  started_at timestamptz NOT NULL DEFAULT clock_timestamp());
    CREATE INDEX running_answers_user ON running_answers(kind, user_key);
    """,
]


class TeamState:
    """One pool of connections to the team tables, handing out the three parts."""

    def __init__(self, url: str, *, pool_size: int = 4):
        conn = pg.connect(url, SETTING)
        try:
            pg.migrate(conn, url, SETTING, "team", MIGRATIONS)
        except psycopg.Error as e:
            raise pg.unavailable(url, SETTING, "prepare the team tables", e) from e
        finally:
            conn.close()
        self.url = url
        self.pool = pg.Pool(url, SETTING, pool_size)
        self.accounts = PgAccounts(self)
        self.audit = PgAuditLog(self)

    def limits(self, per_minute: int, at_once: int, kind: str = "questions") -> "PgLimits":
        return PgLimits(self, per_minute, at_once, kind)

    def close(self) -> None:
        self.pool.close()


class PgAccounts:
    """``Accounts`` in PostgreSQL: a change on one node is seen by the others at their next request."""

    def __init__(self, team: TeamState):
        self._pool = team.pool
        self.where = pg.redact(team.url)
        self.path = None  # no file to keep out of ingests

    def _select(self, where: str = "", args: tuple = ()) -> list[Account]:
        with self._pool.connection("read accounts") as conn:
            rows = conn.execute(
                "SELECT a.name, a.role, a.password_hash, coalesce(array_agg(t.digest ORDER BY t.created_at) "
                "FILTER (WHERE t.digest IS NOT NULL), '{}') FROM accounts a LEFT JOIN api_tokens t ON t.name = a.name "
                f"{where} GROUP BY a.name ORDER BY a.name",
                args,
            ).fetchall()
        return [Account(r[0], r[1], r[2], tuple(r[3])) for r in rows]

    def all(self) -> list[Account]:
        return self._select()

    def __len__(self) -> int:
        with self._pool.connection("count accounts") as conn:
            return conn.execute("SELECT count(*) FROM accounts").fetchone()[0]

    def get(self, name: str | None) -> Account | None:
        if not name:
            return None
        found = self._select("WHERE a.name = %s", (name,))
        return found[0] if found else None

    def check_password(self, name: str, password: str) -> Account | None:
        return verify_password(self.get(name), password)

    def check_token(self, token: str) -> Account | None:
        digest = token_digest(token)
        if digest is None:
            return None
        # Looked up by its SHA-256: the digest of a 256-bit random token leaks nothing through timing.
        found = self._select("WHERE a.name = (SELECT name FROM api_tokens WHERE digest = %s)", (digest,))
        return found[0] if found else None

    def add(self, name: str, password: str, role: str = "reader", *, replace: bool = False) -> Account:
        password_hash = check_new_account(name, password, role)
        sql = "INSERT INTO accounts(name, role, password_hash) VALUES(%s, %s, %s)"
        if replace:
            sql += " ON CONFLICT (name) DO UPDATE SET role = EXCLUDED.role, password_hash = EXCLUDED.password_hash"
        try:
            with self._pool.connection("add an account") as conn:
                conn.execute(sql, (name, role, password_hash))
        except psycopg.errors.UniqueViolation:
            raise AccountError(USER_EXISTS.format(name=name)) from None
        return self.get(name)

    def remove(self, name: str) -> None:
        with self._pool.connection("remove an account") as conn:
            if conn.execute("DELETE FROM accounts WHERE name = %s", (name,)).rowcount == 0:
                raise AccountError(NO_SUCH_USER.format(name=name))

    def new_token(self, name: str) -> str:
        token, digest = new_token()
        try:
            with self._pool.connection("add a token") as conn:
                conn.execute("INSERT INTO api_tokens(digest, name) VALUES(%s, %s)", (digest, name))
        except psycopg.errors.ForeignKeyViolation:
            raise AccountError(NO_SUCH_USER.format(name=name)) from None
        return token

    def revoke_tokens(self, name: str) -> int:
        with self._pool.connection("revoke tokens") as conn, conn.transaction():
            if conn.execute("SELECT 1 FROM accounts WHERE name = %s", (name,)).fetchone() is None:
                raise AccountError(NO_SUCH_USER.format(name=name))
            return conn.execute("DELETE FROM api_tokens WHERE name = %s", (name,)).rowcount


class PgAuditLog:
    """``AuditLog`` in PostgreSQL: entries are only inserted; a failed insert raises to the caller."""

    def __init__(self, team: TeamState):
        self._pool = team.pool
        self.path = None

    def record(self, user: str | None, action: str, *, outcome: str = "ok", **what: object) -> dict:
        entry = {"ts": datetime.now(timezone.utc).isoformat(timespec="milliseconds"), "user": user, "action": action,
                 "outcome": outcome, **what}
        with self._pool.connection("write the audit log") as conn:
            conn.execute("INSERT INTO audit_log(entry) VALUES(%s::jsonb)", (json.dumps(entry, ensure_ascii=False, default=str),))
        return entry

    def entries(self) -> list[dict]:
        """Every entry, oldest first."""
        with self._pool.connection("read the audit log") as conn:
            return [r[0] for r in conn.execute("SELECT entry FROM audit_log ORDER BY id")]


class PgLimits:
    """``Limits`` counted in PostgreSQL, across every node: ``kind`` keeps questions and sign-ins apart."""

    def __init__(self, team: TeamState, per_minute: int, at_once: int, kind: str):
        if per_minute < 0 or at_once < 0:
            raise ValueError(f"limits must be >= 0; got per_minute={per_minute}, at_once={at_once}")
        self._pool, self.per_minute, self.at_once, self.kind = team.pool, per_minute, at_once, kind

    @contextlib.contextmanager
    def _user(self, user: str, what: str) -> Iterator[psycopg.Connection]:
        """A transaction holding ``user``'s lock, with their expired questions forgotten."""
        with self._pool.connection(what) as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (LIMITS_LOCK, f"{self.kind}:{user}"))
            conn.execute(
                "DELETE FROM rate_events WHERE kind = %s AND user_key = %s AND at <= clock_timestamp() - make_interval(secs => %s)",
                (self.kind, user, WINDOW_S),
            )
            yield conn

    def _asked(self, conn, user: str) -> tuple[int, float]:
        """(questions in the window, seconds since the oldest of them)."""
        n, age = conn.execute(
            "SELECT count(*), coalesce(extract(epoch FROM clock_timestamp() - min(at)), 0)::float8 FROM rate_events "
            "WHERE kind = %s AND user_key = %s", (self.kind, user),
        ).fetchone()
        return n, age

    def _check_running(self, conn, user: str) -> None:
        if self.at_once and self._running(conn, user) >= self.at_once:
            raise at_once_error(self.at_once)

    def _running(self, conn, user: str) -> int:
        return conn.execute(
            "SELECT count(*) FROM running_answers WHERE kind = %s AND user_key = %s "
            "AND started_at > clock_timestamp() - make_interval(secs => %s)", (self.kind, user, STALE_ANSWER_S),
        ).fetchone()[0]

    def admit(self, user: str) -> None:
        """Count one question of ``user``; ``RateLimitError`` (and nothing counted) when over either limit."""
        with self._user(user, "count a question") as conn:
            n, age = self._asked(conn, user)
            if self.per_minute and n >= self.per_minute:
                raise minute_error(self.per_minute, WINDOW_S - age)
            self._check_running(conn, user)
            conn.execute("INSERT INTO rate_events(kind, user_key) VALUES(%s, %s)", (self.kind, user))

    def full(self, user: str) -> bool:
        """Whether ``user`` has used up this minute's questions (without counting one)."""
        if not self.per_minute:
            return False
        with self._user(user, "read the limits") as conn:
            return self._asked(conn, user)[0] >= self.per_minute

    @contextlib.contextmanager
    def slot(self, user: str) -> Iterator[None]:
        """Hold one of ``user``'s answers-in-progress for the block; ``RateLimitError`` when all are taken."""
        with self._user(user, "take an answer slot") as conn:
            self._check_running(conn, user)
            slot_id = conn.execute(
                "INSERT INTO running_answers(kind, user_key) VALUES(%s, %s) RETURNING id", (self.kind, user)
            ).fetchone()[0]
        try:
            yield
        finally:
            with self._pool.connection("release an answer slot") as conn:
                conn.execute("DELETE FROM running_answers WHERE id = %s", (slot_id,))

    def running(self, user: str) -> int:
        with self._pool.connection("read the limits") as conn:
            return self._running(conn, user)
