"""Token chunking: offsets are exact, limits hold (cl100k), chunks overlap, prefer paragraph ends,
and sentences longer than a chunk are split between words."""

from __future__ import annotations

import random
import re

import pytest

from tests.vectorstore.helpers import SEED_FILE
from vectorstore.chunker import chunk_article, count_tokens, sentence_spans
from vectorstore.loader import load_file
from vectorstore.types import Article


def article(text: str, title: str = "T", **kw) -> Article:
    return Article(source_key="mem", title=title, text=text, **kw)


def check_invariants(art: Article, chunks, max_tokens: int) -> None:
    assert chunks, "no chunks"
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))
    assert len({c.id for c in chunks}) == len(chunks)
    for c in chunks:
        assert art.text[c.start : c.end] == c.text
        assert c.text == c.text.strip() and c.text
        assert count_tokens(c.text) <= max_tokens, (count_tokens(c.text), c.text)
        assert c.article_id == art.id and c.meta == art.meta
    starts = [c.start for c in chunks]
    ends = [c.end for c in chunks]
    assert starts == sorted(starts) and ends == sorted(ends)
    assert len(set(starts)) == len(starts), "two chunks start at the same place"
    # Nothing is lost: every non-space character lies in some chunk.
    covered = bytearray(len(art.text))
    for c in chunks:
        covered[c.start : c.end] = b"\x01" * (c.end - c.start)
    lost = [i for i, ch in enumerate(art.text) if not ch.isspace() and not covered[i]]
    assert not lost, f"text not in any chunk: {art.text[lost[0]:lost[0] + 40]!r}"


@pytest.fixture(scope="module")
def seed():
    return load_file(SEED_FILE).articles[0]


@pytest.mark.parametrize("max_tokens,overlap", [(160, 32), (64, 16), (32, 8), (20, 4), (16, 0)])
def test_seed_article_invariants(seed, max_tokens, overlap):
    check_invariants(seed, chunk_article(seed, max_tokens, overlap), max_tokens)


def test_seed_article_default_chunks_overlap(seed):
    chunks = chunk_article(seed, 160, 32)
    assert len(chunks) >= 8  # ~1,100 tokens of text
    overlaps = [(a, b) for a, b in zip(chunks, chunks[1:]) if b.start < a.end]
    assert overlaps, "no chunk repeats the end of the one before"
    for a, b in overlaps:
        repeated = seed.text[b.start : a.end]
        assert count_tokens(repeated) <= 32
        assert a.text.endswith(repeated)  # whole trailing sentences are repeated


def test_chunking_is_deterministic_and_ids_follow_content(seed):
    a, b = chunk_article(seed, 160, 32), chunk_article(seed, 160, 32)
    assert [c.id for c in a] == [c.id for c in b]
    other = Article(source_key=seed.source_key, title=seed.title, text=seed.text, date="2025-08-19",
                    source=seed.source, url=seed.url, language=seed.language)
    assert not {c.id for c in a} & {c.id for c in chunk_article(other, 160, 32)}


def sentences(rng: random.Random, n: int) -> list[str]:
    words = ("Hafen Stadtrat Bürgermeisterin beschloss gestern Haushalt für neue Bücher und längere Öffnungszeiten "
             "während Kritiker Schulgebäude Sanierung verlangten council approved budget library mayor said").split()
    out = []
    for _ in range(n):
        w = [rng.choice(words) for _ in range(rng.randint(4, 18))]
        out.append(w[0].capitalize() + " " + " ".join(w[1:]) + rng.choice([".", ".", "!", "?"]))
    return out


def test_synthetic_paragraph_text_invariants():
    rng = random.Random(7)
    paras = [" ".join(sentences(rng, rng.randint(1, 7))) for _ in range(25)]
    art = article("\n\n".join(paras))
    for max_tokens, overlap in [(160, 32), (48, 12), (24, 6)]:
        chunks = chunk_article(art, max_tokens, overlap)
        check_invariants(art, chunks, max_tokens)
        if overlap >= 12:  # overlap repeats whole sentences; at 6 tokens hardly one fits
            assert any(b.start < a.end for a, b in zip(chunks, chunks[1:])), "no overlap"


def test_long_sentence_is_split_between_words():
    rng = random.Random(3)
    words = [rng.choice(["Sicherheitsgarantien", "für", "die", "Ukraine", "und", "Europa", "wurden", "besprochen",
                         "Verhandlungen", "Waffenstillstand", "Übereinkunft", "möglicherweise"]) for _ in range(600)]
    text = "Am Montag " + " ".join(words) + "."
    art = article(text)
    chunks = chunk_article(art, 40, 8)
    check_invariants(art, chunks, 40)
    assert len(chunks) >= count_tokens(text) // 40
    for c in chunks:
        # A piece of a long sentence starts and ends at a word boundary, never inside a word.
        assert c.start == 0 or text[c.start - 1].isspace(), text[c.start - 10 : c.start + 10]
        assert c.end == len(text) or text[c.end].isspace(), text[c.end - 10 : c.end + 10]


def test_a_word_longer_than_a_chunk_is_still_cut_to_size():
    blob = "".join(random.Random(1).choice("abcdefghijklmnopqrstuvwxyzäöüß0123456789") for _ in range(3000))
    art = article(f"Der Anhang lautet {blob} und endet hier.")
    check_invariants(art, chunk_article(art, 32, 8), 32)


def test_random_unicode_text_keeps_offsets_and_limits():
    rng = random.Random(11)
    alphabet = list("abcdefghij ÄÖÜäöüß€–„“”…") + ["東京", "🙂", "\n", "\n\n", ". ", "? ", "Ü"]
    for trial in range(15):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(50, 1500))).strip() or "x"
        art = article(text)
        max_tokens = rng.choice([16, 24, 40, 100])
        check_invariants(art, chunk_article(art, max_tokens, rng.randint(0, max_tokens // 3)), max_tokens)


def test_chunks_prefer_to_end_at_a_paragraph_end():
    rng = random.Random(5)
    paras = []
    for _ in range(8):
        p = sentences(rng, 3)
        while count_tokens(" ".join(p)) < 55:
            p += sentences(rng, 1)
        while count_tokens(" ".join(p)) > 70:
            p.pop()
        paras.append(" ".join(p))
    text = "\n".join(paras)
    art = article(text)
    chunks = chunk_article(art, 160, 32)
    check_invariants(art, chunks, 160)
    # Two paragraphs fit into 160 tokens, three do not: every chunk stops at a paragraph end
    # instead of filling up with the first sentences of the next paragraph.
    para_ends = {m.end() for m in re.finditer(r"[^\n]+", text)}
    assert all(c.end in para_ends for c in chunks), [text[c.end - 20 : c.end + 20] for c in chunks if c.end not in para_ends]
    assert len(chunks) == 4


def test_sentence_spans_respect_abbreviations_and_paragraphs():
    text = "Dr. Müller kam am 3. Mai nach Berlin. Er traf u.a. Prof. Schmidt!\nNeuer Absatz beginnt hier."
    spans = sentence_spans(text)
    assert [text[s.start : s.end] for s in spans] == [
        "Dr. Müller kam am 3. Mai nach Berlin.", "Er traf u.a. Prof. Schmidt!", "Neuer Absatz beginnt hier."]
    assert [s.paragraph_start for s in spans] == [True, False, True]


def test_overlap_must_be_smaller_than_chunk():
    with pytest.raises(ValueError, match="overlap_tokens"):
        chunk_article(article("Ein Satz."), 32, 32)


def test_short_article_is_one_chunk():
    art = article("Nur ein kurzer Satz.")
    (c,) = chunk_article(art, 160, 32)
    assert (c.start, c.end, c.text) == (0, len(art.text), art.text)


class _Counting:
    """Wraps the tokenizer or a regex and adds up how many characters it was given to look at."""

    def __init__(self, inner):
        self.inner, self.chars = inner, 0

    def encode_ordinary(self, text):
        self.chars += len(text)
        return self.inner.encode_ordinary(text)

    def decode_with_offsets(self, tokens):
        return self.inner.decode_with_offsets(tokens)

    def search(self, string, pos=0, endpos=None):
        self.chars += (len(string) if endpos is None else endpos) - pos
        return self.inner.search(string, pos, len(string) if endpos is None else endpos)


@pytest.mark.parametrize("text", [
    "Ein Satz über den Hafen und die Stadt. " * 4000,  # one paragraph of many sentences
    "Sicherheitsgarantien für die Ukraine und Europa wurden besprochen " * 2500,  # one endless sentence
], ids=["long-paragraph", "long-sentence"])
def test_chunking_work_grows_linearly_with_the_text(monkeypatch, text):
    # Without a clock: count the characters fed to the tokenizer and the abbreviation regex. Each
    # character may be looked at a few times (joins, overlap), not once per sentence before it.
    from vectorstore import chunker, text as text_rules

    enc = _Counting(chunker.encoding())
    abbrev = _Counting(text_rules._ABBREV)
    monkeypatch.setattr(chunker, "encoding", lambda: enc)
    monkeypatch.setattr(text_rules, "_ABBREV", abbrev)
    art = article(text.strip())
    check_invariants(art, chunk_article(art, 160, 32), 160)
    assert enc.chars < 30 * len(text), enc.chars / len(text)
    assert abbrev.chars < 30 * len(text), abbrev.chars / len(text)
