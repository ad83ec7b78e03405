"""The real pipeline: e5 retrieval over seeds/ and the real small GGUF (Qwen2.5-Coder-0.5B) on the CPU."""

from __future__ import annotations

import re

import pytest

from assistant.assistant import Assistant
from assistant.types import REFUSAL, Turn
from vectorstore.language import detect_language
from vectorstore.text import parse_markers

pytestmark = pytest.mark.models


@pytest.fixture(scope="module")
def assistant(seed_store, small_llm):
    return Assistant(seed_store.settings, store=seed_store, llm=small_llm)


def assert_citations_valid(ans):
    shown = {h.chunk.id for h in ans.passages}
    numbers = set(parse_markers(ans.text))
    assert numbers == {c.number for c in ans.citations}, (ans.text, ans.citations)
    for c in ans.citations:
        assert 1 <= c.number <= len(ans.passages)
        assert c.chunk_id in shown  # no citation points outside the retrieved set
        assert c.passage == ans.passages[c.number - 1].text


def test_german_question_gets_german_grounded_answer(assistant):
    ans = assistant.ask("Wo traf Trump Putin am Freitag?")
    assert ans.language == "de"
    assert not ans.abstained and ans.grounded, (ans.raw_text, ans.notes)
    assert re.search(r"Anchorage|Alaska", ans.text)
    assert detect_language(ans.text) == "de"
    assert_citations_valid(ans)
    assert any("Anchorage" in c.passage for c in ans.citations)


@pytest.mark.xfail(strict=True, reason="the plain learned fit (no model judgement, as with this 0.5B model) refuses the "
                   "cross-lingual answer: false-reject 0.5 on the checker test half's cross-lingual pairs (docs/trust.md)")
def test_english_question_about_german_article_gets_english_answer(assistant):
    ans = assistant.ask("Where did Trump meet Putin on Friday?")
    assert ans.language == "en"
    assert not ans.abstained and ans.grounded, (ans.raw_text, ans.notes)
    assert re.search(r"Anchorage|Alaska", ans.text)
    assert detect_language(ans.text, default="en") == "en"
    assert_citations_valid(ans)


def test_unanswerable_question_gets_the_refusal_phrase(assistant):
    # Both small Qwen models invent an inflation rate when given the seed article.
    ans = assistant.ask("Wie hoch ist die Inflationsrate in Deutschland?")
    assert ans.abstained and ans.text == REFUSAL["de"], (ans.raw_text, ans.notes)
    assert not re.search(r"\d", ans.text)
    ans = assistant.ask("What is the inflation rate in Germany?")
    assert ans.abstained and ans.text == REFUSAL["en"], (ans.raw_text, ans.notes)


def test_follow_up_is_resolved(assistant):
    history = [Turn("Was versprach Trump der Ukraine?", "Trump versprach der Ukraine sehr guten Schutz [1].")]
    ans = assistant.ask("Und was sagte Selenskyj dazu?", history)
    assert ans.standalone_question != ans.question
    # the rewritten question (or the fallback) carries the conversation's subject into retrieval
    assert re.search(r"Schutz|Sicherheit|Ukraine|Trump", ans.standalone_question), ans.standalone_question
    assert any(re.search(r"Zelenskyy|Selenskyj", h.text) for h in ans.passages)
    assert_citations_valid(ans)


def test_streaming_reports_time_to_first_token(assistant):
    events = list(assistant.stream("Wer ist NATO-Generalsekretär?"))
    assert events[0].kind == "passages" and events[-1].kind == "answer"
    ans = events[-1].answer
    assert "first_token_s" in ans.timings and ans.timings["total_s"] >= ans.timings["first_token_s"]
    # the article names him ("Auch NATO-Generalsekretär Mark Rutte wird an dem Treffen teilnehmen"), and
    # the 0.5B model says so: "NATO-Generalsekretär Mark Rutte wird an dem Treffen teilnehmen [2]."
    assert not ans.abstained and "Rutte" in ans.text, (ans.text, ans.raw_text, ans.notes)
    assert_citations_valid(ans)


def test_token_judge_gives_the_same_probability_after_an_answer_overwrote_the_context(small_gguf, small_llm):
    """The judge restores its saved prefix (system text, demonstrations) after an answer was written
    in between; the probability must be exactly what it was before the answer, and what a fresh model
    computes up to float noise (llama.cpp's sums differ with how the prompt was split into batches:
    0.558 against 0.547 was seen on the CI machine, while a broken restore gives another number)."""
    from assistant.backends.llamacpp import LlamaCppChat

    head = [{"role": "system", "content": "Answer Yes or No."},
            {"role": "user", "content": "Passage: Es regnet.\nClaim: It is raining."}, {"role": "assistant", "content": "Yes"}]
    ask = [*head, {"role": "user", "content": "Passage: Trump traf Putin in Alaska.\nClaim: Trump met Putin in Alaska."}]
    fresh = LlamaCppChat(small_gguf, n_ctx=2048).yes_probability(ask)
    first = small_llm.yes_probability(ask)
    list(small_llm.stream([{"role": "user", "content": "Sag Hallo."}], max_tokens=4, temperature=0.0))
    again = small_llm.yes_probability(ask)  # the context now holds another prompt: the head is restored
    other = small_llm.yes_probability([*head, {"role": "user", "content": "Passage: Es schneit.\nClaim: Trump met Putin."}])
    assert abs(again - first) < 1e-6, (first, again)
    assert abs(first - fresh) < 0.03, (fresh, first)
    assert fresh > 0.5 > other, (fresh, other)


def test_the_answer_prompt_cost_is_reported_and_the_cached_prefix_is_not_paid_again(assistant):
    """The first question of a language pays its system prompt and demonstrations; the next one only
    its passages and question (the prefix comes from the prompt cache). The counts are the model's."""
    assistant.chain.warm_up()
    first = assistant.ask("Wo traf Trump Putin am Freitag?").timings
    second = assistant.ask("Wer ist NATO-Generalsekretär?").timings
    for t in (first, second):
        assert 0 < t["new_prompt_tokens"] < t["prompt_tokens"], t
        assert 0 < t["prompt_eval_s"] < t["first_token_s"] <= t["generated_s"] <= t["total_s"], t
        assert t["passages_s"] < t["first_token_s"], t
    # the system prompt and demonstrations came from the cache: the question paid for less than half
    assert second["new_prompt_tokens"] < second["prompt_tokens"] / 2, second


def test_two_judges_keep_their_own_saved_prefix(small_llm):
    """The support judge and the answers-the-question judge have different fixed prefixes. Each is
    evaluated once and restored afterwards: asking them in turn gives each one's first probability
    exactly, not a re-evaluation (and not the other judge's state)."""
    head_a = [{"role": "system", "content": "Does the passage state the claim? Answer Yes or No."}]
    head_b = [{"role": "system", "content": "Does the answer answer the question? Answer Yes or No."},
              {"role": "user", "content": "Question: Wo regnet es?\nAnswer: In Bonn."}, {"role": "assistant", "content": "Yes"}]
    ask_a = [*head_a, {"role": "user", "content": "Passage: Trump traf Putin in Alaska.\nClaim: Trump met Putin in Alaska."}]
    ask_b = [*head_b, {"role": "user", "content": "Question: Wo traf Trump Putin?\nAnswer: Die Inflation steigt."}]
    first_a, first_b = small_llm.yes_probability(ask_a), small_llm.yes_probability(ask_b)
    list(small_llm.stream([{"role": "user", "content": "Sag Hallo."}], max_tokens=4, temperature=0.0))
    again_b, again_a = small_llm.yes_probability(ask_b), small_llm.yes_probability(ask_a)
    assert abs(again_a - first_a) < 1e-6 and abs(again_b - first_b) < 1e-6, (first_a, again_a, first_b, again_b)
    # two prompts, two answers (a judge handed the other's saved state would repeat its probability);
    # whether the 0.5B model judges these well is the checker set's question, not this test's
    assert abs(first_a - first_b) > 1e-6, (first_a, first_b)


def test_loading_leaves_llama_cpp_defaults_as_they_were(small_gguf):
    """``load_llama`` adjusts llama.cpp's default model parameters only while it loads (on AMX CPUs it
    turns off the extra weight buffers whose AMX matrix multiply crashes); the model then evaluates."""
    import llama_cpp.llama_cpp as lib

    from assistant.backends.llamacpp import load_llama

    before = lib.llama_model_default_params
    llm = load_llama(small_gguf, n_ctx=256, n_threads=2, n_batch=64, verbose=False)
    assert lib.llama_model_default_params is before and lib.llama_model_default_params().use_extra_bufts
    llm.eval(llm.tokenize(b"Trump traf Putin in Alaska.", add_bos=True))
    assert llm.n_tokens > 0
