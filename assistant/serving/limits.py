"""Per-user limits of a shared server: questions per minute and answers in progress at once, so one
person (or one script with their token) cannot take the model from everyone else.

    >>> limits = Limits(per_minute=30, at_once=2)
    >>> limits.admit("anna")             # a question arrives: RateLimitError when anna is over a limit
    >>> with limits.slot("anna"):        # its answer is generated: RateLimitError when 2 already are
    ...     ...

A question is counted when it arrives (the UI's accept, the API's request), so a flood queued behind
a slow model is refused at once instead of piling up.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterator

from ..errors import RateLimitError

WINDOW_S = 60.0


def minute_error(per_minute: int, wait_s: float) -> RateLimitError:
    wait = max(1.0, wait_s)
    return RateLimitError(
        f"too many questions: at most {per_minute} a minute per user (ui.questions_per_minute); try again in {wait:.0f} s",
        retry_after_s=wait,
    )


def at_once_error(at_once: int) -> RateLimitError:
    return RateLimitError(
        f"too many answers at once: at most {at_once} per user (ui.answers_per_user); wait for one to finish", retry_after_s=2.0
    )


class Limits:
    """Counts per user key; 0 turns a limit off. Thread-safe (handlers run in Gradio's worker threads)."""

    def __init__(self, per_minute: int, at_once: int, *, clock: Callable[[], float] = time.monotonic):
        if per_minute < 0 or at_once < 0:
            raise ValueError(f"limits must be >= 0; got per_minute={per_minute}, at_once={at_once}")
        self.per_minute, self.at_once, self.clock = per_minute, at_once, clock
        self._lock = threading.Lock()
        self._asked: dict[str, deque[float]] = defaultdict(deque)
        self._running: dict[str, int] = defaultdict(int)

    def admit(self, user: str) -> None:
        """Count one question of ``user``; ``RateLimitError`` (and nothing counted) when over either limit."""
        now = self.clock()
        with self._lock:
            asked = self._asked[user]
            while asked and now - asked[0] >= WINDOW_S:
                asked.popleft()
            if self.per_minute and len(asked) >= self.per_minute:
                raise minute_error(self.per_minute, WINDOW_S - (now - asked[0]))
            self._check_running(user)
            asked.append(now)

    def full(self, user: str) -> bool:
        """Whether ``user`` has used up this minute's questions (without counting one)."""
        now = self.clock()
        with self._lock:
            asked = self._asked.get(user)
            while asked and now - asked[0] >= WINDOW_S:
                asked.popleft()
            return bool(self.per_minute and asked and len(asked) >= self.per_minute)

    def _check_running(self, user: str) -> None:
        if self.at_once and self._running.get(user, 0) >= self.at_once:
            raise at_once_error(self.at_once)

    @contextlib.contextmanager
    def slot(self, user: str) -> Iterator[None]:
        """Hold one of ``user``'s answers-in-progress for the block; ``RateLimitError`` when all are taken."""
        with self._lock:
            self._check_running(user)
            self._running[user] += 1
        try:
            yield
        finally:
            with self._lock:
                self._running[user] -= 1
                if self._running[user] <= 0:
                    del self._running[user]

    def running(self, user: str) -> int:
        with self._lock:
            return self._running.get(user, 0)


#: No limits: local use on the machine itself, as before accounts existed.
UNLIMITED = Limits(0, 0)
