"""Issue 7, ingest side: a batch of good and bad files. Each bad file gets one line naming it (and
the line or field), the rest of the batch is ingested, the index stays consistent, fixing a file
and re-ingesting works, and nothing already stored is lost when a file turns bad."""

from __future__ import annotations

import json
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from tests.conftest import make_settings
from tests.vectorstore.helpers import DE_BODY, EN_BODY, SPORT_BODY, assert_consistent, md, write
from vectorstore import open_store
from vectorstore.embedder import HashEmbedder

PNG = b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0) + zlib.compress(b"\x00" * 64)
LATIN1_TEXT = "Straßenbäume in Köln\nDie Stadt übernimmt die Pflege der Straßenbäume. Größere Ämter prüfen die Kosten."
CP1252_BODY = "Der Stadtkämmerer sagte: „Das kostet 5 € – mindestens.“ Die Opposition sprach von einem Haushaltsloch…"
HTML = """<html><head><title>Windpark genehmigt</title><style>.verstecktestil { display: none }</style>
<script>window.analyticsgeheim = 1;</script></head><body><h1>Windpark genehmigt</h1>
<p>Der Landkreis hat den Windpark mit zwölf Windrädern genehmigt.</p><script>trackinggeheim()</script>
<p>Der Bau beginnt im Herbst.</p></body></html>"""


def build_bad_batch(root: Path) -> dict[str, Path]:
    f = {}
    f["good"] = write(root / "good.md", md("Musterhausen beschließt Haushalt", DE_BODY, date="2024-06-11", source="Lokalblatt"))
    f["plain"] = write(root / "plain.txt", "Springfield approves library budget\n" + EN_BODY)
    f["empty"] = write(root / "empty.md", "")
    f["blank"] = write(root / "blank.txt", "\n \n\t\n")
    f["binary"] = root / "photo.md"
    f["binary"].write_bytes(PNG)
    f["latin1"] = write(root / "latin1.txt", LATIN1_TEXT, encoding="latin-1")
    f["cp1252"] = write(root / "cp1252.md", md("Haushaltsloch", CP1252_BODY, date="2024-02-01"), encoding="cp1252")
    f["huge"] = root / "huge.txt"
    with open(f["huge"], "w", encoding="utf-8") as out:
        out.write("Riesenartikel\n")
        line = "Dieser Satz wiederholt sich sehr oft in einem viel zu großen Artikel. " * 100 + "\n"
        while out.tell() < 20_000_000:
            out.write(line)
    f["broken_front"] = write(root / "broken-front.md", '---\ntitle: "Unterminated\ndate: 2024-01-01\n---\n' + SPORT_BODY)
    f["unclosed_front"] = write(root / "unclosed-front.md", "---\ntitle: Offen\ndate: 2024-01-01\n\n" + SPORT_BODY)
    f["feed"] = write(root / "feed.jsonl", "\n".join([
        json.dumps({"id": "a", "title": "Hafen erweitert Terminal", "text": "Der Hafen erweitert sein Containerterminal."}),
        '{"id": "b", "title": "Kaputt", "text": "Diese Zeile endet mitten im',
        json.dumps({"id": "c", "title": "Airport opens runway", "text": "The airport opened its third runway."}),
    ]) + "\n")
    f["list"] = write(root / "list.json", json.dumps([
        {"title": "Brücke gesperrt", "text": "Die Rheinbrücke ist wegen Schäden gesperrt."},
        {"title": "Ohne Text", "date": "2024-01-01"},
    ]))
    f["no_title"] = write(root / "no-title.md", "---\ndate: 2024-05-05\n---\nBahnstreik angekündigt\nDie Gewerkschaft kündigt einen Bahnstreik an.\n")
    f["no_date"] = write(root / "no-date.md", md("Ohne Datum", "Der Artikel über Solardächer hat kein Datum."))
    f["other_date"] = write(root / "other-date.md", md("Anderes Datumsformat", "Der Artikel über Radwege nennt sein Datum deutsch.",
                                                        date="18. August 2025"))
    f["bad_date"] = write(root / "bad-date.md", md("Unlesbares Datum", "Der Artikel über Straßenbahnen hat ein Datum, das niemand lesen kann.",
                                                    date="irgendwann im Sommer"))
    f["dup_a"] = write(root / "dup-a.md", md("Blauweiß gewinnt", SPORT_BODY, date="2023-11-25"))
    f["dup_b"] = write(root / "dup-b.md", md("Blauweiß gewinnt", SPORT_BODY, date="2023-11-25"))
    f["html"] = write(root / "page.html", HTML)
    return f


EXPECTED_FAILURES = {
    # file key: words the one-line message must contain besides the file's path
    "empty": ["empty"],
    "blank": ["empty"],
    "binary": ["binary"],
    "huge": ["too large", "MB", "chunking.max_article_mb"],
    "broken_front": ["front matter", ":3"],
    "unclosed_front": ["front matter", "closing", ":1"],
    "feed": [":2", "invalid JSON"],
    "list": ["[1].text", "no text"],
}


@pytest.fixture
def batch(tmp_path):
    return build_bad_batch(tmp_path / "batch")


def key(p: Path, record: str | None = None) -> str:
    return str(p.resolve()) + (f"#{record}" if record else "")


def test_bad_files_are_reported_and_the_rest_is_ingested(store, batch):
    rep = store.ingest([batch["good"].parent])

    failed = {}
    for path, msg in rep.failed:
        assert "\n" not in msg, msg
        failed.setdefault(Path(path).resolve(), []).append(msg)
    assert set(failed) == {batch[k].resolve() for k in EXPECTED_FAILURES}, sorted(failed)
    for k, words in EXPECTED_FAILURES.items():
        (msg,) = failed[batch[k].resolve()]
        assert str(batch[k].resolve()) in msg, msg
        for w in words:
            assert w in msg, (k, msg)

    expected_added = {key(batch[k]) for k in ("good", "plain", "latin1", "cp1252", "no_title", "no_date", "other_date",
                                             "bad_date", "dup_a", "html")}
    expected_added |= {key(batch["feed"], "a"), key(batch["feed"], "c"), key(batch["list"], "0")}
    assert set(rep.added) == expected_added
    assert rep.duplicates == [(key(batch["dup_b"]), key(batch["dup_a"]))]
    state = assert_consistent(store)
    assert len(state["articles"]) == len(expected_added)
    assert len(state["sources"]) == len(expected_added) + 1  # dup-b points at dup-a's article

    by_title = {a["title"]: a for a in store.articles()}
    # Encodings: both 8-bit files decode to the right characters and are searchable.
    assert store.search("Straßenbäume Köln", k=1, mode="lexical")[0].title == "Straßenbäume in Köln"
    cp = store.search("Stadtkämmerer Haushaltsloch", k=1, mode="lexical")[0]
    assert "„Das kostet 5 € – mindestens.“" in cp.text and cp.text.endswith("Haushaltsloch…")
    assert any("Windows-1252" in w and "latin1.txt" in w for w in rep.warnings)
    # Missing and odd metadata.
    assert by_title["Bahnstreik angekündigt"]["date"] == "2024-05-05"
    assert any("no-title.md" in w and "title" in w for w in rep.warnings)
    assert by_title["Ohne Datum"]["date"] is None
    assert by_title["Anderes Datumsformat"]["date"] == "2025-08-18"
    assert by_title["Unlesbares Datum"]["date"] is None
    assert any("bad-date.md" in w and "[date]" in w for w in rep.warnings)
    # HTML: visible text only.
    html = store.search("Windpark Windrädern Landkreis", k=1, mode="lexical")[0]
    assert html.title == "Windpark genehmigt" and "Bau beginnt im Herbst" in html.text
    for hidden in ("verstecktestil", "analyticsgeheim", "trackinggeheim"):
        assert not store.search(hidden, k=5, mode="lexical")
        assert all(hidden not in c.text for c in store.catalog.chunks(state["chunk_ids"]).values())


def test_fixing_broken_files_and_reingesting_adds_them(store, batch):
    first = store.ingest([batch["good"].parent])
    write(batch["broken_front"], md("Blauweiß verliert", SPORT_BODY.replace("gewann", "verlor"), date="2024-01-01"))
    write(batch["unclosed_front"], "---\ntitle: Offen\ndate: 2024-01-01\n---\n" + SPORT_BODY.replace("Samstag", "Sonntag"))
    write(batch["feed"], batch["feed"].read_text(encoding="utf-8").replace("mitten im", 'mitten im Satz."}'))
    write(batch["empty"], md("Nicht mehr leer", "Jetzt steht hier ein Artikel über Parkhäuser."))
    batch["binary"].write_text(md("Kein Bild mehr", "Ein Artikel über Fahrradstraßen."), encoding="utf-8")
    batch["huge"].write_text("Kleiner Artikel\nJetzt ist der Artikel über Stadtwerke klein.", encoding="utf-8")

    rep = store.ingest([batch["good"].parent])
    fixed = {key(batch[k]) for k in ("broken_front", "unclosed_front", "empty", "binary", "huge")} | {key(batch["feed"], "b")}
    assert set(rep.added) == fixed
    assert {Path(p).resolve() for p, _ in rep.failed} == {batch["blank"].resolve(), batch["list"].resolve()}
    assert set(rep.unchanged) >= set(first.added)
    assert not rep.removed and not rep.replaced
    assert_consistent(store)
    assert store.search("Parkhäuser", k=1, mode="lexical")[0].title == "Nicht mehr leer"


def test_nothing_stored_is_lost_when_files_turn_bad(store, tmp_path):
    root = tmp_path / "c"
    files = {
        "a": write(root / "a.md", md("Musterhausen beschließt Haushalt", DE_BODY, date="2024-06-11")),
        "b": write(root / "b.txt", "Springfield approves library budget\n" + EN_BODY),
        "c": write(root / "c.md", md("Blauweiß gewinnt", SPORT_BODY)),
        "d": write(root / "d.md", md("Solardächer", "Der Artikel über Solardächer.")),
        "feed": write(root / "feed.jsonl", "\n".join(json.dumps({"id": i, "title": f"Meldung {i}", "text": f"Meldung {i} über Thema{i}."})
                                                    for i in ("x", "y")) + "\n"),
        "list": write(root / "list.json", json.dumps([{"title": "Brücke", "text": "Die Rheinbrücke ist gesperrt."}])),
        "gone": write(root / "gone.md", md("Wird gelöscht", "Dieser Artikel über Baustellen verschwindet.")),
    }
    store.ingest([root])
    before = assert_consistent(store)
    assert len(before["articles"]) == 8

    files["a"].write_bytes(PNG)
    files["b"].write_text("", encoding="utf-8")
    files["c"].write_text('---\ntitle: "kaputt\n---\n' + SPORT_BODY, encoding="utf-8")
    with open(files["d"], "w", encoding="utf-8") as out:  # grew past the size limit
        out.write("x" * 6_000_000)
    files["feed"].write_text('{"id": "x", "title": "Meldung x", "text": \n' + json.dumps({"id": "y", "title": "Meldung y", "text": "Meldung y über Themay."}) + "\n", encoding="utf-8")
    files["list"].write_text("[{not json", encoding="utf-8")
    files["gone"].unlink()

    rep = store.ingest([root])
    assert {Path(p).name for p, _ in rep.failed} == {"a.md", "b.txt", "c.md", "d.md", "feed.jsonl", "list.json"}
    assert rep.removed == [key(files["gone"])]  # a file really gone still leaves
    after = assert_consistent(store)
    assert set(after["articles"]) == set(before["articles"]) - {before["sources"][key(files["gone"])]}
    assert set(after["chunk_ids"]) < set(before["chunk_ids"])
    for q, title in [("Musterhausen Stadtbibliotheken", "Musterhausen beschließt Haushalt"), ("Springfield libraries", "Springfield approves library budget"),
                     ("Heimspiel Torwart", "Blauweiß gewinnt"), ("Solardächer", "Solardächer"), ("Themax", "Meldung x"),
                     ("Rheinbrücke", "Brücke")]:
        hits = store.search(q, k=1, mode="lexical")
        assert hits and hits[0].title == title, q

    # Once repaired, the files come back as they are now.
    files["a"].write_text(md("Musterhausen beschließt Haushalt", DE_BODY, date="2024-06-12"), encoding="utf-8")
    files["c"].write_text(md("Blauweiß gewinnt", SPORT_BODY), encoding="utf-8")
    rep = store.ingest([root])
    assert rep.replaced == [key(files["a"])] and key(files["c"]) in rep.unchanged
    assert_consistent(store)


def test_size_limit_is_a_setting(tmp_path):
    big = write(tmp_path / "c" / "big.txt", "Großer Artikel\n" + ("Ein Satz über den Hafen und die Stadt. " * 2000))
    assert 60_000 < big.stat().st_size < 100_000
    small_limit = open_store(make_settings(tmp_path / "i1", **{"chunking.max_article_mb": 0.05}), embedder=HashEmbedder(256))
    rep = small_limit.ingest([big])
    assert not rep.added and "too large" in rep.failed[0][1] and "0.1 MB > 0.1 MB" not in rep.failed[0][1]
    small_limit.close()
    larger = open_store(make_settings(tmp_path / "i2", **{"chunking.max_article_mb": 1}), embedder=HashEmbedder(256))
    assert larger.ingest([big]).added == [key(big)]
    larger.close()


def test_duplicate_ids_in_one_jsonl_file_do_not_leave_orphans(store, tmp_path):
    feed = write(tmp_path / "c" / "feed.jsonl", "\n".join(json.dumps(r) for r in [
        {"id": "same", "title": "Erste Fassung", "text": "Die erste Fassung über Brückenbau."},
        {"id": "same", "title": "Zweite Fassung", "text": "Die zweite Fassung über Brückenbau."},
        {"id": "other", "title": "Anderes", "text": "Etwas anderes über Tunnelbau."},
    ]) + "\n")
    rep = store.ingest([feed])
    assert any(":2" in msg and "same" in msg for _, msg in rep.failed), rep.failed
    state = assert_consistent(store)
    assert sorted(a["title"] for a in store.articles()) == ["Anderes", "Erste Fassung"]
    assert len(state["articles"]) == 2


def test_large_jsonl_export_is_embedded_in_batches_and_limits_each_record(tmp_path):
    """A JSONL export bigger than chunking.max_article_mb is fine: the limit applies per record. Its
    articles are embedded and committed batch by batch inside the file (bounded memory, progress)."""
    records = [{"id": f"a{i}", "title": f"Meldung {i}", "text": f"Die Stadt {i} baut eine neue Brücke über den Fluss {i}. " * 3}
               for i in range(300)]
    records.insert(150, {"id": "big", "title": "Zu groß", "text": "Ein langer Satz über den Hafen. " * 3000})
    path = tmp_path / "c" / "export.jsonl"
    path.parent.mkdir(parents=True)
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n", encoding="utf-8")
    assert path.stat().st_size > 50_000
    s = open_store(make_settings(tmp_path / "i", **{"chunking.max_article_mb": 0.05}), embedder=HashEmbedder(256))
    calls: list[tuple[int, int, int]] = []
    rep = s.ingest([path], progress=lambda *a: calls.append(a))
    assert len(rep.added) == 300
    assert len(rep.failed) == 1 and ":151" in rep.failed[0][1] + rep.failed[0][0] and "too large" in rep.failed[0][1]
    mid_file = [c for c in calls if c[0] == 0]  # progress reported while still inside the one file
    assert len(mid_file) >= 2 and mid_file[0][2] < mid_file[-1][2] < rep.chunks_added
    assert_consistent(s)
    s.close()


ASSISTANT = Path(sys.executable).parent / "assistant"  # the console script, as a user or cron job runs it


def run_assistant(*args: str, index: Path) -> subprocess.CompletedProcess:
    opts = ["--index-dir", str(index), "--cache-dir", str(index.parent / "cache"), "--embedding-model", "hash-256"]
    return subprocess.run([str(ASSISTANT), *args, *opts], capture_output=True, text=True, timeout=300)


def test_ingest_exit_code_says_whether_every_file_was_ingested(tmp_path):
    """`assistant ingest good.md bad.bin; echo $?` prints 1: the good file is in, the bad one has its
    line on stderr. All good: 0. A path that does not exist: 2 (usage), and nothing is ingested."""
    good = write(tmp_path / "good.md", md("Musterhausen beschließt Haushalt", DE_BODY, date="2024-06-11"))
    bad = tmp_path / "bad.bin"
    bad.write_bytes(PNG)
    index = tmp_path / "index"

    mixed = run_assistant("ingest", "--quiet", str(good), str(bad), index=index)
    assert mixed.returncode == 1, mixed.stderr
    failed = [line for line in mixed.stderr.splitlines() if line.startswith("failed:")]
    assert len(failed) == 1 and "bad.bin" in failed[0] and "unsupported file type .bin" in failed[0], mixed.stderr
    assert "added 1," in mixed.stdout and "failed 1 " in mixed.stdout, mixed.stdout

    again = run_assistant("ingest", "--quiet", str(good), index=index)
    assert again.returncode == 0, again.stderr
    assert "unchanged 1," in again.stdout and "failed 0 " in again.stdout, again.stdout

    missing = run_assistant("ingest", "--quiet", str(good), str(tmp_path / "nowhere.md"), index=index)
    assert missing.returncode == 2 and "nowhere.md: no such file or folder" in missing.stderr, missing.stderr
    usage = run_assistant("ingest", "--no-such-flag", str(good), index=index)
    assert usage.returncode == 2 and "unrecognized arguments" in usage.stderr

