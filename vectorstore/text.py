"""Text rules used everywhere: one sentence splitter, one ``[n]`` marker parser, names and numbers,
stop words, spelling folding. The chunker, the lexical index, the answering stages, the citation
check and the evaluation all use these, so a sentence or a marker means the same thing in each.

    >>> [text[a:b] for text in ["Trump traf am 18. August 2025 Putin. Dann ging er."] for a, b, _ in sentence_spans(text)]
    ['Trump traf am 18. August 2025 Putin.', 'Dann ging er.']
    >>> parse_markers("A [1]. B [2, 3]. C [4-5][6].")
    [1, 2, 3, 4, 5, 6]
"""

from __future__ import annotations

import re
import unicodedata
from typing import NamedTuple

# --------------------------------------------------------------------------------------------------
# Stop words: German and English function words. The language guesser, the lexical index and the
# support check draw on the same lists.

STOPWORDS_DE = frozenset(
    """der die das und ist nicht ein eine einen einem einer des dem den zu mit sich auf für von im
    auch es an als wie was wer wo wann warum welche welcher welches wieviel wie viele hat haben wird
    werden wurde wurden sind war waren bei nach aus um oder aber noch nur über vor zum zur ich sie er
    wir ihr dass daß kein keine mehr sehr schon dieser diese dieses man sein seine ihre ihren unter
    bis gegen seit sagte hatte ob dazu dort hier jetzt heute gestern am vom beim ins""".split()
)
STOPWORDS_EN = frozenset(
    """the and is are was were be been being a an of to on for with that this these those it its
    as at by from or but not no what who whom whose which when where why how many much did does do
    has have had will would should could can may might he she they we you i his her their our your
    about after before said than then there here into over under also only more most very""".split()
)
STOPWORDS = STOPWORDS_DE | STOPWORDS_EN


def fold(text: str) -> str:
    """Lower case without diacritics (ß -> ss): 'Weißen' ~ 'weissen', 'Präsident' ~ 'prasident'."""
    t = unicodedata.normalize("NFKD", text.lower().replace("ß", "ss"))
    return "".join(ch for ch in t if not unicodedata.combining(ch))


# --------------------------------------------------------------------------------------------------
# Citation markers: [1], [1, 2], [1; 2], [1-3], [1–3], [1][2].

MARKER = re.compile(r"\[\s*(\d{1,3}(?:\s*(?:[,;]|-|–|‐)\s*\d{1,3})*)\s*\]")
#: A marker with the white space before it, for removing markers from a sentence.
MARKER_WITH_SPACE = re.compile(r"\s*" + MARKER.pattern)
_MAX_RANGE = 20


def marker_numbers(match: re.Match | str) -> list[int]:
    """The numbers one marker names, ranges expanded: ``[1-3]`` -> ``[1, 2, 3]``."""
    body = match.group(1) if isinstance(match, re.Match) else match.strip().strip("[]")
    out: list[int] = []
    for part in re.split(r"\s*[,;]\s*", body.strip()):
        lo, sep, hi = _range(part)
        if sep and lo <= hi and hi - lo < _MAX_RANGE:
            out.extend(range(lo, hi + 1))
        else:
            out.append(lo)
            if sep:
                out.append(hi)
    return out


def _range(part: str) -> tuple[int, str, int]:
    m = re.fullmatch(r"(\d{1,3})\s*([-–‐])\s*(\d{1,3})", part.strip())
    if m:
        return int(m.group(1)), m.group(2), int(m.group(3))
    return int(part), "", 0


def parse_markers(text: str) -> list[int]:
    """Every citation number written in ``text``, in order (duplicates kept)."""
    return [n for m in MARKER.finditer(text) for n in marker_numbers(m)]


def strip_markers(text: str) -> str:
    """The text without markers, with no space left before punctuation."""
    return re.sub(r"\s+([.!?,;:])", r"\1", MARKER_WITH_SPACE.sub("", text)).strip()


# --------------------------------------------------------------------------------------------------
# Sentences. A sentence ends at . ! ? (closing quotes and brackets included) before white space and
# something that can start a sentence; a dot after an abbreviation, an initial, or an ordinal or day
# of one or two digits ("18. August", "18.08. kamen", "U.S.", "Dr.", "D.C.", "z. B.") ends none, a year
# ("… 1945. Das …") does.

_SENT_END = re.compile(r"[.!?…][\"”“»«'’)\]]*(?=\s+[\"„“”»«'‘(\[]?[A-ZÄÖÜ0-9])")
_ABBREV = re.compile(
    r"(?:\b(?:z|u|d|v|o|s|bzw|ca|Dr|Prof|Nr|St|Mr|Mrs|Ms|Jr|Sr|vs|etc|inkl|ggf|evtl|usw|Abs|Art|Jh|Mio|Mrd|Str|Hr|Fr"
    r"|Jan|Feb|Aug|Sept|Okt|Nov|Dez|Gen|Sen|Rep|Gov|Lt|Col|Capt|No|Nos|Inc|Ltd|Co|Corp|bzgl|vgl|sog|Bd)"
    r"|\b[A-Z]|\b[a-zA-Z]\.[a-zA-Z]|\b\d{1,2})\.$"
)


class SentenceSpan(NamedTuple):
    start: int
    end: int
    paragraph_start: bool  # the first sentence of a paragraph (a line of the text)


def sentence_spans(text: str) -> list[SentenceSpan]:
    """The sentences of ``text`` as offsets (white space trimmed), paragraph starts marked."""
    spans: list[SentenceSpan] = []
    for pm in re.finditer(r"[^\n]+", text):
        para_start, para = pm.start(), pm.group(0)
        if not para.strip():
            continue
        cut, first = 0, True
        for m in _SENT_END.finditer(para):
            end = m.end()
            # Only the text just before the dot matters (searching all of para[:end] was quadratic).
            if m.group(0)[0] == "." and _ABBREV.search(para, max(0, end - 24), end - len(m.group(0)) + 1):
                continue
            span = _trimmed(text, para_start + cut, para_start + end, first)
            if span:
                spans.append(span)
                first = False
            cut = end
        span = _trimmed(text, para_start + cut, para_start + len(para), first)
        if span:
            spans.append(span)
    return spans


def _trimmed(text: str, start: int, end: int, para: bool) -> SentenceSpan | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return SentenceSpan(start, end, para) if start < end else None


_LEADING_MARKERS = re.compile(r"((?:\s*" + MARKER.pattern + r")+)\s*")


def split_sentences(text: str) -> list[str]:
    """The sentences of an answer. Markers standing after a full stop ("… Alaska. [1] Dann …")
    belong to the sentence before, unless that one has its own."""
    out: list[str] = []
    for a, b, _ in sentence_spans(text):
        s = text[a:b]
        m = _LEADING_MARKERS.match(s)
        if m and out and not MARKER.search(out[-1]):
            out[-1] = out[-1] + " " + m.group(1).strip()
            s = s[m.end():]
        if s.strip():
            out.append(s.strip())
    return out


# --------------------------------------------------------------------------------------------------
# Facts a sentence states: numbers and names.

NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
WORD = re.compile(r"[^\W\d_][\w\-’']*", re.UNICODE)

# Words that start sentences or are capitalised for grammar, not because they name something.
_NOT_NAMES = STOPWORDS | {
    "laut", "auch", "aber", "according", "also", "however", "dazu", "zudem", "yes", "no", "ja", "nein",
}
_POSSESSIVE = re.compile(r"(?:'s|’s|s'|s’)$")


def numbers(text: str) -> list[str]:
    """The numbers in ``text`` with separators removed ('1.000' and '1,000' -> '1000')."""
    return [re.sub(r"[.,]", "", n) for n in NUMBER.findall(text)]


def names(text: str) -> list[str]:
    """Capitalised words that are not the first of the text nor function words: the names and
    (in German) nouns a claim is about. Possessives lose their 's ('Kremlin's' -> 'Kremlin')."""
    out: list[str] = []
    for i, w in enumerate(WORD.findall(text)):
        if i == 0 or not w[:1].isupper() or w.lower() in _NOT_NAMES or len(w) < 3:
            continue
        out.append(_POSSESSIVE.sub("", w) if len(w) > 4 else w)
    return out


def content_words(text: str, min_len: int = 4) -> list[str]:
    """Words of at least ``min_len`` letters that are not stop words."""
    return [w for w in WORD.findall(text) if len(w) >= min_len and w.lower() not in STOPWORDS]


# --------------------------------------------------------------------------------------------------
# Dates in running text, in the forms news use: 18.08.2025, 18.08., 18. August 2025, August 18, 2025,
# 2025-08-18, "im August 2025". Each becomes "YYYY-MM-DD" with "????" or "??" for a missing part, so
# that a claim's "18. August 2025" meets a passage's "18.08.2025".

MONTHS = {
    name: i + 1
    for i, names_ in enumerate([
        ("januar", "january", "jan", "jänner"), ("februar", "february", "feb"), ("märz", "march", "mar", "maerz"),
        ("april", "apr"), ("mai", "may"), ("juni", "june", "jun"), ("juli", "july", "jul"),
        ("august", "aug"), ("september", "sept", "sep"), ("oktober", "october", "okt", "oct"),
        ("november", "nov"), ("dezember", "december", "dez", "dec"),
    ])
    for name in names_
}
WEEKDAYS = {
    "monday": "montag", "tuesday": "dienstag", "wednesday": "mittwoch", "thursday": "donnerstag",
    "friday": "freitag", "saturday": "samstag", "sunday": "sonntag",
}
_MONTH = r"(" + "|".join(sorted((re.escape(m) for m in MONTHS), key=len, reverse=True)) + r")\.?"
_DATE_FORMS = [
    (re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b"), ("y", "m", "d")),
    (re.compile(r"\b(\d{1,2})\.\s?(\d{1,2})\.(?:\s?(\d{4})\b)?"), ("d", "m", "y")),
    (re.compile(r"\b(\d{1,2})\.?\s+" + _MONTH + r"(?:\s+(\d{4}))?\b", re.IGNORECASE), ("d", "mn", "y")),
    (re.compile(r"\b" + _MONTH + r"\s+(\d{1,2})(?:st|nd|rd|th)?(?:,?\s+(\d{4}))?\b", re.IGNORECASE), ("mn", "d", "y")),
    (re.compile(r"\b" + _MONTH + r"\s+(\d{4})\b", re.IGNORECASE), ("mn", "y")),
    (re.compile(r"\b(\d{1,2})/(\d{4})\b"), ("m", "y")),
]


class DateMention(NamedTuple):
    start: int
    end: int
    value: str  # "YYYY-MM-DD", with "????"/"??" for missing parts


def date_mentions(text: str) -> list[DateMention]:
    """The dates written in ``text`` (non-overlapping, in order)."""
    found: list[DateMention] = []
    taken: list[tuple[int, int]] = []
    for pattern, parts in _DATE_FORMS:
        for m in pattern.finditer(text):
            if any(a < m.end() and m.start() < b for a, b in taken):
                continue
            got = dict(zip(parts, m.groups()))
            month = MONTHS.get((got.get("mn") or "").lower().rstrip(".")) if "mn" in got else int(got["m"])
            day = int(got["d"]) if got.get("d") else None
            year = got.get("y")
            if not month or not 1 <= month <= 12 or (day is not None and not 1 <= day <= 31):
                continue
            if year and len(year) == 2:
                year = "20" + year
            value = f"{year or '????'}-{month:02d}-{f'{day:02d}' if day else '??'}"
            found.append(DateMention(m.start(), m.end(), value))
            taken.append((m.start(), m.end()))
    return sorted(found)


def same_date(a: str, b: str) -> bool:
    """Whether two ``date_mentions`` values can name the same day (a missing part matches anything)."""
    return all(x == y or "?" in x or "?" in y for x, y in zip(a.split("-"), b.split("-")))


def numbers_outside_dates(text: str) -> list[str]:
    """``numbers`` of the text with its date mentions blanked out."""
    for d in reversed(date_mentions(text)):
        text = text[: d.start] + " " + text[d.end :]
    return numbers(text)
