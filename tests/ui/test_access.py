"""The serving policy without a server: when sign-in is on, who a request is, wrong-password caps,
and the UI's own refusals (a question over the limit, a reader's ingest) in the handlers."""

from __future__ import annotations

import asyncio
import base64
from types import SimpleNamespace

import pytest

from assistant.assistant import Assistant
from assistant.errors import AccessDeniedError, ConfigError
from assistant.serving.accounts import EDITOR, READER, Accounts, accounts_path
from assistant.serving.ui.access import Access, is_loopback
from assistant.serving.ui.handlers import Handlers

from .conftest import fast_settings, hash_store, quoting_model


def settings_with(tmp_path, **ui):
    return fast_settings(tmp_path / "index", **{f"ui.{k}": v for k, v in ui.items()})


def test_when_sign_in_is_on(tmp_path):
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5") and not is_loopback("")
    local = Access.from_settings(settings_with(tmp_path))
    assert not local.auth and local.warning is None and local.user(None).role == EDITOR  # `make run`, as before
    with pytest.raises(ConfigError, match="assistant users add NAME --role editor"):
        Access.from_settings(settings_with(tmp_path, host="0.0.0.0"))
    open_ = Access.from_settings(settings_with(tmp_path, host="0.0.0.0", no_auth=True))
    assert not open_.auth and "without sign-in (--no-auth)" in open_.warning and open_.per_client
    Accounts(accounts_path(settings_with(tmp_path))).add("anna", "anna-passwort-1", role=EDITOR)
    assert Access.from_settings(settings_with(tmp_path, host="0.0.0.0")).auth
    assert Access.from_settings(settings_with(tmp_path)).auth  # accounts on loopback: sign-in too


def test_wrong_passwords_are_capped_per_name(tmp_path):
    s = settings_with(tmp_path, failed_sign_ins_per_minute=3)
    Accounts(accounts_path(s)).add("anna", "anna-passwort-1", role=EDITOR)
    access = Access.from_settings(s)
    assert asyncio.run(access.check_login("anna", "anna-passwort-1"))
    assert not any(asyncio.run(access.check_login("anna", f"guess-{i}")) for i in range(3))
    assert not asyncio.run(access.check_login("anna", "anna-passwort-1"))  # locked for the minute
    basic = {"authorization": "Basic " + base64.b64encode(b"anna:anna-passwort-1").decode()}
    assert access.authenticate(basic, {}, None) is None  # Basic shares the cap
    reasons = [e["reason"] for e in access.audit.entries() if e["action"] in ("sign-in", "basic-auth")]
    assert reasons.count("wrong name or password") == 3 and "too many failed sign-ins this minute" in reasons
    assert all("guess" not in str(e) and "anna-passwort" not in str(e) for e in access.audit.entries())


def test_a_changed_password_ends_basic_credentials(tmp_path):
    s = settings_with(tmp_path)
    accounts = Accounts(accounts_path(s))
    accounts.add("anna", "anna-passwort-1", role=EDITOR)
    access = Access.from_settings(s)
    basic = {"authorization": "Basic " + base64.b64encode(b"anna:anna-passwort-1").decode()}
    assert access.authenticate(basic, {}, None) == "anna"
    accounts.add("anna", "anna-passwort-2", role=EDITOR, replace=True)
    assert access.authenticate(basic, {}, None) is None  # not served from the cache


def request_of(name):
    return SimpleNamespace(username=name, client=SimpleNamespace(host="10.0.0.7"))


def test_the_handlers_check_role_and_limits_themselves(tmp_path):
    s = settings_with(tmp_path, questions_per_minute=2, ingest_roots=[str(tmp_path / "articles")])
    accounts = Accounts(accounts_path(s))
    accounts.add("anna", "anna-passwort-1", role=EDITOR)
    accounts.add("rudi", "rudi-passwort-1", role=READER)
    access = Access.from_settings(s)
    h = Handlers(Assistant(s, store=hash_store(tmp_path, s), llm=quoting_model()), access)
    n = len(h.assistant.store.articles())

    out = h.ingest(None, str(tmp_path / "articles"), "", request_of("rudi"), progress=lambda *a, **k: None)
    assert "rudi is a reader" in out[0] and len(h.assistant.store.articles()) == n
    with pytest.raises(AccessDeniedError, match="sign in first"):
        access.user(request_of("mallory"))  # no such account: nobody, whatever gradio says
    out = h.remove(h.assistant.store.articles()[0]["article_id"], "", request_of("rudi"))
    assert "only editors" in out[0].lower() and len(h.assistant.store.articles()) == n

    warnings = []
    import gradio as gr

    real = gr.Warning
    gr.Warning = lambda msg, *a, **k: warnings.append(msg)
    try:
        accepted = [h.accept("Wer nimmt an den Gesprächen teil?", [], request_of("rudi"))[2] for _ in range(3)]
    finally:
        gr.Warning = real
    assert [len(c) for c in accepted[:2]] == [1, 1]
    assert "at most 2 a minute per user (ui.questions_per_minute)" in warnings[0]
    assert h.accept("Wer nimmt an den Gesprächen teil?", [], request_of("anna"))[2]  # others go on

    out = h.remove(h.assistant.store.articles()[0]["article_id"], "", request_of("anna"))
    assert "Removed 1 article file" in out[0] and len(h.assistant.store.articles()) == n - 1
    assert [e["action"] for e in access.audit.entries() if e["user"] == "anna"] == ["remove"]
