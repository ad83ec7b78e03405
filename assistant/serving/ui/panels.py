"""The articles tab, the ingest report and the page header (``render.py`` has the conversation and its
sources): the same autoescaping templates, for the panels around the chat."""

from __future__ import annotations

from vectorstore.types import IngestReport

from .render import plural, render_template, safe_url


def articles_html(stats: dict | None, articles: list[dict], error: str | None = None) -> str:
    """The articles tab: counts, then every indexed article with its date, source and language."""
    stats = stats or {}
    rows = [
        {
            "date": a.get("date") or "",
            "title": a.get("title") or "",
            "link": safe_url(a.get("url")),
            "source": a.get("source") or "",
            "language": (a.get("language") or "").upper(),
            "chunks": int(a.get("chunks") or 0),
        }
        for a in articles
    ]
    return render_template(
        "articles.html",
        error=error or "",
        n_articles=int(stats.get("articles") or 0),
        n_chunks=int(stats.get("chunks") or 0),
        n_sources=len({a.get("source") for a in articles if a.get("source")}),
        rows=rows,
    )


def ingest_rows(report: IngestReport) -> list[tuple[str, str, str]]:
    """(source key, status, detail) for every file or record the ingest touched."""
    rows: list[tuple[str, str, str]] = []
    rows += [(k, "added", "") for k in report.added]
    rows += [(k, "updated", "the article changed; its passages were replaced") for k in report.replaced]
    rows += [(k, "unchanged", "already indexed") for k in report.unchanged]
    rows += [(k, "duplicate", f"same article as {other}") for k, other in report.duplicates]
    rows += [(k, "removed", "no longer in the folder") for k in report.removed]
    rows += [(k, "failed", _reason(k, reason)) for k, reason in report.failed]
    return rows


def _reason(path: str, reason: str) -> str:
    """The loader's reason without the file path it starts with (the row shows the file already)."""
    if not reason.startswith(path):
        return reason
    rest = reason[len(path):]
    if rest.startswith(": "):
        return rest[2:]
    if rest.startswith(":"):  # "path:LINE[ [field]]: reason"
        return "line " + rest[1:]
    return rest.strip()


def ingest_report_html(
    report: IngestReport | None, *, names: dict[str, str] | None = None, error: str | None = None, note: str | None = None
) -> str:
    """The result of one ingest: a summary line and a row per file (added / unchanged / failed with
    reason); or one line: an ``error`` (a refusal) or a ``note`` (an article removed)."""
    if report is None and not error and not note:
        return ""
    names = names or {}

    def display(key: str) -> str:
        path, sep, rec = key.partition("#")
        return names.get(path, path) + (f" (record {rec})" if sep else "")

    return render_template(
        "ingest_report.html",
        error=error or "",
        note=note or "",
        report=report,
        rows=[(display(key), status, detail) for key, status, detail in ingest_rows(report)] if report else [],
    )


def user_html(name: str, role: str) -> str:
    """Who is signed in, their role, and the sign-out link (shown when sign-in is on)."""
    return render_template("user.html", user=name, role=role)


def info_html(info: dict) -> str:
    """Model and index facts from ``Assistant.describe()`` as a definition list."""
    rows = []
    for key, value in info.items():
        if value in (None, "", {}, []):
            continue
        if isinstance(value, dict):
            value = ", ".join(f"{k}={v}" for k, v in value.items() if v not in (None, ""))
        rows.append((key.replace("_", " "), value))
    return render_template("info.html", rows=rows)


def header_html(info: dict) -> str:
    """The page header: title, and badges naming the model, the embeddings and the index size."""
    index = info.get("index") if isinstance(info.get("index"), dict) else {}
    badges = [
        ("Model", f"{info.get('llm_model', '?')} ({info.get('llm_backend', '?')})"),
        ("Embeddings", info.get("embedding_model", "?")),
        ("Index", plural(index["articles"], "article") if "articles" in index else index.get("error", "?")),
    ]
    return render_template("header.html", badges=badges)
