"""Escaping is the templates' default, not something each value must remember: every field of our
types that reaches the page carries script, an attribute break-out and a javascript: link, and none
of them survives as markup. Also: any verdict but "supported" is shown as flagged."""

from __future__ import annotations

import pytest

from assistant.types import Answer, Citation, SentenceCheck
from assistant.serving.ui import (
    Exchange,
    answer_html,
    articles_html,
    conversation_html,
    header_html,
    info_html,
    ingest_report_html,
    sources_html,
)
from assistant.serving.ui.render import TEMPLATES
from vectorstore.types import Chunk, Hit, IngestReport

from .test_render import Tags

SCRIPT = "<script>alert(1)</script>"
BREAKOUT = '" onmouseover="x'
EVIL = f"{SCRIPT} {BREAKOUT}"
JS_URL = "javascript:alert(1)"


def evil_hit(n: int, url: str = JS_URL) -> Hit:
    text = f"Passage {n} {EVIL}\nsecond line {EVIL}."
    meta = {"title": f"Title {EVIL}", "date": EVIL, "source": f"Source {EVIL}", "url": url, "language": EVIL}
    return Hit(chunk=Chunk(id=f"chunk{n}{BREAKOUT}", article_id="a", ordinal=n, text=text, start=0, end=len(text), meta=meta), score=1.0)


def evil_citation(h: Hit, number: int) -> Citation:
    start = h.text.index(SCRIPT)
    return Citation(
        number=number, chunk_id=h.chunk.id, article_id="a", title=h.title, date=h.date, source=h.source, url=h.url,
        passage=h.text, start=0, end=len(h.text), support_start=start, support_end=start + len(SCRIPT),
    )


def evil_answer(**kw) -> Answer:
    hits = [evil_hit(0), evil_hit(1, url=f"https://example.org/{BREAKOUT}")]
    cites = [evil_citation(h, i) for i, h in enumerate(hits, 1)]
    base = dict(
        question=f"Question {EVIL}?", text=f"First {EVIL} [1]. Second {EVIL} [2].", language=EVIL, citations=cites,
        sentences=[SentenceCheck(f"First {EVIL}.", (1,), "supported"), SentenceCheck(f"Second {EVIL}.", (2,), "unsupported", missing=(EVIL,))],
        grounded=True, abstained=False, passages=hits, standalone_question=f"Standalone {EVIL}", model=f"model {EVIL}",
        prompt_id=EVIL, notes=[f"note {EVIL}"], timings={"total_s": 1.0},
    )
    base.update(kw)
    return Answer(**base)


def every_page() -> dict[str, str]:
    answer = evil_answer()
    done = Exchange(question=f"Question {EVIL}?", status="done", answer=answer)
    articles = [{"title": f"Title {EVIL}", "date": EVIL, "source": f"Source {EVIL}", "url": JS_URL, "language": EVIL, "chunks": 1},
                {"title": EVIL, "url": f"https://example.org/{BREAKOUT}", "chunks": 2}]
    report = IngestReport(added=[f"/up/{EVIL}.md"], duplicates=[(f"/up/{EVIL}", f"/up/{EVIL}.md")],
                          failed=[(f"/up/{EVIL}.json", f"/up/{EVIL}.json: invalid JSON {EVIL}")], warnings=[f"warning {EVIL}"])
    info = {"llm_model": EVIL, "llm_backend": EVIL, "embedding_model": EVIL, "index": {"error": EVIL}, EVIL: EVIL}
    return {
        "answer": answer_html(answer, 1),
        "abstention": answer_html(evil_answer(abstained=True, grounded=False, citations=[], sentences=[]), 1),
        "llm error": answer_html(evil_answer(error=f"LLM down {EVIL}", citations=[], sentences=[]), 1),
        "conversation": conversation_html([
            done,
            Exchange(question=EVIL, status="writing", draft=f"Draft {EVIL} [1]", passages=answer.passages),
            Exchange(question=EVIL, status="stopped", draft=f"Draft {EVIL}"),
            Exchange(question=EVIL, status="failed", error=f"failed {EVIL}", error_kind=EVIL),
        ]),
        "sources": sources_html(done),
        "articles": articles_html({"articles": 2, "chunks": 3}, articles),
        "articles error": articles_html(None, [], error=EVIL),
        "ingest report": ingest_report_html(report, names={f"/up/{EVIL}.md": f"name {EVIL}"}),
        "ingest error": ingest_report_html(None, error=EVIL),
        "info": info_html(info),
        "header": header_html(info),
    }


@pytest.mark.parametrize("name", list(every_page()))
def test_no_outside_value_becomes_markup(name):
    html = every_page()[name]
    assert SCRIPT not in html and BREAKOUT not in html  # neither appears unescaped
    page = Tags(html)
    assert "script" not in {tag for tag, _ in page.tags}
    assert not [attr for _, attrs in page.tags for attr in attrs if attr.startswith("on")]
    assert not [attrs["href"] for _, attrs in page.tags if (attrs.get("href") or "").strip().lower().startswith("javascript:")]
    assert SCRIPT in "".join(page.text) or any(SCRIPT in v for _, attrs in page.tags for v in attrs.values() if v)  # kept, as text


def test_a_javascript_url_is_shown_as_text_never_as_a_link():
    html = articles_html(None, [{"title": "T", "url": JS_URL, "chunks": 1}]) + sources_html(Exchange("q", status="writing", passages=[evil_hit(0)]))
    hrefs = [attrs["href"] for tag, attrs in Tags(html).tags if tag == "a"]
    assert hrefs == [] and JS_URL in html


def test_every_template_autoescapes():
    names = TEMPLATES.list_templates()
    assert "answer.html" in names and all(TEMPLATES.autoescape(name) for name in names)


@pytest.mark.parametrize("verdict", ["unsupported", "contradicted", "not_found", "uncited"])
def test_any_verdict_but_supported_is_flagged(verdict):
    a = evil_answer(sentences=[SentenceCheck(f"First {EVIL}.", (1,), "supported"), SentenceCheck(f"Second {EVIL}.", (2,), verdict)])
    page = Tags(answer_html(a, 1))
    flagged = [attrs for _, attrs in page.tags if attrs.get("data-verdict")]
    assert [f["data-verdict"] for f in flagged] == [verdict]
    assert verdict.replace("_", " ") in page.text
    assert any("1 sentence is not supported" in t for t in page.text)
