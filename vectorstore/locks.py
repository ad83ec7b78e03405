"""The ingest lock of an index kept in local files: an exclusive ``flock`` on ``ingest.lock``.

The kernel drops the lock when its holder dies (even by SIGKILL), so a crashed ingest never leaves
the index locked. A catalog on PostgreSQL uses an advisory lock instead (``catalog_pg``).
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from .errors import IndexBusyError


class FileLock:
    """``with FileLock(index_dir / "ingest.lock"):`` - IndexBusyError if another process holds it."""

    def __init__(self, path: Path):
        self.path = Path(path)

    def __enter__(self) -> "FileLock":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(self.fd, 32, 0).decode(errors="replace").strip()
            os.close(self.fd)
            raise IndexBusyError(
                f"another ingest is writing to {self.path.parent} (pid {holder or '?'}); wait for it to finish"
            ) from None
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, str(os.getpid()).encode(), 0)
        return self

    def __exit__(self, *exc) -> bool:
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)
        return False
