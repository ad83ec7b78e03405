"""Reading article files: every format, the metadata fields, dates and the language fallback."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from assistant.errors import ArticleError
from tests.vectorstore.helpers import DE_BODY, EN_BODY, SEED_FILE, md, write
from vectorstore.loader import iter_article_files, load_file, parse_date


def one(path):
    res = load_file(path)
    assert not res.errors
    assert len(res.articles) == 1
    return res.articles[0]


# ------------------------------------------------------------------ formats
def test_front_matter_markdown_reads_every_field(tmp_path):
    p = write(
        tmp_path / "a.md",
        md("Hafen wächst", DE_BODY, date="18.08.2025", source="Lokalblatt", url="https://example.org/hafen", language="de"),
    )
    art = one(p)
    assert art.title == "Hafen wächst"
    assert art.date == "2025-08-18"
    assert art.source == "Lokalblatt"
    assert art.url == "https://example.org/hafen"
    assert art.language == "de"
    assert art.text == DE_BODY  # no front matter, no surrounding blank lines
    assert art.source_key == str(p)
    assert art.meta == {"title": "Hafen wächst", "date": "2025-08-18", "source": "Lokalblatt",
                        "url": "https://example.org/hafen", "language": "de"}


def test_seed_article_loads():
    art = one(SEED_FILE)
    assert art.title.startswith("Trump verspricht “sehr guten” Schutz")
    assert art.date == "2025-08-18"
    assert art.language == "de"
    assert art.source == "Seed-Artikel (Nachrichtenagentur)"
    assert not art.text.startswith("---") and "title:" not in art.text
    assert art.text.startswith("US-Präsident Donald Trump empfing")


def test_unquoted_yaml_date_is_read(tmp_path):
    p = write(tmp_path / "a.md", "---\ntitle: T\ndate: 2024-02-29\n---\nDer Text des Artikels.\n")
    assert one(p).date == "2024-02-29"


def test_plain_text_title_is_first_line(tmp_path):
    p = write(tmp_path / "a.txt", "\n\nSpringfield approves library budget\n" + EN_BODY + "\n")
    art = one(p)
    assert art.title == "Springfield approves library budget"
    assert art.text == EN_BODY
    assert art.date is None and art.source is None and art.url is None
    assert art.language == "en"


def test_markdown_heading_title_loses_its_hashes(tmp_path):
    p = write(tmp_path / "a.md", "# Musterhausen beschließt Haushalt\n\n" + DE_BODY)
    art = one(p)
    assert art.title == "Musterhausen beschließt Haushalt"
    assert art.text == DE_BODY


def test_json_object(tmp_path):
    rec = {"title": "Airport opens runway", "content": EN_BODY, "date": "2024-02-20T08:00:00+01:00", "source": "Wire",
           "url": "https://example.org/runway", "id": "x1"}
    p = write(tmp_path / "a.json", json.dumps(rec))
    art = one(p)
    assert (art.title, art.text, art.date, art.source, art.url) == (
        "Airport opens runway", EN_BODY, "2024-02-20", "Wire", "https://example.org/runway")
    assert art.source_key == f"{p}#x1"
    assert art.language == "en"


def test_json_list_keys_records_by_id_url_or_position(tmp_path):
    recs = [
        {"title": "A", "text": DE_BODY, "id": "a1"},
        {"title": "B", "body": EN_BODY, "url": "https://example.org/b"},
        {"title": "C", "text": "Ein dritter Artikel über den Hafen."},
    ]
    p = write(tmp_path / "list.json", json.dumps(recs))
    res = load_file(p)
    assert not res.errors
    assert [a.title for a in res.articles] == ["A", "B", "C"]
    assert [a.source_key for a in res.articles] == [f"{p}#a1", f"{p}#https://example.org/b", f"{p}#2"]
    assert [a.language for a in res.articles] == ["de", "en", "de"]


def test_jsonl_records(tmp_path):
    lines = [
        json.dumps({"id": "r1", "title": "Eins", "text": DE_BODY, "date": "12.01.2024", "language": "de"}),
        "",
        json.dumps({"title": "Two", "text": EN_BODY, "source": 42}),
    ]
    p = write(tmp_path / "feed.jsonl", "\n".join(lines) + "\n")
    res = load_file(p)
    assert not res.errors
    a, b = res.articles
    assert (a.source_key, a.title, a.date, a.language) == (f"{p}#r1", "Eins", "2024-01-12", "de")
    assert (b.source_key, b.title, b.source, b.language) == (f"{p}#line3", "Two", "42", "en")


def test_json_record_without_title_uses_first_line_and_warns(tmp_path):
    p = write(tmp_path / "feed.jsonl", json.dumps({"text": "Erste Zeile\nDer Rest des Textes."}) + "\n")
    res = load_file(p)
    assert res.articles[0].title == "Erste Zeile"
    assert any("no title" in w and str(p) in w for w in res.warnings)


def test_html_drops_scripts_styles_and_keeps_visible_text(tmp_path):
    html = """<!doctype html><html><head><title>Hafen &amp; Stadt</title>
    <style>body { color: red; } .geheimstil {}</style>
    <script>var geheimskript = "nicht lesen";</script></head>
    <body><h1>Hafen &amp; Stadt</h1>
    <p>Der Hafen von Nordstadt erweitert sein Terminal.</p><script>trackingcode();</script>
    <noscript>Bitte JavaScript aktivieren</noscript>
    <p>Die Arbeiten beginnen im Fr&uuml;hjahr.<br>Zweite Zeile.</p></body></html>"""
    p = write(tmp_path / "a.html", html)
    art = one(p)
    assert art.title == "Hafen & Stadt"
    assert "Der Hafen von Nordstadt erweitert sein Terminal." in art.text
    assert "Die Arbeiten beginnen im Frühjahr." in art.text
    assert "Zweite Zeile." in art.text
    for hidden in ("geheimstil", "geheimskript", "trackingcode", "color", "JavaScript"):
        assert hidden not in art.text
    assert not art.text.startswith("Hafen & Stadt")  # the heading became the title, not text


def test_html_title_falls_back_to_h1(tmp_path):
    p = write(tmp_path / "a.htm", "<html><body><h1>Nur eine Überschrift</h1><p>Und der Text dazu.</p></body></html>")
    art = one(p)
    assert art.title == "Nur eine Überschrift"
    assert art.text == "Und der Text dazu."


def test_iter_article_files_sorted_skips_hidden_and_unknown(tmp_path):
    write(tmp_path / "b.md", "x")
    write(tmp_path / "a.txt", "x")
    write(tmp_path / "sub" / "c.jsonl", "x")
    write(tmp_path / ".hidden" / "d.md", "x")
    write(tmp_path / ".e.md", "x")
    write(tmp_path / "f.pdf", "x")
    names = [p.relative_to(tmp_path).as_posix() for p in iter_article_files(tmp_path)]
    assert names == ["a.txt", "b.md", "sub/c.jsonl"]


def test_unknown_field_warns_but_loads(tmp_path):
    p = write(tmp_path / "a.md", "---\ntitle: T\nrubrik: Sport\n---\nDer Text.\n")
    res = load_file(p)
    assert res.articles[0].title == "T"
    assert any("rubrik" in w for w in res.warnings)


def test_unsupported_suffix_is_an_article_error(tmp_path):
    p = write(tmp_path / "a.pdf", "x")
    with pytest.raises(ArticleError, match="unsupported file type .pdf"):
        load_file(p)


# ------------------------------------------------------------------ dates
@pytest.mark.parametrize(
    "value",
    [
        "2025-08-18", "2025-08-18T10:00:00Z", "2025-08-18 23:59", "18.08.2025", "18.08.25", "2025/08/18",
        "08/18/2025", "18/08/2025", "20250818", "Mon, 18 Aug 2025 10:00:00 +0000", "18. August 2025",
        "18 Aug 2025", "August 18, 2025", "Aug. 18, 2025", "18. Aug. 2025", dt.date(2025, 8, 18),
        dt.datetime(2025, 8, 18, 22, 30),
    ],
)
def test_parse_date_formats(value):
    assert parse_date(value) == "2025-08-18"


def test_parse_date_german_month_with_umlaut():
    assert parse_date("3. März 2024") == "2024-03-03"
    assert parse_date("1. Dezember 2023") == "2023-12-01"


@pytest.mark.parametrize("value", ["gestern", "32.13.2025", "31. Februar 2024", "2025", "", "Q3 2024"])
def test_parse_date_rejects_what_it_cannot_read(value):
    assert parse_date(value) is None


def test_unreadable_date_is_dropped_with_a_warning_naming_the_field(tmp_path):
    p = write(tmp_path / "a.md", md("T", DE_BODY, date="irgendwann im Sommer"))
    res = load_file(p)
    assert res.articles[0].date is None
    assert any(str(p) in w and "[date]" in w and "irgendwann" in w for w in res.warnings)


# ------------------------------------------------------------------ language
def test_language_detected_when_missing(tmp_path):
    en = one(write(tmp_path / "en.md", md("Budget", EN_BODY)))
    de = one(write(tmp_path / "de.md", md("Haushalt", DE_BODY)))
    assert (en.language, de.language) == ("en", "de")


def test_language_without_evidence_falls_back_to_german(tmp_path):
    art = one(write(tmp_path / "n.md", md("Zahlen", "1234 5678 91011.")))
    assert art.language == "de"


@pytest.mark.parametrize("given,expected", [("EN", "en"), ("de-DE", "de"), ("en_US", "en"), ("English", "en"),
                                            ("German", "de"), ("Deutsch", "de"), ("englisch", "en")])
def test_language_field_is_normalised(tmp_path, given, expected):
    # The field wins over detection: the German body is labelled as given.
    art = one(write(tmp_path / "a.md", md("T", DE_BODY, language=given)))
    assert art.language == expected


def test_language_field_that_names_no_language_falls_back_to_detection(tmp_path):
    res = load_file(write(tmp_path / "a.md", md("T", EN_BODY, language="Klingonisch")))
    assert res.articles[0].language == "en"
    assert any("[language]" in w for w in res.warnings)


# ------------------------------------------------------------------ front matter and encoding edges
@pytest.mark.parametrize("raw,title,text,date", [
    ("---\n---\nTitel hier\nDer Text.\n", "Titel hier", "Der Text.", None),  # empty front matter
    ("---\r\ntitle: T\r\ndate: 2024-01-02\r\n---\r\nDer Text.\r\n", "T", "Der Text.", "2024-01-02"),  # Windows line ends
    ("\ufeff---\ntitle: T\n---\nDer Text.\n", "T", "Der Text.", None),  # UTF-8 BOM
    ("---\ntitle: T\n...\nDer Text.\n", "T", "Der Text.", None),  # YAML document end marker
])
def test_front_matter_variants(tmp_path, raw, title, text, date):
    art = one(write(tmp_path / "a.md", raw))
    assert (art.title, art.text, art.date) == (title, text, date)


def test_utf16_with_bom_is_decoded(tmp_path):
    p = tmp_path / "a.txt"
    p.write_bytes("Äpfel und Birnen\nDer Text über Äpfel.".encode("utf-16"))
    res = load_file(p)
    assert (res.articles[0].title, res.articles[0].text) == ("Äpfel und Birnen", "Der Text über Äpfel.")
    assert any("UTF-16" in w for w in res.warnings)


@pytest.mark.parametrize("raw,match", [
    ("---\ntitle: [a, b]\n---\nDer Text.\n", r"\[title\]: field must be text, got list"),
    ("---\nnur ein Satz\n---\nDer Text.\n", r":2: front matter must be a mapping"),
    ("Nur ein Titel\n", r"\[text\]: article has a title but no text"),
])
def test_unusable_text_files_name_the_problem(tmp_path, raw, match):
    p = write(tmp_path / "a.md", raw)
    with pytest.raises(ArticleError, match=match) as err:
        load_file(p)
    assert str(err.value).startswith(str(p))
