"""The OpenAI-compatible back end: against a real llama-cpp-python server process on localhost
(`python -m assistant.backends.llama_server`, which is `python -m llama_cpp.server` loading so that it does not
crash on AMX CPUs) serving the small GGUF, and against failing servers (down, slow, garbage, 5xx)."""

from __future__ import annotations

import http.server
import json
import socket
import subprocess
import sys
import threading
import time

import httpx
import pytest

from assistant.assistant import Assistant
from assistant.backends.llm import make_chat_model
from assistant.backends.openai_compat import OpenAICompatChat
from assistant.errors import LLMUnavailableError

MESSAGES = [{"role": "user", "content": "Sag Hallo."}]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def llama_server(small_gguf, tmp_path_factory):
    port = free_port()
    log = tmp_path_factory.mktemp("llama-server") / "server.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "assistant.backends.llama_server", "--model", str(small_gguf), "--model_alias", "qwen-small",
             "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "4096"],
            stdout=out, stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"llama_cpp.server exited: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"{url}/models", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail("llama_cpp.server did not start within 180 s")
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.mark.e2e
@pytest.mark.models
def test_answers_through_a_real_openai_compatible_server(llama_server, seed_store):
    # the back end's path, not the verdict: the 0.5B model's half-copied "Trump und Putin trafen sich in Anchorage,
    # Alaska, mit dem russischen Präsidenten … zusammen" scores below the plain fit's calibrated threshold
    # (measured 2026-12-07), so this test checks at the mechanics threshold of tests/assistant/test_citations.py
    s = seed_store.settings.with_overrides(**{"llm.backend": "openai", "llm.base_url": llama_server, "llm.model": "qwen-small",
                                              "verify.threshold": 0.25})
    llm = make_chat_model(s)
    assert isinstance(llm, OpenAICompatChat)
    a = Assistant(s, store=seed_store, llm=llm)
    # (asked "Wo traf Trump Putin am Freitag?", the 0.5B model served this way answers "Trump traf Putin
    # am Freitag [2]", no place and the wrong passage, which the check rightly refuses)
    ans = a.ask("In welcher Stadt trafen sich Trump und Putin?")
    assert ans.error is None
    assert not ans.abstained, (ans.raw_text, ans.notes)
    assert "Anchorage" in ans.text or "Alaska" in ans.text
    assert ans.citations and all(c.chunk_id in {h.chunk.id for h in ans.passages} for c in ans.citations)
    # streaming arrives in pieces
    pieces = list(llm.stream(MESSAGES, max_tokens=16, temperature=0.0))
    assert len(pieces) > 1


@pytest.mark.e2e
@pytest.mark.models
@pytest.mark.parametrize("structured_output", ["json_object", "json_schema"])
def test_evidence_first_through_a_real_openai_compatible_server(llama_server, seed_store, structured_output):
    """llama-cpp-python's server takes a schema as ``json_object``; it fails on ``json_schema`` (HTTP
    500), and the back end then asks again without it and parses the reply leniently."""
    s = seed_store.settings.with_overrides(**{
        "llm.backend": "openai", "llm.base_url": llama_server, "llm.model": "qwen-small",
        "llm.structured_output": structured_output, "answering.prompt_variant": "evidence",
    })
    llm = make_chat_model(s)
    ans = Assistant(s, store=seed_store, llm=llm).ask("Wo traf Trump Putin am Freitag?")
    assert ans.error is None, ans.error
    if structured_output == "json_object":
        reply = json.loads(ans.raw_text)  # the schema was enforced: JSON, evidence ids from the list
        assert set(reply) == {"evidence", "answer"} and all(i.count(".") == 1 for i in reply["evidence"])
        assert llm.structured_output == "json_object"
    else:
        assert llm.structured_output == "off"  # refused once, never sent again
    # Measured (2026-12-07, evidence chosen by sentence): served this way the 0.5B model lists the right
    # sentence 1.1 ("Am Freitag traf er in Anchorage, Alaska, …") but often writes only "[1]." as its answer;
    # run in-process it answers "Anchorage, Alaska". Which one it does is the model's; what the product
    # must do with either is not: a content-free answer is refused, an answer is shown only cited and checked.
    assert any(i.split(".")[0] == "1" for i in json.loads(ans.raw_text)["evidence"]), ans.raw_text
    if ans.abstained:
        assert not ans.citations and not ans.grounded and "[1]" not in ans.text, ans.text
        return
    assert ans.grounded and ("Anchorage" in ans.text or "Alaska" in ans.text), (ans.text, ans.raw_text)
    assert ans.sentences and all(s.verdict == "supported" for s in ans.sentences), [(s.verdict, s.text) for s in ans.sentences]
    assert ans.citations and all(c.chunk_id in {h.chunk.id for h in ans.passages} for c in ans.citations)


# -- failing back ends -------------------------------------------------------------------------

def _event(obj) -> bytes:
    return b"data: " + (obj if isinstance(obj, bytes) else json.dumps(obj).encode()) + b"\n\n"


_DELTA = {"choices": [{"delta": {"content": "Hallo"}}]}
_BODIES = {  # mode -> (status, content type, body)
    "ok": (200, "text/event-stream", _event(_DELTA) + _event(b"[DONE]")),
    "garbage": (200, "text/html", b"<html>not an API</html>"),
    "error500": (503, "text/plain", b""),
    "error404": (404, "application/json", json.dumps({"error": {"message": "model 'm' not found"}}).encode()),
    "malformed": (200, "text/event-stream", _event(_DELTA) + _event(b"{not json") + _event(b"[DONE]")),
    "error_event": (200, "text/event-stream", _event({"error": {"message": "out of memory"}})),
    "empty": (200, "text/event-stream", _event(b"[DONE]")),
    "json": (200, "application/json", json.dumps({"choices": [{"message": {"role": "assistant", "content": "Hallo"}}]}).encode()),
    "json_garbage": (200, "application/json", b'{"result": "Hallo"}'),
}


class _Handler(http.server.BaseHTTPRequestHandler):
    mode = "garbage"
    hits = 0
    authorization = None

    def log_message(self, *args):  # keep test output clean
        pass

    def do_POST(self):  # noqa: N802
        type(self).hits += 1
        type(self).authorization = self.headers.get("Authorization")
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.mode == "slow":
            time.sleep(3)
        if self.mode == "broken":  # one piece, then the connection drops before the promised length
            body = _event(_DELTA)
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Content-Length", str(len(body) + 500))
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()
            self.close_connection = True
            return
        status, ctype, body = _BODIES["ok" if self.mode == "slow" else self.mode]
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except BrokenPipeError:
            pass


@pytest.fixture
def stub_server():
    servers = []

    def start(mode: str) -> str:
        handler = type("H", (_Handler,), {"mode": mode, "hits": 0})
        srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        servers.append(srv)
        return f"http://127.0.0.1:{srv.server_address[1]}/v1", handler

    yield start
    for srv in servers:
        srv.shutdown()


def test_server_down_is_a_clear_error():
    llm = OpenAICompatChat(f"http://127.0.0.1:{free_port()}/v1", "m", retries=1, timeout_s=5)
    with pytest.raises(LLMUnavailableError, match="cannot reach LLM server http://127.0.0.1"):
        list(llm.stream(MESSAGES, max_tokens=8, temperature=0))


def test_slow_server_times_out(stub_server):
    url, handler = stub_server("slow")
    llm = OpenAICompatChat(url, "m", retries=1, timeout_s=0.5)
    with pytest.raises(LLMUnavailableError, match="timed out"):
        list(llm.stream(MESSAGES, max_tokens=8, temperature=0))
    assert handler.hits == 2  # one retry


def test_garbage_answer_is_a_clear_error(stub_server):
    url, _ = stub_server("garbage")
    llm = OpenAICompatChat(url, "m", retries=0)
    with pytest.raises(LLMUnavailableError, match="not a chat completion stream"):
        list(llm.stream(MESSAGES, max_tokens=8, temperature=0))


def test_5xx_is_retried_then_reported(stub_server):
    url, handler = stub_server("error500")
    llm = OpenAICompatChat(url, "m", retries=2)
    with pytest.raises(LLMUnavailableError, match="HTTP 503"):
        list(llm.stream(MESSAGES, max_tokens=8, temperature=0))
    assert handler.hits == 3


def test_good_stub_stream_parses(stub_server):
    url, _ = stub_server("ok")
    assert "".join(OpenAICompatChat(url, "m").stream(MESSAGES, max_tokens=8, temperature=0)) == "Hallo"


def test_api_key_is_sent_as_bearer_token(stub_server):
    url, handler = stub_server("ok")
    assert "".join(OpenAICompatChat(url, "m", api_key="geheim").stream(MESSAGES, max_tokens=8, temperature=0)) == "Hallo"
    assert handler.authorization == "Bearer geheim"


def test_4xx_fails_at_once_with_the_servers_detail(stub_server):
    url, handler = stub_server("error404")
    llm = OpenAICompatChat(url, "m", retries=2)
    with pytest.raises(LLMUnavailableError, match=r"LLM server http://127\.0\.0\.1:\d+/v1 refused the request: HTTP 404 .*model 'm' not found") as err:
        list(llm.stream(MESSAGES, max_tokens=8, temperature=0))
    assert "\n" not in str(err.value)
    assert handler.hits == 1  # not retried


@pytest.mark.parametrize("mode,match", [
    ("malformed", "sent a malformed stream event"),
    ("error_event", "reported an error: out of memory"),
    ("empty", "sent an empty stream"),
    ("json_garbage", "answered garbage"),
])
def test_bad_streams_are_clear_errors(stub_server, mode, match):
    url, _ = stub_server(mode)
    llm = OpenAICompatChat(url, "m", retries=0)
    with pytest.raises(LLMUnavailableError, match=match) as err:
        list(llm.stream(MESSAGES, max_tokens=8, temperature=0))
    assert url in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize("mode,match", [
    ("malformed", "sent a malformed stream event"),
    ("broken", "broke off the answer after it had started"),
])
def test_stream_failing_after_text_is_not_retried(stub_server, mode, match):
    url, handler = stub_server(mode)
    pieces = []
    with pytest.raises(LLMUnavailableError, match=match):
        for p in OpenAICompatChat(url, "m", retries=2).stream(MESSAGES, max_tokens=8, temperature=0):
            pieces.append(p)
    assert pieces == ["Hallo"]  # what was yielded stays, and is not repeated by a second request
    assert handler.hits == 1


def test_a_server_that_ignores_streaming_still_answers(stub_server):
    url, _ = stub_server("json")
    assert list(OpenAICompatChat(url, "m").stream(MESSAGES, max_tokens=8, temperature=0)) == ["Hallo"]


def test_missing_base_url_is_a_model_error():
    from assistant.errors import ModelError

    with pytest.raises(ModelError, match="llm.base_url is required"):
        OpenAICompatChat("", "m")
