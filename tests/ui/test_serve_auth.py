"""``assistant serve`` beyond loopback as a real process: without accounts it refuses to start with
one line saying how to add a user; ``--no-auth`` starts with a warning; with accounts (added by
``assistant users``) every route wants them."""

from __future__ import annotations

import base64
import subprocess
import sys

import httpx
import pytest

from assistant.serving.ui import free_port

from .conftest import REPO, model_cache
from .test_serve import wait_for

pytestmark = pytest.mark.e2e


def cli(*args: str, index: str, stdin: str | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "assistant.cli", *args, "--index-dir", index, "--cache-dir", str(model_cache())],
        cwd=REPO, input=stdin, capture_output=True, text=True, timeout=timeout,
    )


def start(*args: str, index: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "assistant.cli", "serve", *args, "--index-dir", index, "--cache-dir", str(model_cache())],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )


def stop(proc: subprocess.Popen) -> str:
    proc.terminate()
    try:
        out, _ = proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
    return out


def test_all_addresses_without_accounts_refuse_to_start(tmp_path):
    run = cli("serve", "--host", "0.0.0.0", "--port", str(free_port()), index=str(tmp_path / "index"))
    assert run.returncode != 0
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert "refusing to serve 0.0.0.0 without sign-in" in lines[0]
    assert "assistant users add NAME --role editor" in lines[0] and "--no-auth" in lines[0]


def test_no_auth_starts_with_a_warning(tmp_path):
    port = free_port()
    proc = start("--host", "0.0.0.0", "--port", str(port), "--no-auth", index=str(tmp_path / "index"))
    try:
        wait_for(f"http://127.0.0.1:{port}/", proc)
        assert httpx.get(f"http://127.0.0.1:{port}/config", timeout=10).status_code == 200  # open, as asked
    finally:
        out = stop(proc)
    assert "warning: serving 0.0.0.0 without sign-in (--no-auth)" in out


def test_users_added_on_the_command_line_guard_the_served_app(tmp_path):
    index = str(tmp_path / "index")
    add = cli("users", "add", "anna", "--role", "editor", "--password-stdin", index=index, stdin="anna-passwort-1\n")
    assert add.returncode == 0, add.stderr
    assert "anna-passwort-1" not in (tmp_path / "index" / "users.json").read_text()
    assert (tmp_path / "index" / "users.json").stat().st_mode & 0o777 == 0o600
    no_tty = cli("users", "add", "bert", index=index, stdin="")
    assert no_tty.returncode == 2 and "--password-stdin" in no_tty.stderr
    as_argument = cli("users", "add", "bert", "--password", "geheim-geheim", index=index)
    assert as_argument.returncode != 0  # there is no way to put a password on the command line
    token = cli("users", "token", "anna", index=index)
    assert token.returncode == 0 and token.stdout.startswith("nqa_")
    listed = cli("users", "list", index=index)
    assert listed.stdout.split() == ["anna", "editor", "1", "token(s)"]
    audit = (tmp_path / "index" / "audit.jsonl").read_text()
    assert '"action": "user.add"' in audit and '"action": "token.add"' in audit and "anna-passwort-1" not in audit

    port = free_port()
    proc = start("--host", "0.0.0.0", "--port", str(port), index=index)
    try:
        base = f"http://127.0.0.1:{port}/"
        wait_for(base, proc)  # the login page
        assert httpx.get(base + "config", timeout=10).status_code == 401
        auth = {"Authorization": "Basic " + base64.b64encode(b"anna:anna-passwort-1").decode()}
        assert httpx.get(base + "config", headers=auth, timeout=30).status_code == 200
        bearer = {"Authorization": f"Bearer {token.stdout.strip()}"}
        assert httpx.get(base + "gradio_api/info", headers=bearer, timeout=30).status_code == 200
    finally:
        out = stop(proc)
    assert "sign-in on, 1 account(s)" in out
