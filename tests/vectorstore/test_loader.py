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


# A news page as sites serve them: cookie banner, navigation, breadcrumbs, share buttons, an inline
# "read also" box, a newsletter form, related links, reader comments and a footer around the article.
NEWS_PAGE_DE = """<!DOCTYPE html>
<html lang="de">
<head>
<meta charset="utf-8">
<title>Windpark Nordheide genehmigt: Bau beginnt im Herbst | Lokalblatt Online</title>
<meta property="og:title" content="Windpark Nordheide genehmigt: Bau beginnt im Herbst">
<meta name="description" content="Der Landkreis hat den Windpark genehmigt.">
<meta property="article:published_time" content="2025-08-18T09:30:00+02:00">
<link rel="stylesheet" href="/static/site.css">
<style>.cookie-banner{position:fixed}</style>
<script>window.dataLayer = [{"page": "artikel"}]; function trackPageview(){}</script>
<script type="application/ld+json">{"@context":"https://schema.org","@type":"NewsArticle","headline":"Windpark Nordheide genehmigt: Bau beginnt im Herbst","datePublished":"2025-08-18T09:30:00+02:00","author":{"@type":"Person","name":"Anna Berger"}}</script>
</head>
<body>
<div id="cookie-banner" class="cookie-banner consent">
  <p>Wir verwenden Cookies, um Ihnen das beste Nutzererlebnis zu bieten. Mit „Alle akzeptieren“ stimmen Sie der Verarbeitung Ihrer Daten durch unsere Partner zu.</p>
  <button>Alle akzeptieren</button> <button>Einstellungen</button> <a href="/datenschutz">Datenschutzerklärung</a>
</div>
<header class="site-header">
  <a class="logo" href="/">Lokalblatt Online</a>
  <nav class="main-nav">
    <ul><li><a href="/politik">Politik</a></li><li><a href="/wirtschaft">Wirtschaft</a></li><li><a href="/sport">Sport</a></li>
    <li><a href="/kultur">Kultur</a></li><li><a href="/abo">Abo abschließen</a></li><li><a href="/login">Anmelden</a></li></ul>
  </nav>
</header>
<nav class="breadcrumb"><a href="/">Startseite</a> › <a href="/region">Region</a> › <a href="/region/nordheide">Nordheide</a></nav>
<main>
<article class="article">
  <header>
    <p class="kicker">Energiewende</p>
    <h1>Windpark Nordheide genehmigt: Bau beginnt im Herbst</h1>
    <p class="byline">Von Anna Berger · <time datetime="2025-08-18T09:30:00+02:00">18.08.2025, 09:30 Uhr</time></p>
    <div class="share"><a href="#">Auf Facebook teilen</a> <a href="#">Per WhatsApp teilen</a> <a href="#">Link kopieren</a></div>
  </header>
  <p class="lead"><strong>Nach drei Jahren Planung hat der Landkreis den Windpark Nordheide mit zwölf Windrädern genehmigt. Die Anlagen sollen rund 40.000 Haushalte mit Strom versorgen.</strong></p>
  <ul class="summary"><li>Zwölf Windräder mit je 6 Megawatt Leistung</li><li>Baubeginn im Oktober 2025</li><li>Strom für rund 40.000 Haushalte</li></ul>
  <p>Der Kreistag stimmte am Montagabend mit 31 zu 12 Stimmen für das Vorhaben. Landrätin Petra Vogt sprach von einem „wichtigen Schritt für die Region“. Die Betreibergesellschaft will noch im Oktober mit dem Bau der Fundamente beginnen.</p>
  <figure><img src="/img/windpark.jpg" alt="Windräder"><figcaption>Windräder bei Sonnenuntergang (Symbolbild). Foto: dpa</figcaption></figure>
  <p>Gegen das Projekt hatte eine Bürgerinitiative mehr als 2.000 Unterschriften gesammelt. Sie befürchtet Lärm und einen Wertverlust der Grundstücke in den angrenzenden Dörfern. Der Landkreis verweist auf ein Gutachten, nach dem die Grenzwerte an allen Wohnhäusern eingehalten werden.</p>
  <aside class="related-inline"><h3>Lesen Sie auch</h3><ul><li><a href="/a/1">Solarpark am Stadtrand eröffnet</a></li><li><a href="/a/2">Stadtwerke erhöhen die Strompreise</a></li></ul></aside>
  <h2>Beteiligung der Gemeinden</h2>
  <p>Die drei Standortgemeinden sollen jährlich zusammen etwa 180.000 Euro aus dem Betrieb erhalten. Bürgerinnen und Bürger können sich außerdem über eine Genossenschaft an dem Windpark beteiligen; die Mindesteinlage liegt bei 500 Euro.</p>
  <p>Die Inbetriebnahme der ersten Anlagen ist für Ende 2026 geplant.</p>
  <div class="newsletter-box"><h3>Newsletter</h3><p>Jeden Morgen die wichtigsten Nachrichten aus der Region in Ihrem Postfach.</p><form><input type="email" placeholder="E-Mail-Adresse"><button>Jetzt abonnieren</button></form></div>
</article>
<section class="related">
  <h2>Mehr zum Thema</h2>
  <ul>
    <li><a href="/a/3">Streit um Abstandsregeln für Windräder geht weiter</a></li>
    <li><a href="/a/4">Wie viel Strom liefert die Nordsee?</a></li>
    <li><a href="/a/5">Kommentar: Die Energiewende braucht mehr Tempo</a></li>
  </ul>
</section>
<section id="comments" class="comments">
  <h2>Kommentare (3)</h2>
  <div class="comment"><p class="comment-author">heidebauer72</p><p>Endlich geht es voran! Wurde auch Zeit nach so vielen Jahren.</p></div>
  <div class="comment"><p class="comment-author">Nachbar_K</p><p>Und wer bezahlt den Wertverlust meines Hauses? Niemand fragt uns Anwohner.</p></div>
  <div class="comment"><p class="comment-author">E. Schulz</p><p>Die Genossenschaft ist eine gute Idee, ich mache mit.</p></div>
  <form class="comment-form"><textarea>Ihr Kommentar</textarea><button>Kommentar absenden</button></form>
</section>
</main>
<footer class="site-footer">
  <ul><li><a href="/impressum">Impressum</a></li><li><a href="/datenschutz">Datenschutz</a></li><li><a href="/agb">AGB</a></li><li><a href="/kontakt">Kontakt</a></li></ul>
  <p>© 2025 Lokalblatt Verlag GmbH. Alle Rechte vorbehalten.</p>
</footer>
<script>trackPageview();</script>
</body>
</html>
"""

NEWS_PAGE_EN = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Springfield approves library budget - The Springfield Courier</title>
<meta property="og:title" content="Springfield approves library budget">
<script>var ads = {slot: "top"};</script>
</head>
<body>
<div class="cookie-consent" role="dialog"><p>We use cookies and similar technologies to personalise content and ads. By clicking "Accept all" you agree to our use of cookies.</p><button>Accept all</button><button>Manage preferences</button></div>
<nav class="navbar"><a href="/">Home</a> <a href="/news">News</a> <a href="/sports">Sports</a> <a href="/opinion">Opinion</a> <a href="/subscribe">Subscribe</a> <a href="/signin">Sign in</a></nav>
<div class="ad-slot">Advertisement</div>
<main>
<article>
<h1>Springfield approves library budget</h1>
<div class="meta">By Tom Reed | Published August 18, 2025 | 4 min read</div>
<p>The city council of Springfield approved a new budget for public libraries on Tuesday, ending a dispute that had lasted more than a year. The plan passed by seven votes to two.</p>
<p>Mayor Linda Park said the money would pay for longer opening hours on weekends and for 12,000 new books. The central library will also hire four additional staff members.</p>
<div class="related-links"><strong>Related:</strong> <a href="/x">Council delays vote on bus routes</a> · <a href="/y">School board elects new chair</a></div>
<p>Critics argued that the plan ignores the cost of repairing old school buildings. Council member Ray Ortiz said the repairs would cost at least $3 million and could not wait much longer.</p>
<p>A final vote on the school repairs is expected next month.</p>
<div class="share-tools">Share this article: Facebook Twitter Email</div>
</article>
<aside class="trending"><h2>Trending now</h2><ol><li><a href="/t1">Heat wave to last through weekend</a></li><li><a href="/t2">Local bakery wins national prize</a></li><li><a href="/t3">Five things to do this weekend</a></li></ol></aside>
<section class="comments"><h2>Join the conversation</h2><div class="comment"><b>reader123</b><p>About time! Our branch has been closed on Sundays for years.</p></div><div class="comment"><b>taxpayer_joe</b><p>Another waste of money while the schools fall apart.</p></div></section>
</main>
<footer><p>Copyright 2025 The Springfield Courier. All rights reserved.</p><a href="/privacy">Privacy Policy</a> <a href="/terms">Terms of Use</a> <a href="/contact">Contact us</a></footer>
</body>
</html>
"""


@pytest.mark.parametrize("page,language,title,kept,dropped", [
    (NEWS_PAGE_DE, "de", "Windpark Nordheide genehmigt: Bau beginnt im Herbst",
     ["Nach drei Jahren Planung hat der Landkreis den Windpark Nordheide mit zwölf Windrädern genehmigt.",
      "Zwölf Windräder mit je 6 Megawatt Leistung", "Der Kreistag stimmte am Montagabend mit 31 zu 12 Stimmen",
      "Gegen das Projekt hatte eine Bürgerinitiative mehr als 2.000 Unterschriften gesammelt.",
      "Beteiligung der Gemeinden", "etwa 180.000 Euro", "Die Inbetriebnahme der ersten Anlagen ist für Ende 2026 geplant."],
     ["Cookies", "Alle akzeptieren", "Abo abschließen", "Startseite", "Auf Facebook teilen", "Lesen Sie auch",
      "Solarpark am Stadtrand", "Newsletter", "Jetzt abonnieren", "Mehr zum Thema", "Streit um Abstandsregeln",
      "Kommentare", "heidebauer72", "Endlich geht es voran", "Wertverlust meines Hauses", "Impressum",
      "Alle Rechte vorbehalten", "trackPageview", "dataLayer", "NewsArticle"]),
    (NEWS_PAGE_EN, "en", "Springfield approves library budget",
     ["The city council of Springfield approved a new budget for public libraries on Tuesday",
      "Mayor Linda Park said the money would pay for longer opening hours", "Critics argued that the plan ignores",
      "A final vote on the school repairs is expected next month."],
     ["cookies", "Accept all", "Subscribe", "Sign in", "Advertisement", "Council delays vote", "Share this article",
      "Trending now", "Heat wave", "Join the conversation", "About time", "waste of money", "All rights reserved",
      "Privacy Policy", "ads = "]),
])
def test_html_news_page_keeps_the_article_and_drops_the_boilerplate(tmp_path, page, language, title, kept, dropped):
    art = one(write(tmp_path / "page.html", page))
    assert art.title == title  # og:title, without the site name of <title>
    for words in kept:
        assert words in art.text, words
    for words in dropped:
        assert words not in art.text, words
    assert title not in art.text  # the headline is the title, not a paragraph
    assert art.language == language


def test_html_keeps_short_lists_and_tables(tmp_path):
    html = """<html><head><title>Bahnstreik ab Mittwoch</title></head><body>
    <p>Die Gewerkschaft hat einen Streik angekündigt.</p><ul><li>Beginn: Mittwoch, 2 Uhr</li><li>Dauer: 48 Stunden</li></ul>
    <table><tr><th>Linie</th><th>Takt</th></tr><tr><td>S1</td><td>60 Minuten</td></tr></table>
    <p>Die Verhandlungen waren am Freitag abgebrochen worden.</p></body></html>"""
    art = one(write(tmp_path / "a.html", html))
    for words in ("Streik angekündigt", "Dauer: 48 Stunden", "60 Minuten", "am Freitag abgebrochen"):
        assert words in art.text


def test_html_without_any_title_uses_the_first_line_and_warns(tmp_path):
    p = write(tmp_path / "a.html", "<html><body><p>Brücke gesperrt</p><p>Die Rheinbrücke ist wegen Schäden gesperrt.</p></body></html>")
    res = load_file(p)
    art = res.articles[0]
    assert (art.title, art.text) == ("Brücke gesperrt", "Die Rheinbrücke ist wegen Schäden gesperrt.")
    assert any(str(p) in w and "first line" in w for w in res.warnings)


@pytest.mark.parametrize("html", [
    "<html><head><script>var x = 1;</script></head><body></body></html>",
    "<html><body><!-- nur ein Kommentar --></body></html>",
])
def test_html_without_text_is_an_article_error_naming_the_file(tmp_path, html):
    p = write(tmp_path / "leer.html", html)
    with pytest.raises(ArticleError, match="no article text") as err:
        load_file(p)
    assert str(err.value).startswith(str(p))


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


@pytest.mark.parametrize("value,expected", [
    ("03/04/2025", "2025-04-03"),  # day first: 3 April, as written in Germany and Britain
    ("03.04.2025", "2025-04-03"),
    ("3.4.2025", "2025-04-03"),
    ("01/02/25", "2025-02-01"),
    ("12/11/2024", "2024-11-12"),
    ("08/18/2025", "2025-08-18"),  # month first only where day first is impossible
    ("Montag, 18. August 2025", "2025-08-18"),
    ("Dienstag, 3. Juni 2025, 14:05 Uhr", "2025-06-03"),
    ("5. Jänner 2025", "2025-01-05"),
    ("3. Sept. 2025", "2025-09-03"),
    ("Sept. 3, 2025", "2025-09-03"),
    ("2025-08-18T23:30:00-05:00", "2025-08-18"),  # the date as written, not moved to UTC
    ("Mon, 18 Aug 2025 23:30:00 -0500", "2025-08-18"),
    ("2025-08-18T10:00:00.123+02:00", "2025-08-18"),
])
def test_parse_date_day_first_and_time_zones(value, expected):
    assert parse_date(value) == expected


@pytest.mark.parametrize("value", [
    "gestern", "32.13.2025", "31. Februar 2024", "2025", "", "Q3 2024",
    "heute", "yesterday", "vor 2 Tagen", "letzten Montag",  # relative: would depend on the day of ingestion
    "August 2025", "18. August", "29.02.2023", "2024-02-30", "1755500000", "   ", None,
])
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
