"""The half of a checker-format record; the split rule itself is ``benchmarks.splits`` (benchmarks sit
below evals and need it too)."""

from __future__ import annotations

from benchmarks.splits import SPLITS, Split, article_key, split_of

__all__ = ["SPLITS", "Split", "article_key", "split_of", "checker_split"]


def checker_split(record: dict, xquad_titles: list[str]) -> Split:
    """The half of a checker-format record (``passage_id`` ``seed-…``, ``xquad-<article>-…``,
    ``10kgnad-<row>…``); ``xquad_titles`` maps XQuAD article indexes to topic titles."""
    pid = record["passage_id"]
    source, _, rest = pid.partition("-")
    if source == "seed":
        return "dev"
    head = rest.split("-")[0]
    if source == "xquad":
        return split_of("xquad", xquad_titles[int(head)])
    if source == "10kgnad":
        return split_of("10kgnad", int(head))
    if source == "mlqa":
        return split_of("mlqa", rest.rsplit("-s", 1)[0])
    raise ValueError(f"passage_id {pid!r}: unknown source {source!r}")
