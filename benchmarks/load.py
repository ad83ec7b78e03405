"""Load on the served app: N concurrent client sessions (gradio_client) asking through the ``/ask``
API for a bounded number of questions each, on localhost only. Reports errors, cross-talk (an answer
that belongs to another question) and latency percentiles; writes ``benchmarks/results/load.{json,md}``.

    .venv/bin/python -m benchmarks.load [--sessions 8] [--per-session 2] [--model qwen2.5-coder-0.5b]

Without ``--url`` it starts the app itself on a free port over seeds/ (embedded models).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import threading
import time
from pathlib import Path

from .common import RESULTS, SEEDS

QUESTIONS = [
    "Wo traf Trump Putin am Freitag?",
    "Where did Trump meet Putin on Friday?",
    "Wer ist NATO-Generalsekretär?",
    "Who is the NATO Secretary General?",
    "Welche Luftabwehrsysteme braucht die Ukraine dringend?",
    "Which air defence systems does Ukraine need urgently?",
    "Wie hoch ist die Inflationsrate in Deutschland?",
    "What is the inflation rate in Germany?",
]


def pct(values: list[float], q: float) -> float:
    v = sorted(values)
    return v[min(len(v) - 1, max(0, round(q * (len(v) - 1))))] if v else float("nan")


def run_load(url: str, sessions: int = 8, per_session: int = 2, timeout_s: float = 900.0) -> dict:
    """Drive ``sessions`` concurrent clients against ``url``; returns counts and latency percentiles."""
    from gradio_client import Client

    results: list[dict] = []
    lock = threading.Lock()
    deadline = time.monotonic() + timeout_s

    def session(i: int) -> None:
        client = Client(url, verbose=False)
        for j in range(per_session):
            if time.monotonic() > deadline:
                return
            q = QUESTIONS[(i + j * sessions) % len(QUESTIONS)]
            t0 = time.perf_counter()
            row = {"session": i, "question": q}
            try:
                ans = client.predict(q, api_name="/ask")
                row.update(ok=True, crosstalk=ans.get("question") != q, abstained=ans.get("abstained"), text=ans.get("text"))
            except Exception as e:  # the load report counts every failure
                row.update(ok=False, error=f"{type(e).__name__}: {e}")
            row["latency_s"] = time.perf_counter() - t0
            with lock:
                results.append(row)

    t0 = time.perf_counter()
    threads = [threading.Thread(target=session, args=(i,)) for i in range(sessions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=max(1.0, deadline - time.monotonic()))
    lat = [r["latency_s"] for r in results if r.get("ok")]
    return {
        "sessions": sessions, "per_session": per_session, "requests": len(results), "wall_s": time.perf_counter() - t0,
        "errors": sum(not r.get("ok") for r in results), "crosstalk": sum(bool(r.get("crosstalk")) for r in results),
        "latency_p50_s": pct(lat, 0.5), "latency_p95_s": pct(lat, 0.95), "latency_max_s": max(lat, default=float("nan")),
        "rows": results,
    }


def start_app(model: str, cache_dir: str | None = None):
    from assistant.assistant import Assistant
    from assistant.serving.ui import build_app, launch
    from assistant.settings import Settings

    over = {"paths.index_dir": tempfile.mkdtemp(prefix="load-"), "llm.model": model}
    if cache_dir:
        over["paths.cache_dir"] = cache_dir
    s = Settings().with_overrides(**over)
    a = Assistant(s)
    a.store.ingest([SEEDS])
    app = build_app(a)
    url = launch(app, host="127.0.0.1", port=0, prevent_thread_lock=True)
    return app, url


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.load", description=__doc__.split("\n\n")[0])
    ap.add_argument("--url", help="a running app (default: start one)")
    ap.add_argument("--sessions", type=int, default=8)
    ap.add_argument("--per-session", type=int, default=2)
    ap.add_argument("--model", default="qwen2.5-coder-0.5b")
    ap.add_argument("--cache-dir")
    ap.add_argument("--out", default=str(RESULTS))
    args = ap.parse_args(argv)
    app = None
    url = args.url
    if not url:
        app, url = start_app(args.model, args.cache_dir)
    try:
        r = run_load(url, args.sessions, args.per_session)
    finally:
        if app is not None:
            app.close()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "load.json").write_text(json.dumps(r, ensure_ascii=False, indent=1))
    md = (
        f"# Load: {r['sessions']} concurrent sessions × {r['per_session']} questions ({args.model})\n\n"
        f"| requests | errors | cross-talk | p50 s | p95 s | max s | wall s |\n| --- | --- | --- | --- | --- | --- | --- |\n"
        f"| {r['requests']} | {r['errors']} | {r['crosstalk']} | {r['latency_p50_s']:.1f} | {r['latency_p95_s']:.1f} | "
        f"{r['latency_max_s']:.1f} | {r['wall_s']:.1f} |\n"
    )
    (out / "load.md").write_text(md)
    print(md)
    return 0 if r["errors"] == 0 and r["crosstalk"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
