"""PostgreSQL plumbing shared by everything kept there (the catalog; the answering layer's team state):
connections and a pool, errors turned into one line naming the setting, versioned migrations.

Imported only when a PostgreSQL URL is configured: psycopg is the optional ``postgres`` extra.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from .errors import ConfigError, StoreUnavailableError

#: Seconds to wait for a connection (a server that is down fails after this, not after minutes).
CONNECT_TIMEOUT = 10
#: Advisory lock (two int4 keys, "newsqa" and a purpose) serialising schema migrations of all nodes.
MIGRATION_LOCK = (0x6E657773, 1)


def redact(url: str) -> str:
    """The URL without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def node_name() -> str:
    """How this process names itself to the server (``application_name``): host and pid."""
    return f"newsqa {socket.gethostname()[:30]} pid {os.getpid()}"


def unavailable(url: str, setting: str, what: str, err: BaseException) -> StoreUnavailableError:
    msg = (str(err).strip().splitlines() or [type(err).__name__])[0]
    return StoreUnavailableError(f"PostgreSQL at {redact(url)} ({setting}) failed to {what}: {msg}")


def connect(url: str, setting: str, *, application_name: str | None = None) -> psycopg.Connection:
    """One autocommit connection; StoreUnavailableError naming ``setting`` if the server cannot be reached."""
    try:
        return psycopg.connect(
            url, autocommit=True, connect_timeout=CONNECT_TIMEOUT, application_name=application_name or node_name()
        )
    except psycopg.Error as e:
        raise unavailable(url, setting, "connect", e) from e


class Pool:
    """A small pool of autocommit connections: ``with pool.connection("search") as conn: ...``.

    Every PostgreSQL error that means "the server is gone" becomes StoreUnavailableError; broken
    connections are replaced on the next checkout, so a node survives a database restart."""

    def __init__(self, url: str, setting: str, size: int):
        self.url, self.setting = url, setting
        self._pool = ConnectionPool(
            url, min_size=1, max_size=size, open=True, timeout=CONNECT_TIMEOUT, name=setting,
            kwargs={"autocommit": True, "connect_timeout": CONNECT_TIMEOUT, "application_name": node_name()},
            check=ConnectionPool.check_connection,
        )

    @contextmanager
    def connection(self, what: str) -> Iterator[psycopg.Connection]:
        try:
            with self._pool.connection() as conn:
                yield conn
        except (psycopg.OperationalError, PoolTimeout) as e:
            raise unavailable(self.url, self.setting, what, e) from e

    def close(self) -> None:
        self._pool.close()


def migrate(conn: psycopg.Connection, url: str, setting: str, component: str, steps: Sequence[str]) -> int:
    """Bring ``component``'s tables to ``len(steps)``: step i (1-based) runs once, in order, recorded in
    ``schema_version``. Nodes starting together wait for each other (an advisory lock). Returns the
    version. A database newer than this code is refused rather than written to."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s, %s)", MIGRATION_LOCK)
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_version (component text PRIMARY KEY, version integer NOT NULL, "
            "applied_at timestamptz NOT NULL DEFAULT now())"
        )
        row = conn.execute("SELECT version FROM schema_version WHERE component=%s", (component,)).fetchone()
        have = row[0] if row else 0
        if have > len(steps):
            raise ConfigError(
                f"the {component} tables at {redact(url)} ({setting}) have schema version {have}, "
                f"newer than this newsqa knows ({len(steps)}); upgrade newsqa on this node"
            )
        for step in steps[have:]:
            conn.execute(step)
        if have < len(steps):
            conn.execute(
                "INSERT INTO schema_version(component, version) VALUES(%s, %s) "
                "ON CONFLICT (component) DO UPDATE SET version=EXCLUDED.version, applied_at=now()",
                (component, len(steps)),
            )
    return len(steps)
