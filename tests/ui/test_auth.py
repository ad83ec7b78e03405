"""Serving a team: sign-in in front of the page and of every route, roles checked by the handlers
(not only by hiding controls), server paths only inside ``ui.ingest_roots``, per-user limits and
the audit trail. Real app, real Chromium, real HTTP; the fast HashEmbedder and test model."""

from __future__ import annotations

import base64
import re

import httpx
import pytest

from assistant.assistant import Assistant
from assistant.serving.accounts import EDITOR, READER, Accounts, accounts_path
from assistant.serving.audit import AuditLog, audit_path
from assistant.serving.ui.access import PUBLIC, Access
from assistant.serving.ui.access import routes as all_routes

from .conftest import fast_settings, hash_store, quoting_model, served

USERS = {"anna": (EDITOR, "anna-passwort-1"), "rudi": (READER, "rudi-passwort-1")}
PASSWORD = "Zebra-Lampe-4711"
ASK = ["Wo traf Trump am Freitag Putin?", 0, "", "", "", ""]
SECRETS = ("Trump verspricht", "Keir Starmer", "nqa-ingest", PASSWORD, "Evil")  # article data, controls


class Team:
    """One served app with an editor (anna), a reader (rudi), an allowed root and a private folder."""

    def __init__(self, root):
        self.allowed = root / "allowed"
        (self.allowed / "news").mkdir(parents=True)
        (self.allowed / "news" / "neu.md").write_text(
            "---\ntitle: Neues Gesetz\ndate: 2025-09-01\nsource: Testquelle\nlanguage: de\n---\n"
            "Der Bundestag hat heute ein neues Gesetz beschlossen.\n", encoding="utf-8")
        self.private = root / "private"
        self.private.mkdir()
        (self.private / "notiz.md").write_text(
            f"---\ntitle: Interne Notiz\nlanguage: de\n---\nDas Passwort des Redaktionsservers lautet {PASSWORD}.\n",
            encoding="utf-8")
        (self.allowed / "escape").symlink_to(self.private, target_is_directory=True)
        self.settings = fast_settings(root / "index", **{"ui.ingest_roots": [str(self.allowed)]})
        self.accounts = Accounts(accounts_path(self.settings))
        for name, (role, password) in USERS.items():
            self.accounts.add(name, password, role=role)
        self.token = self.accounts.new_token("rudi")
        self.audit = AuditLog(audit_path(self.settings))
        self.access = Access.from_settings(self.settings)
        self.assistant = Assistant(self.settings, store=hash_store(root, self.settings), llm=quoting_model())

    def articles(self) -> set[str]:
        return {a["title"] for a in self.assistant.store.articles()}


@pytest.fixture(scope="module")
def team(tmp_path_factory):
    from assistant.serving.ui import build_app, launch

    t = Team(tmp_path_factory.mktemp("ui-auth"))
    assert t.access.auth
    t.app = build_app(t.assistant, t.access)
    t.url = launch(t.app, host="127.0.0.1", port=0, prevent_thread_lock=True).rstrip("/") + "/"
    yield t
    t.app.close()


@pytest.fixture(scope="session")
def shots():
    """Screenshots to look at: the sign-in page, the Articles tab as a reader and as an editor."""
    from pathlib import Path

    out = Path("/tmp/auth-shots")
    out.mkdir(exist_ok=True)
    return out


def basic(name: str) -> dict:
    raw = f"{name}:{USERS[name][1]}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


def fill(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x", path)


# ---------------------------------------------------------------------------------------- HTTP
def test_no_route_answers_without_credentials(team):
    """Every route of the app, found from the FastAPI app itself (so a route added later is covered
    too), and every function of the Blocks, refuses a request without valid credentials."""
    routes = [(fill(path), sorted(methods)) for path, methods, _ in all_routes(team.app.server_app)]
    fns = sorted(team.app.fns)
    assert len(routes) > 40 and any(p == "/gradio_api/queue/join" for p, _ in routes)
    checked = public = 0
    bad_credentials = [{}, {"Authorization": "Bearer nqa_not-a-token"}, {"Authorization": "Basic " + base64.b64encode(b"mallory:wrong").decode()},
                       {"Cookie": "access-token-unsecure-x=forged"}]
    with httpx.Client(base_url=team.url, timeout=30, follow_redirects=False) as http:
        for path, methods in routes:
            for method in methods:
                if method == "HEAD":
                    continue
                for headers in bad_credentials:
                    r = http.request(method, path, headers=headers, json={"data": [], "fn_index": 0} if method == "POST" else None)
                    if PUBLIC.match(path):
                        public += 1
                        # the login page and its files: nothing of the app's data or controls
                        assert not any(s in r.text for s in SECRETS), (method, path)
                    else:
                        checked += 1
                        assert r.status_code == 401, (method, path, r.status_code, r.text[:200])
        # every function, by index through the queue and by name through the API
        info = http.get("gradio_api/info", headers=basic("rudi")).json()
        names = list(info["named_endpoints"])
        assert "/ask" in names
        for name in names:
            assert http.post(f"gradio_api/call{name}", json={"data": ASK}).status_code == 401
        for i in fns:
            r = http.post("gradio_api/queue/join", json={"data": [], "fn_index": i, "session_hash": "s"})
            assert r.status_code == 401, (i, r.text[:200])
        # not vacuous: the same routes answer with credentials
        assert http.get("config", headers=basic("rudi")).status_code == 200
        assert http.get("gradio_api/info", headers={"Authorization": f"Bearer {team.token}"}).status_code == 200
    assert checked > 100 and public > 0


def test_the_ask_api_takes_a_password_a_token_or_basic_credentials(team):
    from gradio_client import Client

    with pytest.raises(Exception):
        Client(team.url, verbose=False).predict("Wo traf Trump am Freitag Putin?", api_name="/ask")
    by_login = Client(team.url, auth=("rudi", USERS["rudi"][1]), verbose=False)
    assert "Anchorage" in by_login.predict("Wo traf Trump am Freitag Putin?", api_name="/ask")["text"]
    by_token = Client(team.url, headers={"Authorization": f"Bearer {team.token}"}, verbose=False)
    assert "Anchorage" in by_token.predict("Wo traf Trump am Freitag Putin?", api_name="/ask")["text"]
    with pytest.raises(Exception):
        Client(team.url, auth=("rudi", "falsch-falsch"), verbose=False)
    with httpx.Client(base_url=team.url, timeout=60) as http:
        event = http.post("gradio_api/call/ask", json={"data": ASK}, headers=basic("anna"))
        assert event.status_code == 200, event.text
        stream = http.get(f"gradio_api/call/ask/{event.json()['event_id']}", headers=basic("anna"))
        assert "event: complete" in stream.text and "Anchorage" in stream.text, stream.text[:500]


def _private_fn(client, app, name: str) -> int:
    """The index of the app's private function ``name`` (a handler), made callable in this client:
    the client refuses private functions itself; an attacker's client would not."""
    idx = next(i for i, f in app.fns.items() if getattr(f.fn, "__name__", "") == name)
    ep = client.endpoints[idx]
    ep.is_valid, ep.api_visibility = True, "public"
    return idx


def test_a_reader_cannot_ingest_or_remove_even_through_the_api(team):
    from gradio_client import Client

    before = team.articles()
    client = Client(team.url, auth=("rudi", USERS["rudi"][1]), verbose=False)
    ingest_idx = _private_fn(client, team.app, "ingest")
    out = client.predict(None, str(team.allowed / "news"), "", fn_index=ingest_idx)
    assert "only editors may add or remove articles; rudi is a reader" in str(out).lower()
    remove_idx = _private_fn(client, team.app, "remove")
    article_id = team.assistant.store.articles()[0]["article_id"]
    out = client.predict(article_id, "", fn_index=remove_idx)
    assert "only editors" in str(out).lower()
    assert team.articles() == before
    refused = [e for e in team.audit.entries() if e["user"] == "rudi" and e["outcome"] == "refused"]
    assert {e["action"] for e in refused} >= {"ingest", "remove"}
    # nor upload a file for someone else to ingest
    with httpx.Client(base_url=team.url, timeout=30) as http:
        r = http.post("gradio_api/upload", files={"files": ("a.md", b"# x\ntext")}, headers=basic("rudi"))
        assert r.status_code == 403
        assert http.post("gradio_api/upload", files={"files": ("a.md", b"# x\ntext")}, headers=basic("anna")).status_code == 200


def test_a_removed_user_is_refused_at_once(team):
    from gradio_client import Client

    team.accounts.add("gast", "gast-passwort-1", role=READER)
    client = Client(team.url, auth=("gast", "gast-passwort-1"), verbose=False)
    token = team.accounts.new_token("gast")
    assert client.predict("Wo traf Trump am Freitag Putin?", api_name="/ask")["text"]
    team.accounts.remove("gast")  # `assistant users remove gast` while the server runs
    with pytest.raises(Exception):
        client.predict("Wo traf Trump am Freitag Putin?", api_name="/ask")
    with httpx.Client(base_url=team.url, timeout=30) as http:
        assert http.get("config", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_questions_over_the_limit_get_429(tmp_path):
    settings = fast_settings(tmp_path / "index", **{"ui.questions_per_minute": 2})
    Accounts(accounts_path(settings)).add("rudi", USERS["rudi"][1], role=READER)
    assistant = Assistant(settings, store=hash_store(tmp_path, settings), llm=quoting_model())
    with served(assistant) as url, httpx.Client(base_url=url, timeout=60) as http:
        codes = [http.post("gradio_api/call/ask", json={"data": ASK}, headers=basic("rudi")).status_code
                 for _ in range(3)]
        assert codes == [200, 200, 429]
        r = http.post("gradio_api/call/ask", json={"data": ASK}, headers=basic("rudi"))
        assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
        assert "at most 2 a minute per user (ui.questions_per_minute)" in r.json()["detail"]
    assert any(e["action"] == "ask" and e["outcome"] == "refused" for e in AuditLog(audit_path(settings)).entries())


# ---------------------------------------------------------------------------------------- browser
def sign_in(browser, url: str, name: str, password: str, *, expect_ok: bool = True):
    from .pages import ChatPage

    ctx = browser.new_context(viewport={"width": 1366, "height": 900})
    page = ctx.new_page()
    page.goto(url)
    page.locator("input[type=text], input:not([type])").first.fill(name)
    page.locator("input[type=password]").fill(password)
    page.get_by_role("button", name=re.compile("login", re.I)).click()
    chat = ChatPage(page, url)
    if expect_ok:
        page.wait_for_selector("#nqa-chat .nqa-chat", timeout=60_000)
        page.wait_for_selector("#nqa-user .nqa-user", timeout=60_000)  # the page knows who signed in
    return ctx, chat


def test_sign_in_refuses_a_wrong_password_and_admits_the_right_one(team, browser, shots):
    ctx = browser.new_context(viewport={"width": 1366, "height": 900})
    page = ctx.new_page()
    page.goto(team.url)
    page.locator("input[type=password]").wait_for(timeout=60_000)
    page.screenshot(path=str(shots / "sign-in.png"))
    ctx.close()
    ctx, chat = sign_in(browser, team.url, "anna", "not-her-password", expect_ok=False)
    try:
        chat.page.get_by_text(re.compile("incorrect", re.I)).wait_for(timeout=30_000)
        assert chat.page.locator("#nqa-chat").count() == 0
        chat.page.screenshot(path=str(shots / "sign-in-refused.png"))
    finally:
        ctx.close()
    ctx, chat = sign_in(browser, team.url, "anna", USERS["anna"][1])
    try:
        assert "Signed in as anna (editor)" in chat.page.locator("#nqa-user").inner_text()
        assert "Anchorage" in chat.ask("Wo traf Trump am Freitag Putin?").inner_text()
    finally:
        ctx.close()
    assert any(e["action"] == "sign-in" and e["user"] == "anna" and e["outcome"] == "refused" for e in team.audit.entries())


def test_a_reader_sees_no_ingest_controls(team, browser, shots):
    ctx, chat = sign_in(browser, team.url, "rudi", USERS["rudi"][1])
    try:
        chat.articles_tab()
        assert "Signed in as rudi (reader)" in chat.page.locator("#nqa-user").inner_text()
        for sel in ("#nqa-upload", "#nqa-folder", "#nqa-ingest", "#nqa-remove"):
            assert not chat.page.locator(sel).is_visible(), sel
        assert "Trump verspricht" in chat.page.locator("#nqa-article-table").inner_text()  # readers still see the list
        chat.page.screenshot(path=str(shots / "articles-reader.png"), full_page=True)
        chat.page.get_by_role("tab", name="Ask").click()
        assert "Keir Starmer" in chat.ask("Wer nimmt an den Gesprächen teil?").inner_text()  # and ask
    finally:
        ctx.close()


def test_an_editor_ingests_inside_the_roots_only(team, browser, shots):
    ctx, chat = sign_in(browser, team.url, "anna", USERS["anna"][1])
    folder = chat.page.locator("#nqa-folder textarea, #nqa-folder input").first
    report = chat.page.locator("#nqa-ingest-report")
    try:
        chat.articles_tab()
        for path, why in [
            (team.private, "not inside ui.ingest_roots"),                       # outside the root
            (team.allowed / ".." / "private", "not inside ui.ingest_roots"),    # .. out of it
            (team.allowed / "escape", "not inside ui.ingest_roots"),            # a symlink escaping it
            (team.allowed / "escape" / "notiz.md", "not inside ui.ingest_roots"),
        ]:
            folder.fill(str(path))
            chat.ingest()
            assert why in report.inner_text(), (path, report.inner_text())
        chat.page.screenshot(path=str(shots / "articles-editor-refused.png"), full_page=True)
        assert "Interne Notiz" not in team.articles()
        folder.fill(str(team.allowed / "news"))
        chat.ingest()
        assert report.locator("tr[data-status=added]", has_text="neu.md").count() == 1
        assert "Neues Gesetz" in chat.page.locator("#nqa-article-table").inner_text()
        chat.page.screenshot(path=str(shots / "articles-editor.png"), full_page=True)
    finally:
        ctx.close()
    assert "Neues Gesetz" in team.articles() and "Interne Notiz" not in team.articles()
    entries = team.audit.entries()
    ok = [e for e in entries if e["user"] == "anna" and e["action"] == "ingest" and e["outcome"] == "ok"]
    assert ok and ok[-1]["added"][0]["article_id"] and ok[-1]["added"][0]["source"].endswith("neu.md")
    refused = [e for e in entries if e["user"] == "anna" and e["action"] == "ingest" and e["outcome"] == "refused"]
    assert len(refused) >= 4 and str(team.private) in refused[0]["paths"]
