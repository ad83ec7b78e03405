"""Real servers for the end-to-end tests: `chroma run` and a throw-away PostgreSQL 15 cluster.

PostgreSQL's ``initdb`` refuses to run as root, and CI runs the tests as root: the cluster then
belongs to an unprivileged user (``postgres`` where the Debian package made it, else one we add) and
its commands run through ``runuser``. Its data lives in a fresh folder under /tmp that this user may
enter (pytest's own temporary folders are private to root), with fsync off: it is thrown away.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pytest

CHROMA = Path(sys.executable).parent / "chroma"
PG_USER = "postgres"
PG_SUPERUSER = "newsqa"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ChromaServer:
    """A `chroma run` process on a free port with its data in a temporary folder."""

    def __init__(self, data: Path, log: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._log = open(log, "wb")
        self.proc = subprocess.Popen(
            [str(CHROMA), "run", "--path", str(data), "--host", "127.0.0.1", "--port", str(self.port)],
            stdout=self._log, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 90
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"chroma run exited with {self.proc.returncode}; see {log}")
            try:
                if httpx.get(f"{self.url}/api/v2/heartbeat", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"chroma run did not answer on {self.url} within 90 s; see {log}")
            time.sleep(0.3)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=15)
        self._log.close()


def postgres_bin() -> Path | None:
    """The folder of initdb/pg_ctl: /usr/local/bin (this image), the PATH, or Debian's versioned folder."""
    candidates = ["/usr/local/bin", *(os.environ.get("PATH", "").split(os.pathsep)), *sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)]
    for folder in candidates:
        if folder and (Path(folder) / "initdb").is_file() and (Path(folder) / "pg_ctl").is_file():
            return Path(folder)
    return None


def require_postgres() -> Path:
    """The PostgreSQL binaries' folder; skips the test without them locally, fails it in CI."""
    found = postgres_bin()
    if found:
        return found
    message = "PostgreSQL (initdb, pg_ctl) is not installed: apt-get install postgresql-15"
    if os.environ.get("CI") == "true":
        pytest.fail(message + "; CI must provide it")
    pytest.skip(message)


def _server_user() -> str | None:
    """The unprivileged user to run the cluster as when we are root (None: run as ourselves)."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(PG_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", PG_USER], check=True)
    return PG_USER


class PostgresServer:
    """A PostgreSQL cluster on a free port of 127.0.0.1 with trust authentication; ``url(db)``."""

    def __init__(self, bin_dir: Path):
        self.bin, self.user = bin_dir, _server_user()
        self.root = Path(tempfile.mkdtemp(prefix="newsqa-pg-"))
        if self.user:
            shutil.chown(self.root, self.user)
        self.port = free_port()
        self.log = self.root / "postgres.log"
        self._run("initdb", "-D", str(self.root / "data"), "-U", PG_SUPERUSER, "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync")
        opts = f"-h 127.0.0.1 -p {self.port} -k {self.root} -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self._run("pg_ctl", "-D", str(self.root / "data"), "-o", opts, "-l", str(self.log), "-w", "-t", "60", "start")
        self._databases = 0

    def _run(self, command: str, *args: str) -> None:
        argv = [str(self.bin / command), *args]
        if self.user:
            argv = ["runuser", "-u", self.user, "--", *argv]
        out = subprocess.run(argv, cwd=self.root, capture_output=True, text=True, timeout=120)
        if out.returncode:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise RuntimeError(f"{command} failed ({out.returncode}): {out.stderr.strip()}\n{log}")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{PG_SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def new_database(self, prefix: str = "t") -> str:
        """A new empty database; its URL."""
        import psycopg

        self._databases += 1
        name = f"{prefix}{self._databases}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.root / "data"), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server():
    """One throw-away PostgreSQL cluster for the session (about a second to start)."""
    server = PostgresServer(require_postgres())
    yield server
    server.stop()


@pytest.fixture
def catalog_url(postgres_server) -> str:
    """The URL of an empty database of its own for one test."""
    return postgres_server.new_database()


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory):
    """A `chroma run` server for the tests of one module."""
    if not CHROMA.exists():
        pytest.fail(f"{CHROMA} is missing: the chromadb package brings the `chroma` command")
    root = tmp_path_factory.mktemp("chroma-server")
    server = ChromaServer(root / "data", root / "chroma.log")
    yield server
    server.stop()
