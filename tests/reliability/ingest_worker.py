"""A tiny ingest process for the crash and lock tests (the product's CLI does the same with the real
embedder): open the store with the hashing embedder and ingest one folder.

    python -m tests.reliability.ingest_worker INDEX_DIR CORPUS [--pause-after N] [--catalog-url URL --chroma-url URL]

Prints ``opened`` once the store is open, ``progress FILES_DONE FILES_TOTAL CHUNKS`` after each file,
``done ADDED REPLACED REMOVED`` at the end. With ``--pause-after N`` it prints ``paused`` after the
N-th file and waits for a line on stdin (holding the ingest lock meanwhile). With ``--die-after
catalog.add_pending:2`` it SIGKILLs itself right after the 2nd call of that method, to hit the windows
between the catalog and the Chroma writes exactly. Exits 3 with ``busy: MESSAGE`` when another
process holds the lock.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys

from assistant.errors import IndexBusyError
from assistant.settings import Settings
from vectorstore import open_store
from vectorstore.embedder import HashEmbedder


def die_after(store, spec: str) -> None:
    """Make the N-th call of store.<object>.<method> kill this process once it has returned."""
    target, _, n = spec.partition(":")
    obj_name, method = target.split(".")
    obj = getattr(store, obj_name)
    original = getattr(obj, method)
    calls = 0

    def wrapped(*args, **kwargs):
        nonlocal calls
        result = original(*args, **kwargs)
        calls += 1
        if calls == int(n):
            print(f"dying after {spec}", flush=True)
            os.kill(os.getpid(), signal.SIGKILL)
        return result

    setattr(obj, method, wrapped)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("index_dir")
    ap.add_argument("corpus")
    ap.add_argument("--pause-after", type=int, default=0)
    ap.add_argument("--die-after", default="", help="OBJECT.METHOD:N, e.g. dense.upsert:2")
    ap.add_argument("--batch-size", type=int, default=8, help="embedding.batch_size; small means many flushes")
    ap.add_argument("--catalog-url", help="store.catalog_url (a shared PostgreSQL catalog)")
    ap.add_argument("--chroma-url", help="store.chroma_url (a Chroma server)")
    ap.add_argument("--collection", help="store.collection")
    args = ap.parse_args()
    settings = Settings().with_overrides(
        **{"paths.index_dir": args.index_dir, "paths.cache_dir": args.index_dir + "-cache", "embedding.model": "hash-256",
           "embedding.batch_size": args.batch_size, "store.catalog_url": args.catalog_url, "store.chroma_url": args.chroma_url,
           "store.collection": args.collection}
    )
    store = open_store(settings, embedder=HashEmbedder(256))
    if args.die_after:
        die_after(store, args.die_after)
    print("opened", flush=True)

    def progress(done: int, total: int, chunks: int) -> None:
        print(f"progress {done} {total} {chunks}", flush=True)
        if done == args.pause_after:
            print("paused", flush=True)
            sys.stdin.readline()

    try:
        rep = store.ingest([args.corpus], progress=progress)
    except IndexBusyError as e:
        print(f"busy: {e}", flush=True)
        return 3
    print(f"done {len(rep.added)} {len(rep.replaced)} {len(rep.removed)}", flush=True)
    store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
