"""Team state in PostgreSQL (store.catalog_url): accounts, API tokens, the audit log and the rate limits
behave as the file and in-memory versions do, and every app node sees the same ones. The PostgreSQL
runs start a throw-away cluster (tests/servers.py) and are end-to-end tests."""

from __future__ import annotations

import threading

import pytest

from assistant import cli
from assistant.commands import Exit
from assistant.errors import AccountError, RateLimitError
from assistant.serving.accounts import EDITOR, READER
from assistant.serving.team import open_team
from assistant.serving.ui.access import Access
from tests.conftest import make_settings

pytestmark = pytest.mark.e2e


@pytest.fixture
def node_settings(tmp_path, catalog_url):
    """Settings of one app node ``name``: its own index folder, the shared database."""
    return lambda name: make_settings(tmp_path / name, **{"store.catalog_url": catalog_url})


@pytest.fixture
def two_nodes(node_settings):
    a, b = open_team(node_settings("node-a")), open_team(node_settings("node-b"))
    yield a, b
    a.close()
    b.close()


def test_accounts_and_tokens_are_shared_by_the_nodes(two_nodes):
    a, b = two_nodes
    a.accounts.add("anna", "correct horse battery", role=EDITOR)
    a.accounts.add("rudi", "leser-passwort", role=READER)
    assert b.accounts.check_password("anna", "correct horse battery").role == EDITOR
    assert b.accounts.check_password("anna", "wrong horse battery") is None and b.accounts.check_password("x", "y" * 9) is None
    assert [x.name for x in b.accounts.all()] == ["anna", "rudi"] and len(b.accounts) == 2
    with pytest.raises(AccountError, match="user anna exists"):
        b.accounts.add("anna", "another password", role=READER)
    with pytest.raises(AccountError, match="at least 8 characters"):
        b.accounts.add("kurz", "short")
    token = b.accounts.new_token("rudi")
    assert a.accounts.check_token(token).name == "rudi" and a.accounts.get("rudi").tokens
    assert a.accounts.check_token(token[:-1] + ("A" if token[-1] != "A" else "B")) is None and a.accounts.check_token("") is None
    b.accounts.add("rudi", "neues-passwort", role=EDITOR, replace=True)  # the token stays
    assert a.accounts.check_token(token).role == EDITOR
    assert a.accounts.revoke_tokens("rudi") == 1 and b.accounts.check_token(token) is None
    b.accounts.remove("rudi")
    assert a.accounts.get("rudi") is None
    for call in (lambda: a.accounts.remove("rudi"), lambda: a.accounts.new_token("rudi"), lambda: a.accounts.revoke_tokens("rudi")):
        with pytest.raises(AccountError, match="no user 'rudi'"):
            call()


def test_one_audit_log_for_all_nodes(two_nodes):
    a, b = two_nodes
    a.audit.record("anna", "ingest", paths=["/srv/news/a.md"], articles=["3f2a"])
    b.audit.record("rudi", "ingest", outcome="refused", reason="role reader")
    entries = a.audit.entries()
    assert [(e["user"], e["action"], e["outcome"]) for e in entries] == [("anna", "ingest", "ok"), ("rudi", "ingest", "refused")]
    assert entries[0]["paths"] == ["/srv/news/a.md"] and entries[1]["reason"] == "role reader" and entries[0]["ts"].endswith("+00:00")


def test_rate_limits_count_across_the_nodes(two_nodes):
    a, b = two_nodes
    la, lb = a.limits(3, 2), b.limits(3, 2)
    la.admit("anna")
    lb.admit("anna")
    la.admit("anna")
    with pytest.raises(RateLimitError, match="at most 3 a minute per user") as err:
        lb.admit("anna")
    assert 1 <= err.value.retry_after_s <= 60 and lb.full("anna") and not lb.full("rudi")
    lb.admit("rudi")  # others are not affected
    with la.slot("rudi"), lb.slot("rudi"):
        assert la.running("rudi") == 2
        with pytest.raises(RateLimitError, match="at most 2 per user"):
            with la.slot("rudi"):
                pass
    assert lb.running("rudi") == 0
    signins = a.limits(3, 0, "sign-ins")  # counted apart from the questions
    signins.admit("anna")
    assert not signins.full("anna")


def test_concurrent_admits_are_counted_once_each(two_nodes):
    a, b = two_nodes
    limits = [a.limits(10, 0), b.limits(10, 0)]
    refused: list[RateLimitError] = []

    def ask(i: int) -> None:
        try:
            limits[i % 2].admit("anna")
        except RateLimitError as e:
            refused.append(e)

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(refused) == 6


def test_the_cli_and_the_gate_use_the_database(node_settings, tmp_path, monkeypatch, capsys):
    s = node_settings("node-a")
    monkeypatch.setenv("NEWSQA_STORE__CATALOG_URL", s.store.catalog_url)
    monkeypatch.setenv("NEWSQA_PATHS__INDEX_DIR", str(tmp_path / "node-a"))
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO("anna-passwort-1\n"))
    assert cli.main(["users", "add", "anna", "--role", "editor", "--password-stdin"]) == Exit.OK
    assert "postgresql://" in capsys.readouterr().out
    assert not (tmp_path / "node-a" / "users.json").exists() and not (tmp_path / "node-a" / "audit.jsonl").exists()
    gate = Access.from_settings(node_settings("node-b").with_overrides(**{"ui.host": "0.0.0.0"}))
    assert gate.auth and gate.accounts.check_password("anna", "anna-passwort-1").role == EDITOR
    assert [e["action"] for e in gate.audit.entries()] == ["user.add"]
    assert type(gate.limits).__name__ == "PgLimits" and type(gate.failed_sign_ins).__name__ == "PgLimits"
