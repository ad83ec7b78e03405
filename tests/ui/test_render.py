"""The HTML the UI builds: escaping, citation markers, support highlights, verdicts, abstentions,
errors and ingest reports. No server, no browser."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from assistant.types import Answer, Citation, SentenceCheck
from assistant.serving.ui import (
    Exchange,
    align_sentences,
    answer_html,
    articles_html,
    conversation_html,
    ingest_report_html,
    passage_html,
    safe_url,
    sources_html,
)
from vectorstore.types import Chunk, Hit, IngestReport

EVIL = "<script>alert('x')</script><img src=x onerror=alert(1)>"


class Tags(HTMLParser):
    """Every start tag and attribute of a piece of HTML, as a browser's parser sees them."""

    def __init__(self, html: str):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)

    def names(self) -> set[str]:
        return {t for t, _ in self.tags}

    def attributes(self) -> set[str]:
        return {a for _, attrs in self.tags for a in attrs}


def hit(text: str, n: int = 0, **meta) -> Hit:
    m = {"title": "Titel", "date": "2025-08-18", "source": "Agentur", "url": "https://example.org/a", "language": "de"}
    m.update(meta)
    return Hit(chunk=Chunk(id=f"c{n}", article_id="a1", ordinal=n, text=text, start=0, end=len(text), meta=m), score=1.0)


def citation(h: Hit, number: int, support: str | None = None) -> Citation:
    s = h.text.find(support) if support else -1
    return Citation(
        number=number, chunk_id=h.chunk.id, article_id=h.chunk.article_id, title=h.title, date=h.date, source=h.source,
        url=h.url, passage=h.text, start=h.chunk.start, end=h.chunk.end,
        support_start=s if s >= 0 else None, support_end=s + len(support) if s >= 0 else None,
    )


def answer(text: str, sentences: list[SentenceCheck], citations: list[Citation], passages: list[Hit], **kw) -> Answer:
    base = dict(question="Frage?", text=text, language="de", citations=citations, sentences=sentences, grounded=True,
                abstained=False, passages=passages, model="m")
    base.update(kw)
    return Answer(**base)


P1 = hit("Vorher. Am Freitag traf er in Anchorage, Alaska, Putin. Danach.", 0)
P2 = hit("Starmer, Macron und Merz nehmen teil.", 1)


def test_markers_become_buttons_and_the_unsupported_sentence_is_marked():
    c1, c2 = citation(P1, 1, "Am Freitag traf er in Anchorage, Alaska, Putin."), citation(P2, 2, "Starmer")
    a = answer(
        "Trump traf Putin in Anchorage [1]. Scholz nimmt teil [2].",
        [SentenceCheck("Trump traf Putin in Anchorage.", (1,), "supported"),
         SentenceCheck("Scholz nimmt teil.", (2,), "unsupported", missing=("Scholz",))],
        [c1, c2], [P1, P2],
    )
    out = answer_html(a, turn=3)
    buttons = [attrs for tag, attrs in Tags(out).tags if tag == "button"]
    assert [(b["data-cite"], b["data-chunk"]) for b in buttons] == [("3-1", "c0"), ("3-2", "c1")]
    unsupported = re.search(r'<span class="nqa-sent-unsupported"[^>]*>(.*?)</span><span class="nqa-flag"', out)
    assert unsupported and "Scholz nimmt teil" in unsupported.group(1) and 'data-cite="3-2"' in unsupported.group(1)
    assert "Trump traf Putin" not in unsupported.group(1)
    assert "not found there: Scholz" in out
    assert "1 sentence is not supported" in out
    # each cited passage travels with the answer, its supporting words highlighted
    src = re.search(r'<div data-cite-src="3-1">(.*?)</div></div>', out, re.S)
    assert src and "<mark>Am Freitag traf er in Anchorage, Alaska, Putin.</mark>" in out


def test_each_checked_sentence_shows_its_evidence_sentence_under_the_answer():
    c1, c2 = citation(P1, 1, "Am Freitag traf er in Anchorage, Alaska, Putin."), citation(P2, 2)
    a = answer(
        "Trump traf Putin in Anchorage [1]. Scholz nimmt teil [2].",
        [SentenceCheck("Trump traf Putin in Anchorage.", (1,), "supported", evidence=("Am Freitag traf er in Anchorage, Alaska, Putin.",)),
         SentenceCheck("Scholz nimmt teil.", (2,), "not_found", missing=("Scholz",), evidence=(f"Starmer, Macron {EVIL} teil.",))],
        [c1, c2], [P1, P2],
    )
    out = answer_html(a, turn=1)
    items = re.findall(r'<li data-verdict="(\w+)">\s*<span class="nqa-evidence-label">([^<]*)</span>\s*<q>(.*?)</q>', out, re.S)
    assert [(v, label.strip()) for v, label, _ in items] == [
        ("supported", "Evidence [1]:"), ("not_found", "Closest passage sentence [2]:"),
    ]
    assert items[0][2] == "Am Freitag traf er in Anchorage, Alaska, Putin."
    assert "<script>" not in items[1][2] and "&lt;script&gt;" in items[1][2]


def test_text_from_articles_and_model_is_escaped_everywhere():
    evil_hit = hit(f"Bericht {EVIL} Ende.", 0, title=f"Titel {EVIL}", source=EVIL, url="javascript:alert(1)")
    c = citation(evil_hit, 1, EVIL)
    a = answer(
        f"Er sagte {EVIL} [1].", [SentenceCheck(f"Er sagte {EVIL}.", (1,), "supported")], [c], [evil_hit],
        question=f"Frage {EVIL}", model=EVIL,
    )
    ex = Exchange(question=f"Frage {EVIL}", status="done", answer=a)
    html = conversation_html([ex]) + sources_html(ex) + articles_html(
        {"articles": 1, "chunks": 1}, [{"title": EVIL, "date": EVIL, "source": EVIL, "url": "javascript:alert(1)", "language": "de", "chunks": 1}]
    )
    tags = Tags(html)
    assert not {"script", "img"} & tags.names()
    assert not any(a.startswith("on") for a in tags.attributes())
    assert not any(attrs.get("href", "").lower().startswith("javascript") for _, attrs in tags.tags)
    # the payload is still there, as text a person can read
    assert "".join(tags.text).count("<script>alert('x')</script>") >= 6


def test_a_rewritten_follow_up_says_how_it_was_understood_in_its_language():
    c = citation(P2, 1, "Starmer")
    said = [SentenceCheck("Starmer nimmt teil.", (1,), "supported")]
    de = answer("Starmer nimmt teil [1].", said, [c], [P2], question="Und wer noch?",
                standalone_question=f"Wer nimmt noch an den Gesprächen {EVIL} teil?")
    out = answer_html(de, 1)
    small = re.search(r'<div class="nqa-understood" lang="de">(.*?)</div>', out, re.S)
    assert small and small.group(1).startswith("Verstanden als: ")
    assert "&lt;script&gt;" in small.group(1) and not {"script", "img"} & Tags(out).names()
    en = answer("Starmer attends [1].", said, [c], [P2], question="Who else?", language="en",
                standalone_question="Who else attends the talks?")
    assert '<div class="nqa-understood" lang="en">Understood as: ' in answer_html(en, 1)
    refused = answer("Dazu steht nichts in den Artikeln.", [], [], [P1], question="Und dort?", grounded=False,
                     abstained=True, standalone_question="Was geschah in Anchorage?")
    assert "Verstanden als: " in answer_html(refused, 1)
    # a question searched as typed gets no small print
    for same in ("Frage?", ""):
        assert "nqa-understood" not in answer_html(answer("Starmer nimmt teil [1].", said, [c], [P2], standalone_question=same), 1)


def test_streaming_draft_and_question_are_escaped():
    ex = Exchange(question=EVIL, status="writing", draft=f"Teil {EVIL} [1]", passages=[P1])
    tags = Tags(conversation_html([ex]))
    assert not {"script", "img", "button"} & tags.names()  # markers while streaming are not links yet
    assert EVIL in "".join(tags.text)


@pytest.mark.parametrize(
    ("status", "label"),
    [("queued", "Waiting for a free answer slot"), ("searching", "Searching the articles"),
     ("writing", "Reading the passages"), ("checking", "Checking each sentence against its passage")],
)
def test_every_wait_names_its_stage(status, label):
    html = conversation_html([Exchange(question="Frage?", status=status, passages=[P1])])
    assert f'data-status="{status}"' in html and label in html


@pytest.mark.parametrize(
    "url, kept",
    [("https://example.org/x?a=1", True), ("http://example.org", True), ("javascript:alert(1)", False),
     (" JavaScript:alert(1)", False), ("data:text/html,<script>", False), ("/relative", False), ("", False), (None, False)],
)
def test_only_http_links_are_links(url, kept):
    assert (safe_url(url) is not None) == kept


def test_support_highlight_uses_the_offsets():
    assert passage_html("abc<def>ghi", 3, 8) == '<blockquote class="nqa-passage">abc<mark>&lt;def&gt;</mark>ghi</blockquote>'
    assert "<mark>" not in passage_html("abc", None, None)
    assert "<mark>" not in passage_html("abc", 2, 9)  # offsets out of range: no highlight rather than a wrong one


def test_sentences_align_with_markers_after_and_before_the_full_stop():
    s1, s2 = SentenceCheck("Eins ist da.", (1,), "supported"), SentenceCheck("Zwei auch.", (2,), "uncited")
    segs = align_sentences("Eins ist da [1]. Zwei auch.[2]", [s1, s2])
    assert segs == [("Eins ist da [1].", s1), (" ", None), ("Zwei auch.[2]", s2)]
    assert align_sentences("Etwas anderes.", [s1]) is None


def test_abstention_looks_like_an_abstention():
    a = answer("Dazu steht nichts in den Artikeln.", [], [], [P1], grounded=False, abstained=True)
    out = answer_html(a, 1)
    assert 'class="nqa-a nqa-abstain"' in out and "No answer in the articles" in out and "<button" not in out
    ex = Exchange("Frage?", status="done", answer=a)
    assert "Closest passages" in sources_html(ex)


def test_llm_failure_shows_the_error_and_the_passages():
    a = answer("Das Sprachmodell ist nicht erreichbar.", [], [], [P1, P2], grounded=False, error="cannot reach LLM server http://x: refused")
    out = answer_html(a, 1)
    assert 'data-status="llm-error"' in out and "Cannot reach LLM server http://x: refused" in out
    assert "Anchorage" in out and "Starmer" in out  # both passages, in the chat itself


def test_question_errors_are_one_clear_line():
    ex = Exchange("?", status="failed", error="the question is too long (5000 characters; at most 2000)", error_kind="QuestionError")
    out = conversation_html([ex])
    assert "Please check the question" in out and "The question is too long (5000 characters; at most 2000)" in out


def test_ingest_report_has_a_row_per_file_with_reasons():
    r = IngestReport(added=["/up/a.md"], unchanged=["/up/b.md"], failed=[("/up/c.json", "/up/c.json: invalid JSON: Expecting value"),
                                                                         ("/up/d.jsonl", "/up/d.jsonl:3 [text]: missing text")])
    out = ingest_report_html(r, names={"/up/a.md": "a.md"})
    rows = [
        (m.group(1), *[re.sub(r"<[^>]+>", "", cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", m.group(2))])
        for m in re.finditer(r'<tr data-status="(\w+)">(.*?)</tr>', out)
    ]
    assert [(status, file, detail) for status, file, _result, detail in rows] == [("added", "a.md", ""), ("unchanged", "/up/b.md", "already indexed"),
                    ("failed", "/up/c.json", "invalid JSON: Expecting value"), ("failed", "/up/d.jsonl", "line 3 [text]: missing text")]


def test_passages_shown_before_the_answer_highlight_their_closest_sentence():
    """While the model writes, each passage's sentence closest to the question is marked (and is the
    folded card's snippet); once an answer cites a passage, its supporting words take over."""
    best = (P1.text.index("Am Freitag"), P1.text.index(" Danach"))
    ex = Exchange("Wo traf Trump Putin?", status="writing", passages=[P1, P2], best=[best, None])
    out = sources_html(ex)
    assert '<mark class="nqa-closest" title="The sentence closest to the question">Am Freitag traf er in Anchorage, Alaska, Putin.</mark>' in out
    assert out.count("<mark") == 1  # P2 (one sentence) has none
    snippets = re.findall(r'<div class="nqa-snippet">(.*?)</div>', out)
    assert snippets == ["Am Freitag traf er in Anchorage, Alaska, Putin.", "Starmer, Macron und Merz nehmen teil."]
    ex.answer, ex.status = answer("Trump traf Putin in Anchorage [1].", [], [citation(P1, 1, "in Anchorage, Alaska")], [P1, P2]), "done"
    out = sources_html(ex)
    assert "<mark>in Anchorage, Alaska</mark>" in out and "nqa-closest" not in out.split('data-chunk="c1"')[0]
