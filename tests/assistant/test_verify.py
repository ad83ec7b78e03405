"""The verifier's parts (fast) and its verdicts with the real e5 (models), through the API and the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.verify import Source, Verifier, _required_names, negations, weekdays
from vectorstore.text import date_mentions, same_date

TROOPS = (
    "Trump schloss die Entsendung von US-Streitkräften in die Ukraine als Teil einer möglichen Sicherheitsgarantie "
    "nicht aus und sagte: “Wir werden Sie das wissen lassen, vielleicht im Laufe des Tages.”"
)


@pytest.mark.parametrize("text,parity", [
    ("Trump schloss die Entsendung von US-Truppen aus.", 1),
    ("Trump schloss die Entsendung von US-Truppen nicht aus.", 0),
    ("Trump ruled out sending troops.", 1),
    ("Trump did not rule out sending troops.", 0),
    ("Trump didn't rule out sending troops.", 0),
    ("Es gab keine Einigung.", 1),
    ("Merz lehnte den Vorschlag ab.", 1),
    ("Trump met Putin in Alaska.", 0),
])
def test_polarity(text, parity):
    assert negations(text) % 2 == parity


def test_required_names_are_lists_and_places():
    required, loose = _required_names("Trump, Macron und Scholz trafen Putin in Berlin.")
    assert required == ["Macron", "Scholz", "Berlin"] and loose == ["Putin"]
    required, _ = _required_names("On Friday, Trump met Putin in Anchorage, Alaska.")
    assert required == ["Anchorage"]


def test_dates_and_weekdays_meet_across_formats_and_languages():
    a, b = date_mentions("am 18. August 2025")[0].value, date_mentions("on 08/18/2025 or 18.08.2025")[-1].value
    assert a == b == "2025-08-18"
    assert same_date("????-08-18", "2025-08-18") and not same_date("2025-08-17", "2025-08-18")
    assert weekdays("am Dienstagabend") == {"tuesday"} and weekdays("on Tuesday") == {"tuesday"}


@pytest.fixture(scope="module")
def verifier(e5):
    return Verifier(e5)


@pytest.mark.models
class TestWithE5:
    @pytest.mark.parametrize("claim,language,verdict", [
        ("Trump did not rule out sending US troops to Ukraine.", "en", "supported"),
        ("Trump schloss die Entsendung von US-Truppen nicht aus.", "de", "supported"),
        ("Trump ruled out sending US troops to Ukraine.", "en", "contradicted"),
        ("Trump schloss die Entsendung von US-Truppen aus.", "de", "contradicted"),
        ("Trump said they would be told later in the day.", "en", "supported"),
        ("Yes, he did.", "en", "not_found"),
        ("Merkel visited Paris in 2019.", "en", "not_found"),
        ("Trump, Macron und Scholz schlossen die Entsendung nicht aus.", "de", "not_found"),
    ])
    def test_verdicts(self, verifier, claim, language, verdict):
        check = verifier.check(claim, [Source(TROOPS, "Trump verspricht Schutz", "2025-08-18")], [1], language=language)
        assert check.verdict == verdict, check
        if verdict == "supported":
            assert check.evidence and all(TROOPS[e.start : e.end] == e.text for e in check.evidence)

    def test_a_figure_the_evidence_gives_otherwise_is_contradicted(self, verifier):
        src = Source("Bei dem Angriff wurden 18 Menschen verletzt und 3 getötet.", "", "")
        assert verifier.check("Bei dem Angriff wurden 18 Menschen verletzt.", [src], [1], language="de").supported
        check = verifier.check("Bei dem Angriff wurden 21 Menschen verletzt.", [src], [1], language="de")
        assert check.verdict == "contradicted" and "21" in " ".join(check.reasons)

    def test_a_date_in_another_format_and_the_header_year(self, verifier):
        src = Source("Am Freitag, dem 15.08.2025, traf Trump Putin in Anchorage.", "", "2025-08-18")
        assert verifier.check("Trump met Putin in Anchorage on August 15, 2025.", [src], [1], language="en").supported
        check = verifier.check("Trump met Putin in Anchorage on August 16, 2025.", [src], [1], language="en")
        assert check.verdict == "contradicted"


@pytest.mark.models
def test_verify_command_prints_a_verdict_per_sentence(tmp_path):
    from tests.conftest import MODEL_CACHE

    passage = tmp_path / "p.txt"
    passage.write_text(TROOPS, encoding="utf-8")
    out = subprocess.run(
        [str(Path(sys.executable).parent / "assistant"), "verify", "--json", "--no-model", "--cache-dir", str(MODEL_CACHE),
         "--index-dir", str(tmp_path / "index"), "--passage", str(passage),
         "Yes. Trump ruled out sending US troops to Ukraine [1]. He said they would know later in the day [1]."],
        capture_output=True, text=True, timeout=600,
    )
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    assert [r["verdict"] for r in rows] == ["not_found", "contradicted", "supported"]
    assert rows[1]["evidence"][0]["text"].startswith("Trump schloss") and rows[1]["evidence"][0]["passage"] == 1
    assert "Wir werden Sie das wissen lassen" in rows[2]["evidence"][0]["text"]
