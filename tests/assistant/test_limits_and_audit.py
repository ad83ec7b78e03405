"""Per-user limits (questions per minute, answers at once) and the append-only audit log."""

from __future__ import annotations

import json
import threading

import pytest

from assistant.errors import RateLimitError
from assistant.serving.audit import AuditLog
from assistant.serving.limits import Limits


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_questions_per_minute_are_counted_per_user_in_a_sliding_window():
    clock = Clock()
    limits = Limits(per_minute=3, at_once=0, clock=clock)
    for _ in range(3):
        limits.admit("anna")
    with pytest.raises(RateLimitError, match=r"at most 3 a minute per user \(ui.questions_per_minute\); try again in 60 s") as e:
        limits.admit("anna")
    assert e.value.retry_after_s == pytest.approx(60.0)
    limits.admit("rudi")  # another user is not held back
    clock.now += 30
    with pytest.raises(RateLimitError, match="try again in 30 s"):
        limits.admit("anna")
    clock.now += 30.5
    limits.admit("anna")  # the first three left the window


def test_answers_at_once_are_held_and_released():
    limits = Limits(per_minute=0, at_once=2)
    with limits.slot("anna"), limits.slot("anna"):
        with pytest.raises(RateLimitError, match=r"at most 2 per user \(ui.answers_per_user\)"):
            with limits.slot("anna"):
                pass
        with pytest.raises(RateLimitError, match="answers at once"):
            limits.admit("anna")  # a new question is refused while both are running
        with limits.slot("rudi"):
            assert limits.running("anna") == 2 and limits.running("rudi") == 1
    assert limits.running("anna") == 0
    with pytest.raises(RuntimeError):
        with limits.slot("anna"):
            raise RuntimeError("the answer failed")
    assert limits.running("anna") == 0  # released however the answer ended


def test_limits_hold_under_threads():
    limits = Limits(per_minute=50, at_once=0)
    admitted, refused = [], []

    def ask():
        try:
            limits.admit("anna")
            admitted.append(1)
        except RateLimitError:
            refused.append(1)

    threads = [threading.Thread(target=ask) for _ in range(80)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(admitted) == 50 and len(refused) == 30


def test_audit_log_appends_and_never_rewrites(tmp_path):
    path = tmp_path / "audit.jsonl"
    path.write_text('{"earlier": "entry"}\n')
    log = AuditLog(path)
    log.record("anna", "ingest", paths=["/srv/news/a.md"], added=[{"source": "/srv/news/a.md", "article_id": "abc"}])
    log.record("rudi", "ingest", outcome="refused", reason="role reader")
    lines = path.read_text().splitlines()
    assert json.loads(lines[0]) == {"earlier": "entry"}  # what was there stays
    first, second = (json.loads(line) for line in lines[1:])
    assert first["user"] == "anna" and first["action"] == "ingest" and first["outcome"] == "ok"
    assert first["added"][0]["article_id"] == "abc" and first["ts"].endswith("+00:00")
    assert second["outcome"] == "refused" and second["reason"] == "role reader"


def test_a_new_audit_log_is_private(tmp_path):
    log = AuditLog(tmp_path / "logs" / "audit.jsonl")
    log.record("cli:root", "user.add", name="anna", role="editor")
    assert (log.path.stat().st_mode & 0o777) == 0o600
    assert log.entries()[0]["name"] == "anna"
