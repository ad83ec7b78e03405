"""``assistant serve`` as a real process: it binds the configured port, serves the page and the /ask
endpoint, and turns an empty index into a one-line error for the client."""

from __future__ import annotations

import subprocess
import sys
import time

import httpx
import pytest

from assistant.serving.ui import free_port

from .conftest import REPO, model_cache

pytestmark = pytest.mark.e2e


def wait_for(url: str, proc: subprocess.Popen, limit_s: float = 300.0) -> None:
    """Wait until the served app answers; it loads and warms its models first, which on a busy
    2-core machine took over 120 s once. A readiness wait, not a speed claim."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"serve exited with {proc.returncode}: {proc.stdout.read() if proc.stdout else ''}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"nothing answered at {url} within {limit_s:.0f}s")


def test_serve_binds_the_port_and_answers_clients(tmp_path):
    from gradio_client import Client
    from gradio_client.exceptions import AppError

    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "assistant.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
         "--index-dir", str(tmp_path / "index"), "--cache-dir", str(model_cache())],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}/"
        wait_for(url, proc)
        assert "News Q&amp;A" in httpx.get(url, timeout=10).text or "News Q&A" in httpx.get(url, timeout=10).text
        client = Client(url, verbose=False)
        with pytest.raises(AppError, match="index is empty"):
            client.predict("Wo traf Trump Putin?", api_name="/ask")
        assert proc.poll() is None  # still serving
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
