"""Reading article files.

Accepted formats (by extension):

- ``.md``, ``.markdown``, ``.txt`` with YAML front matter between ``---`` lines (fields: title, date,
  source, url, language). Without front matter, the title is the first non-empty line (a leading
  ``#`` is stripped) and the text is the rest.
- ``.json``: one record object or a list of them; ``.jsonl``: one record per line. A record has
  ``text`` (or ``content``/``body``) and optional ``title``, ``date``, ``url``, ``source``,
  ``language``, ``id``.
- ``.html``, ``.htm``: the article's main text as trafilatura finds it (navigation, cookie banners,
  related links, comments and footers are dropped); the title from the page's metadata (``<title>``,
  ``og:title``) or its first heading, else the first line of the text.

Dates are read by dateparser, day first ("03/04/2025" is 3 April), in German and English; a date
must name day, month and year, and relative dates ("gestern") are refused, so a stored date never
depends on the day of ingestion.

Text is decoded as UTF-8 (with or without BOM), UTF-16 (with BOM), else as Windows-1252 (a
superset of Latin-1's printable range). Problems with one file or record raise or report an ``ArticleError`` that names
the file, line and field; the other files and records are still read.
"""

from __future__ import annotations

import codecs
import datetime as dt
import functools
import json
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml

from .errors import ArticleError

from .language import detect_language
from .types import Article

TEXT_SUFFIXES = {".md", ".markdown", ".txt"}
JSON_SUFFIXES = {".json", ".jsonl"}
HTML_SUFFIXES = {".html", ".htm"}
SUFFIXES = TEXT_SUFFIXES | JSON_SUFFIXES | HTML_SUFFIXES


@dataclass
class LoadResult:
    """The articles read from one file, the per-record errors, and warnings (e.g. a dropped date)."""

    articles: list[Article]
    errors: list[ArticleError]
    warnings: list[str]


def iter_article_files(path: Path) -> Iterator[Path]:
    """The article files at ``path`` (a file, or a folder searched recursively), in sorted order.
    Hidden files and folders are skipped."""
    if path.is_file():
        yield path
        return
    for p in sorted(path.rglob("*")):
        rel = p.relative_to(path)
        if any(part.startswith(".") for part in rel.parts):
            continue
        if p.is_file() and p.suffix.lower() in SUFFIXES:
            yield p


def load_file(path: Path, max_bytes: int = 5_000_000) -> LoadResult:
    """Parse one article file. Raises ``ArticleError`` when the whole file is unusable."""
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise ArticleError(path, f"unsupported file type {suffix or '(none)'}; use one of {', '.join(sorted(SUFFIXES))}")
    try:
        size = path.stat().st_size
        # A JSONL export holds many articles: the limit applies to each record (line) instead.
        if size > max_bytes and suffix != ".jsonl":
            raise ArticleError(
                path, f"file is too large ({size / 1e6:.3g} MB > {max_bytes / 1e6:.3g} MB; raise chunking.max_article_mb)"
            )
        raw = path.read_bytes()
    except OSError as e:
        raise ArticleError(path, f"cannot read: {e.strerror or e}") from e
    text, encoding_note = decode(raw, path)
    if not text.strip():
        raise ArticleError(path, "file is empty")
    warnings = [f"{path}: decoded as {encoding_note}"] if encoding_note else []
    key = str(path)
    if suffix in TEXT_SUFFIXES:
        art, w = _parse_text(text, path, key)
        return LoadResult([art], [], warnings + w)
    if suffix in HTML_SUFFIXES:
        art, w = _parse_html(text, path, key)
        return LoadResult([art], [], warnings + w)
    res = _parse_json(text, path, suffix == ".jsonl", max_bytes)
    res.warnings[:0] = warnings
    return res


def decode(raw: bytes, path: Path) -> tuple[str, str | None]:
    """Decode bytes to text; returns (text, note) where note names a non-UTF-8 encoding used."""
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):  # Windows editors' "Unicode"
        try:
            return raw.decode("utf-16"), "UTF-16"
        except UnicodeDecodeError as e:
            raise ArticleError(path, f"starts like UTF-16 text but does not decode: {e.reason}") from e
    if b"\x00" in raw[:8192]:
        raise ArticleError(path, "looks like a binary file (NUL bytes), not an article")
    try:
        return raw.decode("utf-8-sig"), None
    except UnicodeDecodeError:
        pass
    try:
        text = raw.decode("cp1252")
        note = "Windows-1252"
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
        note = "Latin-1"
    # Control characters other than whitespace mean this is not text in any 8-bit encoding.
    bad = sum(1 for ch in text[:8192] if unicodedata.category(ch) == "Cc" and ch not in "\r\n\t\f")
    if bad > 8:
        raise ArticleError(path, "not UTF-8 and not readable as Windows-1252 text")
    return text, note


_FRONT = re.compile(r"\A---[ \t]*\n(?:(.*?)\n)?(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.DOTALL)  # after \r\n -> \n
_FIELDS = ("title", "date", "source", "url", "language")


def _parse_text(text: str, path: Path, key: str) -> tuple[Article, list[str]]:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    meta: dict = {}
    m = _FRONT.match(text)
    if m:
        try:
            loaded = yaml.safe_load(m.group(1) or "")
        except yaml.YAMLError as e:
            line = getattr(getattr(e, "problem_mark", None), "line", None)
            raise ArticleError(path, f"broken front matter: {getattr(e, 'problem', e)}", line=(line + 2) if line is not None else None) from e
        if loaded is not None and not isinstance(loaded, dict):
            raise ArticleError(path, "front matter must be a mapping of fields (title: …, date: …)", line=2)
        meta = loaded or {}
        body = text[m.end():]
    elif text.startswith("---\n"):
        raise ArticleError(path, "front matter starts with '---' but has no closing '---' line", line=1)
    else:
        body = text
    unknown = sorted(set(meta) - set(_FIELDS) - {"id", "tags", "author", "authors"})
    warnings = [f"{path}: ignored front-matter field(s) {', '.join(unknown)}"] if unknown else []
    if not meta.get("title"):
        first, _, rest = body.strip("\n").partition("\n")
        title = first.lstrip("#").strip()
        # Keep offsets honest: the body keeps its text, the title line is removed from it.
        body = rest
        if not meta:
            pass
        else:
            warnings.append(f"{path}: no title field; used the first line")
        meta["title"] = title
    return _make_article(meta, body, path, key, None, warnings), warnings


# trafilatura's balance between keeping text and dropping boilerplate. Measured on news pages with
# navigation, cookie banners, related links, comments and footers: favor_recall kept every article
# paragraph plus short bullet lists that the default and favor_precision dropped, at the price of
# one paywall teaser line.
_HTML_OPTIONS = {"favor_recall": True, "include_comments": False, "include_tables": True, "with_metadata": True}


@functools.cache
def _trafilatura_config():
    from trafilatura.settings import use_config

    config = use_config()
    # A short notice is an article too: below MIN_EXTRACTED_SIZE (250 characters) trafilatura would
    # switch to its baseline extractor, which keeps <noscript> text and the headline.
    config.set("DEFAULT", "MIN_EXTRACTED_SIZE", "1")
    return config


def _parse_html(text: str, path: Path, key: str) -> tuple[Article, list[str]]:
    import trafilatura

    try:
        doc = trafilatura.bare_extraction(text, config=_trafilatura_config(), **_HTML_OPTIONS)
    except Exception as e:  # lxml and trafilatura raise many types; one bad page must not stop the batch
        raise ArticleError(path, f"cannot parse HTML: {type(e).__name__}: {e}") from e
    lines = [line.strip() for line in (doc.text or "").splitlines()] if doc else []
    lines = [line for line in lines if line]
    if not lines:
        raise ArticleError(path, "no article text found in the HTML (only markup, scripts or navigation)")
    title = " ".join((doc.title or "").split())
    warnings: list[str] = []
    if not title:
        title = lines.pop(0)
        warnings.append(f"{path}: no <title> or <h1>; used the first line")
    elif title in lines[:3]:  # the headline inside the article (after a kicker) became the title, not text
        lines.remove(title)
    return _make_article({"title": title}, "\n".join(lines), path, key, None, warnings), warnings


def _parse_json(text: str, path: Path, lines: bool, max_bytes: int | None = None) -> LoadResult:
    arts: list[Article] = []
    errors: list[ArticleError] = []
    warnings: list[str] = []
    records: list[tuple[int | None, object]] = []
    first_seen: dict[str, int | None] = {}
    if lines:
        for n, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            if max_bytes is not None and len(line) * 4 > max_bytes and len(line.encode("utf-8")) > max_bytes:
                errors.append(ArticleError(path, f"record is too large ({len(line.encode('utf-8')) / 1e6:.3g} MB > "
                                           f"{max_bytes / 1e6:.3g} MB; raise chunking.max_article_mb)", line=n))
                continue
            try:
                records.append((n, json.loads(line)))
            except json.JSONDecodeError as e:
                errors.append(ArticleError(path, f"invalid JSON: {e.msg} at column {e.colno}", line=n))
    else:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise ArticleError(path, f"invalid JSON: {e.msg}", line=e.lineno) from e
        items = data if isinstance(data, list) else [data]
        records = [(None, r) for r in items]
    for i, (line, rec) in enumerate(records):
        where = line if lines else None
        if not isinstance(rec, dict):
            errors.append(ArticleError(path, "record is not a JSON object", line=where, field=None if lines else f"[{i}]"))
            continue
        body = rec.get("text", rec.get("content", rec.get("body")))
        if not isinstance(body, str) or not body.strip():
            errors.append(ArticleError(path, "record has no text", line=where, field="text" if lines else f"[{i}].text"))
            continue
        ident = rec.get("id") or rec.get("url") or (f"line{line}" if lines else f"{i}")
        key = f"{path}#{ident}"
        if key in first_seen:
            # Two records under one key would overwrite each other's source; the first one wins.
            earlier = f"line {first_seen[key]}" if lines else f"record [{first_seen[key]}]"
            errors.append(ArticleError(path, f"duplicate id {str(ident)!r} (also used by {earlier}); record skipped",
                                       line=where, field="id" if lines else f"[{i}].id"))
            continue
        first_seen[key] = line if lines else i
        meta = {k: rec.get(k) for k in _FIELDS if rec.get(k) is not None}
        if not meta.get("title"):
            first = body.strip().split("\n", 1)[0]
            meta["title"] = first[:120].strip()
            warnings.append(f"{path}{':' + str(line) if line else ''}: record has no title; used its first line")
        try:
            arts.append(_make_article(meta, body, path, key, where, warnings))
        except ArticleError as e:
            errors.append(e)
    if not arts and not errors:
        raise ArticleError(path, "no records")
    return LoadResult(arts, errors, warnings)


def _make_article(meta: dict, body: str, path: Path, key: str, line: int | None, warnings: list[str]) -> Article:
    for f in ("title", "source", "url", "language"):
        v = meta.get(f)
        if v is not None and not isinstance(v, str):
            if isinstance(v, (int, float)):
                meta[f] = str(v)
            else:
                raise ArticleError(path, f"field must be text, got {type(v).__name__}", line=line, field=f)
    body = body.strip("\n")
    if not body.strip():
        raise ArticleError(path, "article has a title but no text", line=line, field="text")
    date = None
    if meta.get("date") not in (None, ""):
        date = parse_date(meta["date"])
        if date is None:
            warnings.append(f"{path}{':' + str(line) if line else ''} [date]: cannot read date {str(meta['date'])!r}; stored without date")
    lang = _language_code(meta.get("language"))
    if meta.get("language") and lang is None:
        warnings.append(f"{path}{':' + str(line) if line else ''} [language]: {meta['language']!r} is not a language code; detected it from the text")
    lang = lang or detect_language(body[:4000])
    title = " ".join(str(meta["title"]).split())
    return Article(
        source_key=key,
        title=title,
        text=body,
        date=date,
        source=(meta.get("source") or None),
        url=(meta.get("url") or None),
        language=lang,
    )


_LANGUAGE_NAMES = {"german": "de", "deutsch": "de", "english": "en", "englisch": "en"}


def _language_code(value: str | None) -> str | None:
    """'de', 'EN', 'de-DE', 'en_US', 'German', 'Englisch' -> two-letter code; None if it is none of these."""
    v = (value or "").strip().lower()
    if v in _LANGUAGE_NAMES:
        return _LANGUAGE_NAMES[v]
    # Not simply cut to two letters: 'German' would become 'ge' and escape every language filter.
    return v[:2] if re.fullmatch(r"[a-z]{2}(?:[-_][a-z0-9]{2,8})*", v) else None


_DATE_SETTINGS = {
    "DATE_ORDER": "DMY",
    "PREFER_DAY_OF_MONTH": "first",
    "REQUIRE_PARTS": ["day", "month", "year"],
    # Absolute dates only: "gestern" or "vor 2 Tagen" would make the stored date depend on the day of
    # ingestion; dateparser's timestamp parser would read "20250818" as seconds since 1970.
    "PARSERS": ["absolute-time"],
}


@functools.cache
def _dates():
    """dateparser's parser for German and English. Cheap to build (its language data is cached by
    dateparser itself), so two threads building it at once cost nothing."""
    from dateparser.date import DateDataParser

    return DateDataParser(languages=["de", "en"], settings=_DATE_SETTINGS)


def parse_date(value: object) -> str | None:
    """Normalise a date to ``YYYY-MM-DD``; None if it cannot be read or names no single day.

    Day first where the order is open; the date is the one written, not converted to another time
    zone.

    >>> parse_date("03/04/2025"), parse_date("2025-08-18T10:00:00Z"), parse_date("18. August 2025")
    ('2025-04-03', '2025-08-18', '2025-08-18')
    >>> parse_date("gestern"), parse_date("31. Februar 2024"), parse_date("Q3 2024")
    (None, None, None)
    """
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    s = str(value).strip()
    if not s:
        return None
    try:  # ISO 8601, the common case: 2025-08-18, 2025-08-18T10:00:00Z, 20250818
        return dt.datetime.fromisoformat(s).date().isoformat()
    except ValueError:
        pass
    found = _dates().get_date_data(s).date_obj
    return found.date().isoformat() if found else None
