"""The context stage's evidence selection (``assistant/stages/context.py``, ``assistant/stages/select.py``): the best
sentences of all hits within the old token budget, as passages with exact offsets; the old passages
kept behind ``answering.evidence_selection = "passages"``."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.settings import Settings
from assistant.stages import select
from assistant.stages.context import ContextBuilder, passage_head, trim_passage
from assistant.types import Condensed, Query, Retrieved
from tests.conftest import require_shared_data
from vectorstore.chunker import count_tokens
from vectorstore.text import sentence_spans
from vectorstore.types import Chunk, Hit


class ScoreEmbedder:
    """Similarities set by hand: every question embeds to e0 and a sentence to a unit vector whose
    cosine with e0 is ``scores[sentence]`` (0 for any other text)."""

    name = "scores"

    def __init__(self, scores: dict[str, float]):
        self.scores = scores
        self.calls: list[tuple[str, int]] = []

    def embed(self, texts, kind="passage"):
        self.calls.append((kind, len(texts)))
        out = np.zeros((len(texts), 2), dtype=np.float32)
        for i, t in enumerate(texts):
            s = 1.0 if kind == "query" else self.scores.get(t, 0.0)
            out[i] = (s, np.sqrt(max(0.0, 1.0 - s * s)))
        return out


def article_hits(article: str, cuts: list[tuple[int, int]], article_id: str = "a1", title: str = "Titel") -> list[Hit]:
    """Hits over chunks ``article[s:e]`` with their offsets, ranked in the order given."""
    return [
        Hit(Chunk(f"{article_id}-{n}", article_id, n, article[s:e], s, e, {"title": title, "date": "2025-08-18"}), score=1.0 - n / 10)
        for n, (s, e) in enumerate(cuts)
    ]


def retrieved(hits: list[Hit], question: str = "Frage?") -> Retrieved:
    return Retrieved(Condensed(Query(question, "de"), question), hits)


def build(scores, hits, *, passages=2, max_tokens=70, params=None, numbered=False, selection="sentences"):
    builder = ContextBuilder(ScoreEmbedder(scores), passages, max_tokens, numbered=numbered, selection=selection,
                             params=params or select.Params())
    return builder(retrieved(hits))


ARTICLE_A = (
    "Die Stadt liegt am Fluss. Sie hat viele Brücken. Der Bürgermeister heißt Anton Berger. "
    "Er wurde 1879 in Ulm geboren. Die Brücken sind alt. Im Sommer kommen viele Touristen."
)
ARTICLE_B = "Das Wetter war schlecht. Es regnete den ganzen Tag. Die Ernte fiel aus. Der Markt blieb leer."


def sentences_of(text: str) -> list[str]:
    return [text[s.start : s.end] for s in sentence_spans(text)]


def test_every_passage_is_an_exact_part_of_its_article_and_chunk():
    a = article_hits(ARTICLE_A, [(0, 86), (26, len(ARTICLE_A))])
    b = article_hits(ARTICLE_B, [(0, len(ARTICLE_B))], article_id="b1")
    scores = {s: 0.9 - 0.05 * i for i, s in enumerate(sentences_of(ARTICLE_A) + sentences_of(ARTICLE_B))}
    ctx = build(scores, a + b, max_tokens=30)
    assert ctx.passages
    originals = {h.chunk.id: h for h in a + b}
    for p in ctx.passages:
        article = ARTICLE_A if p.chunk.article_id == "a1" else ARTICLE_B
        assert article[p.chunk.start : p.chunk.end] == p.text
        hit = originals[p.chunk.id]
        assert hit.chunk.start <= p.chunk.start and p.chunk.end <= hit.chunk.end
        assert hit.text[p.chunk.start - hit.chunk.start : p.chunk.end - hit.chunk.start] == p.text
        assert p.title == hit.title and p.score == hit.score


def test_the_best_sentences_of_all_hits_are_shown_within_the_old_budget():
    """The answer is in the fifth hit's last sentence: the old passages never showed it."""
    texts = [f"Artikel {n} sagt nichts. Auch dieser Satz hilft nicht. Noch ein Satz ohne Antwort." for n in range(4)]
    texts.append("Anderes steht hier. Die Antwort ist 42.")
    hits = [article_hits(t, [(0, len(t))], article_id=f"a{n}", title=f"T{n}")[0] for n, t in enumerate(texts)]
    scores = {"Die Antwort ist 42.": 0.95, "Artikel 0 sagt nichts.": 0.5}
    new = build(scores, hits, max_tokens=20)
    assert new.passages[0].text.endswith("Die Antwort ist 42.") and new.passages[0].chunk.article_id == "a4"
    assert new.text.startswith("[1] (T4, 2025-08-18) ")
    old = build(scores, hits, max_tokens=20, selection="passages")
    assert all("42" not in p.text for p in old.passages)
    # the budget: text within passages x max_tokens, text and headers within that and the old headers
    text = sum(count_tokens(p.text) for p in new.passages)
    headers = sum(count_tokens(passage_head(1, p)) + 1 for p in new.passages)
    old_headers = sum(count_tokens(passage_head(1, h)) + 1 for h in hits[:2])
    assert text <= 2 * 20 and text + headers <= 2 * 20 + old_headers
    assert text >= 2 * 20 - 12  # and it is used: no sentence left out would have fitted


@pytest.mark.parametrize("max_tokens", [20, 35, 70, 120])
def test_budget_holds_for_any_size(max_tokens):
    a = article_hits(ARTICLE_A, [(0, len(ARTICLE_A))])
    b = article_hits(ARTICLE_B, [(0, len(ARTICLE_B))], article_id="b1", title="Ein viel längerer Titel des zweiten Artikels")
    scores = {s: 0.3 + 0.07 * (i % 5) for i, s in enumerate(sentences_of(ARTICLE_A) + sentences_of(ARTICLE_B))}
    ctx = build(scores, a + b, max_tokens=max_tokens)
    text = sum(count_tokens(p.text) for p in ctx.passages)
    headers = sum(count_tokens(passage_head(1, p)) + 1 for p in ctx.passages)
    old_headers = sum(count_tokens(passage_head(1, h)) + 1 for h in (a + b)[:2])
    assert text <= 2 * max_tokens and text + headers <= 2 * max_tokens + old_headers


def test_consecutive_sentences_of_a_chunk_are_one_passage_and_passages_go_best_first():
    a = article_hits(ARTICLE_A, [(0, len(ARTICLE_A))])
    b = article_hits(ARTICLE_B, [(0, len(ARTICLE_B))], article_id="b1", title="B")
    sa, sb = sentences_of(ARTICLE_A), sentences_of(ARTICLE_B)
    scores = {sa[2]: 0.8, sa[3]: 0.7, sb[1]: 0.9}
    ctx = build(scores, a + b, max_tokens=20)
    assert ctx.passages[0].text == sb[1]
    assert f"{sa[2]} {sa[3]}" in ctx.passages[1].text and ctx.passages[1].chunk.article_id == "a1"
    assert ctx.text.startswith("[1] (B, 2025-08-18) Es regnete den ganzen Tag.\n\n[2] (Titel, 2025-08-18) ")
    # each passage's highlighted sentence is its own best
    assert [p.text[s:e] for p, (s, e) in zip(ctx.passages, ctx.best)][:2] == [sb[1], sa[2]]


def test_a_short_gap_is_filled_and_a_long_one_makes_two_passages():
    sa = sentences_of(ARTICLE_A)
    a = article_hits(ARTICLE_A, [(0, len(ARTICLE_A))])
    # sentences 0 and 2: the gap "Sie hat viele Brücken." (6 tokens) costs less than a header
    ctx = build({sa[0]: 0.9, sa[2]: 0.8}, a, passages=1, max_tokens=30)
    assert ctx.passages[0].text.startswith(f"{sa[0]} {sa[1]} {sa[2]}")
    assert len([p for p in ctx.passages if sa[0] in p.text or sa[2] in p.text]) == 1
    # sentences 0 and 5: the gap is dearer than a header, so they are two passages of the same chunk
    ctx = build({sa[0]: 0.9, sa[5]: 0.8}, a, passages=1, max_tokens=14, params=select.Params(headers=False))
    assert [p.text for p in ctx.passages] == [sa[0], sa[5]]
    assert ctx.passages[0].chunk.id == ctx.passages[1].chunk.id


def test_the_sentence_before_helps_a_sentence_that_names_no_one():
    """"Er wurde 1879 in Ulm geboren." answers "Wann wurde Anton Berger geboren?" but names no one:
    its own similarity is low, the sentence before it names him (``Params.neighbour``)."""
    sa = sentences_of(ARTICLE_A)
    assert sa[3] == "Er wurde 1879 in Ulm geboren."
    a = article_hits(ARTICLE_A, [(0, len(ARTICLE_A))])
    scores = {sa[2]: 0.9, sa[3]: 0.6, sa[5]: 0.7}
    alone = build(scores, a, passages=1, max_tokens=21, params=select.Params(neighbour=0.0, headers=False))
    assert [p.text for p in alone.passages] == [sa[2], sa[5]]  # sa[3] (11 tokens) no longer fits
    mixed = build(scores, a, passages=1, max_tokens=21, params=select.Params(neighbour=0.5, headers=False))
    assert [p.text for p in mixed.passages] == [f"{sa[2]} {sa[3]}"]  # 0.5·0.6 + 0.5·0.9 = 0.75 > 0.7
    assert select.neighbour_scores([0.9, 0.6, 0.7], 0.5) == [0.9, 0.75, 0.7]
    assert select.neighbour_scores([0.9, 0.6], 0.0) == [0.9, 0.6]


def test_a_sentence_that_points_back_brings_the_one_before():
    sa = sentences_of(ARTICLE_A)
    a = article_hits(ARTICLE_A, [(0, len(ARTICLE_A))])
    ctx = build({sa[3]: 0.9}, a, passages=1, max_tokens=21, params=select.Params(bring_previous=True))
    assert [p.text for p in ctx.passages] == [f"{sa[2]} {sa[3]}"]
    assert ctx.passages[0].text[slice(*ctx.best[0])] == sa[3]
    plain = build({sa[3]: 0.9}, a, passages=1, max_tokens=17)  # the default does not: the budget goes to the next one
    assert [p.text for p in plain.passages] == [f"{sa[3]} {sa[4]}"]
    assert select.refers_back("Er wurde 1879 geboren.") and select.refers_back("„Dies war neu.“")
    assert select.refers_back("It was built in 1900.") and not select.refers_back("Erst 1900 kam er.")


def test_a_sentence_in_two_overlapping_chunks_is_shown_once():
    sa = sentences_of(ARTICLE_A)
    hits = article_hits(ARTICLE_A, [(0, 112), (26, len(ARTICLE_A))])
    assert sa[2] in hits[0].text and sa[2] in hits[1].text
    ctx = build({sa[2]: 0.9, sa[1]: 0.5}, hits, max_tokens=40, params=select.Params(neighbour=0.0))
    assert sum(p.text.count(sa[2]) for p in ctx.passages) == 1


def test_the_old_passages_stay_available():
    a = article_hits(ARTICLE_A, [(0, len(ARTICLE_A))])
    b = article_hits(ARTICLE_B, [(0, len(ARTICLE_B))], article_id="b1", title="B")
    c = article_hits(ARTICLE_B, [(0, len(ARTICLE_B))], article_id="c1", title="C")
    sa = sentences_of(ARTICLE_A)
    scores = {s: 0.1 * i for i, s in enumerate(sa)}
    ctx = build(scores, a + b + c, max_tokens=20, selection="passages")
    assert [p.chunk.article_id for p in ctx.passages] == ["a1", "b1"]
    assert ctx.passages[0] == trim_passage(a[0], [scores[s] for s in sa], 20)
    assert Settings().answering.evidence_selection == "sentences"
    assert Settings().with_overrides(**{"answering.evidence_selection": "passages"}).answering.evidence_selection == "passages"
    with pytest.raises(ValueError):
        Settings().with_overrides(**{"answering.evidence_selection": "chunks"})
    with pytest.raises(ValueError):
        ContextBuilder(ScoreEmbedder({}), 2, 70, selection="chunks")


def test_all_sentences_are_scored_in_one_batch_and_the_numbered_variant_works():
    a = article_hits(ARTICLE_A, [(0, len(ARTICLE_A))])
    b = article_hits(ARTICLE_B, [(0, len(ARTICLE_B))], article_id="b1", title="B")
    sa, sb = sentences_of(ARTICLE_A), sentences_of(ARTICLE_B)
    emb = ScoreEmbedder({sa[2]: 0.9, sb[1]: 0.8})
    ctx = ContextBuilder(emb, 2, 20, numbered=True)(retrieved(a + b))
    assert [c for c in emb.calls if c[0] == "passage"] == [("passage", len(sa) + len(sb))]
    assert ctx.passages[0].chunk.article_id == "a1" and sa[2] in ctx.passages[0].text
    assert next(s for s in ctx.sentences if s.text == sa[2]).id.startswith("1.")
    assert next(s for s in ctx.sentences if s.text == sb[1]).id.startswith("2.")
    assert {s.passage for s in ctx.sentences} == set(range(1, len(ctx.passages) + 1))
    assert ctx.text.startswith("[1] (Titel, 2025-08-18)\n1.1 ")


def test_a_best_sentence_longer_than_the_budget_is_shown_alone():
    long = "Der Satz " + " ".join(f"Wort{i}" for i in range(60)) + "."
    text = f"Kurz davor. {long} Kurz danach."
    a = article_hits(text, [(0, len(text))])
    ctx = build({long: 0.9, "Kurz davor.": 0.5}, a, passages=1, max_tokens=30)
    assert [p.text for p in ctx.passages] == [long] and count_tokens(long) > 30


def test_no_hits_give_an_empty_context():
    ctx = build({}, [])
    assert ctx.passages == [] and ctx.best == () and ctx.text == ""


def test_the_benchmark_reads_halves_and_answer_sentences_as_evals_does():
    require_shared_data("xquad", "xquad-r")
    from benchmarks import evidence
    from evals.datasets import _xquad_r_sentences, xquad_topics
    from evals.splits import split_of

    assert all(evidence.split_of(t) == split_of("xquad", t) for t in xquad_topics())
    assert evidence.answer_sentences() == _xquad_r_sentences(evidence.XQUAD_R_DE)
