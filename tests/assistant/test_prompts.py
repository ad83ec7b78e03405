"""Prompt files: the shipped ones load, malformed ones fail with one line naming the file, and the
judge's two questions share one head, so the second question reuses the first's prompt state."""

import pytest

from assistant.errors import ConfigError
from assistant.prompts import load_prompt, parse_prompt, prompt_folder

HEAD = "[system]\nAnswer Yes or No.\n\n[example.user]\nPassage: A.\nClaim: A.\n\n[example.assistant]\nYes\n\n"


def test_every_shipped_prompt_file_loads():
    names = sorted(f.name for f in prompt_folder().iterdir() if f.name.endswith(".txt"))
    assert "judge.en.txt" in names and "answer.default.de.txt" in names
    for name in names:
        purpose, *_, lang, _ = name.split(".")
        prompt = load_prompt(purpose, lang, variant=name.split(".")[1] if name.count(".") == 3 else "default")
        assert prompt.system and (prompt.user or prompt.users), name


def test_the_judge_questions_share_one_head_and_start_with_the_passage():
    judge = load_prompt("judge", "en")
    assert set(judge.users) == {"support", "answers"} and not judge.user
    assert len(judge.examples) >= 20
    for template in judge.users.values():
        assert template.startswith("Passage: {evidence}\n")
    kinds = {ex_user.splitlines()[-1] for ex_user, _ in judge.examples}
    assert kinds == {"Does the passage state the claim?", "Does the answer give what the question asks?"}


def test_a_judge_file_without_one_of_its_questions_is_refused_naming_the_file():
    text = HEAD + "[user.support]\nPassage: {evidence}\nClaim: {claim}\n"
    with pytest.raises(ConfigError, match=r"^judge.en.txt: needs \[user.support\], \[user.answers\] sections"):
        parse_prompt(text, name="judge.en", purpose="judge", where="judge.en.txt")


def test_a_named_section_with_the_wrong_variables_is_refused():
    text = HEAD + ("[user.support]\nPassage: {evidence}\nClaim: {claim}\n\n"
                   "[user.answers]\nPassage: {evidence}\nAnswer: {answer}\n")
    with pytest.raises(ConfigError, match=r"required variables of \[user.answers\]: answer, evidence, question; "
                                          r"the file has: answer, evidence"):
        parse_prompt(text, name="judge.en", purpose="judge", where="judge.en.txt")


def test_an_answer_prompt_keeps_exactly_one_user_section():
    text = "[system]\nS.\n\n[user.x]\n{context} {question}\n"
    with pytest.raises(ConfigError, match="one \\[user\\] section last"):
        parse_prompt(text, name="answer.default.de", purpose="answer", where="answer.default.de.txt")
    ok = parse_prompt("[system]\nS.\n\n[user]\n{context} {question}\n", name="a", purpose="answer", where="a")
    assert ok.user == "{context} {question}" and ok.users == {}
