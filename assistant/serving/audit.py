"""An append-only audit trail of a shared server: who added, updated or removed articles, who added or
removed users, and every refused attempt, one JSON object a line.

    >>> log = AuditLog(Path("audit.jsonl"))
    >>> log.record("anna", "ingest", paths=["/srv/news/a.md"], articles=["3f2a…"])
    >>> log.record("bert", "ingest", outcome="refused", reason="reader")

The file is only ever opened for appending (``O_APPEND``): no code path rewrites or truncates it.
Questions are not recorded (what people ask stays theirs); limits hit are.
"""

from __future__ import annotations

import json
import os
import threading
from datetime import datetime, timezone
from pathlib import Path


class AuditLog:
    """JSON Lines at ``path`` (created with mode 0600). A failed write raises ``OSError`` to the caller,
    so an action whose record could not be written is not mistaken for a logged one."""

    def __init__(self, path: Path):
        self.path = Path(path).expanduser()
        self._lock = threading.Lock()

    def record(self, user: str | None, action: str, *, outcome: str = "ok", **what: object) -> dict:
        """Append one entry: time (UTC), user, action, outcome and ``what`` (paths, article ids, reason …)."""
        entry = {
            "ts": datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
            "user": user,
            "action": action,
            "outcome": outcome,
            **what,
        }
        line = json.dumps(entry, ensure_ascii=False, default=str) + "\n"
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, line.encode("utf-8"))
            finally:
                os.close(fd)
        return entry

    def entries(self) -> list[dict]:
        """Every entry, oldest first (for tests and a quick look; the file is the record)."""
        if not self.path.exists():
            return []
        with open(self.path, encoding="utf-8") as f:
            return [json.loads(line) for line in f if line.strip()]


def audit_path(settings) -> Path:
    """Where the audit log of ``settings`` lives: ``ui.audit_log``, else audit.jsonl in the index folder."""
    return Path(settings.ui.audit_log or Path(settings.paths.index_dir) / "audit.jsonl").expanduser()
