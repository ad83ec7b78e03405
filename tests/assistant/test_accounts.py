"""Accounts: argon2 password hashes and hashed API tokens in a 0600 file, roles, and changes on disk
seen by a running server."""

from __future__ import annotations

import json
import os
import stat

import pytest

from assistant.errors import AccountError
from assistant.serving.accounts import EDITOR, READER, Accounts


def test_add_check_and_remove(tmp_path):
    accounts = Accounts(tmp_path / "users.json")
    accounts.add("anna", "correct horse battery", role=EDITOR)
    accounts.add("rudi", "leser-passwort", role=READER)
    assert accounts.check_password("anna", "correct horse battery").role == EDITOR
    assert accounts.check_password("anna", "wrong horse battery") is None
    assert accounts.check_password("nobody", "correct horse battery") is None
    assert [a.name for a in accounts.all()] == ["anna", "rudi"]
    accounts.remove("rudi")
    assert accounts.get("rudi") is None and len(accounts) == 1
    with pytest.raises(AccountError, match="no user 'rudi'"):
        accounts.remove("rudi")


def test_the_file_holds_hashes_only_and_is_private(tmp_path):
    path = tmp_path / "users.json"
    accounts = Accounts(path)
    accounts.add("anna", "correct horse battery", role=EDITOR)
    token = accounts.new_token("anna")
    raw = path.read_text()
    assert "correct horse battery" not in raw and token not in raw
    assert json.loads(raw)["users"]["anna"]["password_hash"].startswith("$argon2id$")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".users-")]  # no temporary file left


def test_a_file_others_can_read_is_refused(tmp_path):
    path = tmp_path / "users.json"
    Accounts(path).add("anna", "correct horse battery", role=EDITOR)
    os.chmod(path, 0o644)
    with pytest.raises(AccountError, match="chmod 600"):
        Accounts(path).get("anna")


def test_tokens_are_checked_and_revoked(tmp_path):
    accounts = Accounts(tmp_path / "users.json")
    accounts.add("rudi", "leser-passwort", role=READER)
    token = accounts.new_token("rudi")
    assert accounts.check_token(token).name == "rudi"
    assert accounts.check_token(token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    assert accounts.check_token("") is None and accounts.check_token("leser-passwort") is None
    assert accounts.revoke_tokens("rudi") == 1
    assert accounts.check_token(token) is None


def test_bad_names_roles_and_passwords_are_refused(tmp_path):
    accounts = Accounts(tmp_path / "users.json")
    with pytest.raises(AccountError, match="user name"):
        accounts.add("../etc", "correct horse battery")
    with pytest.raises(AccountError, match="role must be one of"):
        accounts.add("anna", "correct horse battery", role="admin")
    with pytest.raises(AccountError, match="at least 8"):
        accounts.add("anna", "kurz")
    accounts.add("anna", "correct horse battery")
    with pytest.raises(AccountError, match="exists"):
        accounts.add("anna", "another password")


def test_a_running_server_sees_changes_on_disk(tmp_path):
    path = tmp_path / "users.json"
    server = Accounts(path)  # the server's copy, read before the change
    assert server.get("anna") is None
    Accounts(path).add("anna", "correct horse battery", role=READER)  # `assistant users add` elsewhere
    assert server.get("anna").role == READER
    Accounts(path).remove("anna")
    assert server.get("anna") is None
