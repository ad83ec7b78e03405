"""A small German/English language guesser built on function words (no model, no download)."""

from __future__ import annotations

import re

_WORD = re.compile(r"[a-zäöüß]+", re.IGNORECASE)

_DE = set(
    """der die das und ist nicht ein eine einen einem einer des dem den zu mit sich auf für von im
    auch es an als wie was wer wo wann warum welche welcher welches wieviel wie viele hat haben wird
    werden wurde wurden sind war waren bei nach aus um oder aber noch nur über vor zum zur ich sie er
    wir ihr dass daß kein keine mehr sehr schon dieser diese dieses man sein seine ihre ihren unter
    bis gegen seit sagte hatte ob dazu dort hier jetzt heute gestern am vom beim ins""".split()
)
_EN = set(
    """the and is are was were be been being a an of to on for with that this these those it its
    as at by from or but not no what who whom whose which when where why how many much did does do
    has have had will would should could can may might he she they we you i his her their our your
    about after before said than then there here into over under also only more most very""".split()
)


def language_scores(text: str) -> tuple[int, int]:
    """(German evidence, English evidence): counts of function words (umlauts count for German)."""
    words = [w.lower() for w in _WORD.findall(text)]
    de = sum(w in _DE for w in words) + 2 * sum(ch in "äöüß" for ch in text.lower())
    en = sum(w in _EN for w in words)
    return de, en


def detect_language(text: str, default: str = "de") -> str:
    """Return 'de' or 'en' for the given text; ``default`` when there is no evidence.

    >>> detect_language("Wer hat das Treffen geleitet?")
    'de'
    >>> detect_language("Who led the meeting?")
    'en'
    """
    de, en = language_scores(text)
    if de == en:
        return default
    return "de" if de > en else "en"
