"""8 signed-in users asking at once, each in a conversation of their own through the page's own events
(gradio_client, one thread and one session per user): every follow-up is resolved with its own
user's earlier turn, never another's. The fast test model and HashEmbedder; the figures of a real
model's load are in benchmarks/ (``assistant bench load``), not here."""

from __future__ import annotations

import threading

import pytest

from assistant.assistant import Assistant
from assistant.serving.accounts import READER, Accounts, accounts_path
from tests.ui.conftest import fast_settings, hash_store, quoting_model

pytestmark = pytest.mark.slow

FIRST = [  # question, words its answer must contain
    ("Wer nimmt an den Gesprächen teil?", "Keir Starmer"),
    ("Wo traf Trump am Freitag Putin?", "Anchorage"),
    ("Schloss Trump die Entsendung von US-Truppen aus?", "Entsendung von US-Streitkräften"),
    ("What did the weather report say?", "The weather report said"),
]


class RecordingAssistant(Assistant):
    """The real Assistant, recording the history each question came with."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.asked: list[tuple[str, list]] = []
        self._lock = threading.Lock()

    def stream(self, question, history=None, **kwargs):
        with self._lock:
            self.asked.append((question, list(history or [])))
        yield from super().stream(question, history, **kwargs)


def _callable(client, app, name: str) -> int:
    """The page's own event handler ``name`` (private to the API docs), callable from this client."""
    idx = next(i for i, f in app.fns.items() if getattr(f.fn, "__name__", "") == name)
    ep = client.endpoints[idx]
    ep.is_valid, ep.api_visibility = True, "public"
    return idx


def test_eight_signed_in_users_keep_their_own_conversations(tmp_path):
    from gradio_client import Client

    from assistant.serving.ui import build_app, launch

    settings = fast_settings(tmp_path / "index", **{"ui.concurrency": 4})
    accounts = Accounts(accounts_path(settings))
    users = [f"user{i}" for i in range(8)]
    for name in users:
        accounts.add(name, f"{name}-passwort", role=READER)
    assistant = RecordingAssistant(settings, store=hash_store(tmp_path, settings), llm=quoting_model())
    app = build_app(assistant)
    url = launch(app, host="127.0.0.1", port=0, prevent_thread_lock=True)
    start = threading.Barrier(len(users))
    results: dict[str, dict] = {}
    errors: list[str] = []

    def converse(i: int, name: str) -> None:
        try:
            # 8 argon2 sign-ins at once on a small machine take longer than the client's default 5 s
            client = Client(url, auth=(name, f"{name}-passwort"), verbose=False, httpx_kwargs={"timeout": 300})
            accept, respond = _callable(client, app, "accept"), _callable(client, app, "respond")
            first, _ = FIRST[i % len(FIRST)]
            first = f"{first} ({name})"
            follow_up = f"Und was sagte {name} dazu?"
            start.wait(timeout=600)
            client.predict(first, fn_index=accept)
            chat1 = client.predict(5, "", "", "", "", fn_index=respond)
            client.predict(follow_up, fn_index=accept)
            chat2 = client.predict(5, "", "", "", "", fn_index=respond)
            results[name] = {"first": first, "follow_up": follow_up, "chat1": str(chat1), "chat2": str(chat2)}
        except Exception as e:  # reported below with the user's name
            errors.append(f"{name}: {type(e).__name__}: {e}")

    threads = [threading.Thread(target=converse, args=(i, n)) for i, n in enumerate(users)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=600)
    finally:
        app.close()
    assert not errors, errors
    assert sorted(results) == users
    histories = dict(assistant.asked)
    for i, name in enumerate(users):
        r = results[name]
        _, expected = FIRST[i % len(FIRST)]
        assert expected in r["chat1"], (name, r["chat1"][:300])
        # the follow-up came with this user's own first turn, and only that
        history = histories[r["follow_up"]]
        assert [t.question for t in history] == [r["first"]], (name, history)
        assert expected in history[0].answer
        # the page this user sees holds their questions only
        others = [results[o]["first"] for o in users if o != name]
        assert r["first"] in r["chat2"] and not any(o in r["chat2"] for o in others), name
