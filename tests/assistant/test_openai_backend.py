"""The OpenAI-compatible back end: against a real `python -m llama_cpp.server` process on localhost
serving the small GGUF, and against failing servers (down, slow, garbage, 5xx)."""

from __future__ import annotations

import http.server
import socket
import subprocess
import sys
import threading
import time

import httpx
import pytest

from assistant.assistant import Assistant
from assistant.errors import LLMUnavailableError
from assistant.llm import OpenAICompatChat, make_chat_model

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
            [sys.executable, "-m", "llama_cpp.server", "--model", str(small_gguf), "--model_alias", "qwen-small",
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
    s = seed_store.settings.with_overrides(**{"llm.backend": "openai", "llm.base_url": llama_server, "llm.model": "qwen-small"})
    llm = make_chat_model(s)
    assert isinstance(llm, OpenAICompatChat)
    a = Assistant(s, store=seed_store, llm=llm)
    ans = a.ask("Wo traf Trump Putin am Freitag?")
    assert ans.error is None
    assert not ans.abstained, (ans.raw_text, ans.notes)
    assert "Anchorage" in ans.text or "Alaska" in ans.text
    assert ans.citations and all(c.chunk_id in {h.chunk.id for h in ans.passages} for c in ans.citations)
    # streaming arrives in pieces
    pieces = list(llm.stream(MESSAGES, max_tokens=16, temperature=0.0))
    assert len(pieces) > 1


# -- failing back ends -------------------------------------------------------------------------

class _Handler(http.server.BaseHTTPRequestHandler):
    mode = "garbage"
    hits = 0

    def log_message(self, *args):  # keep test output clean
        pass

    def do_POST(self):  # noqa: N802
        type(self).hits += 1
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.mode == "slow":
            time.sleep(3)
        if self.mode == "error500":
            self.send_response(503)
            self.end_headers()
            return
        body = b"<html>not an API</html>" if self.mode == "garbage" else b'data: {"choices": [{"delta": {"content": "Hallo"}}]}\n\ndata: [DONE]\n\n'
        ctype = "text/html" if self.mode == "garbage" else "text/event-stream"
        self.send_response(200)
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
