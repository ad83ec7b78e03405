"""Prompt files: every shipped one loads with the variables its purpose needs, and a malformed one
fails with one line naming the file."""

import pytest

from assistant.errors import ConfigError
from assistant.stages.prompts import REQUIRED, load_prompt, parse_prompt, prompt_folder


def test_every_shipped_prompt_file_loads_with_its_variables():
    names = sorted(f.name for f in prompt_folder().iterdir() if f.name.endswith(".txt"))
    assert {"answer.default.de.txt", "verify.en.txt", "answers.en.txt"} <= set(names)
    for name in names:
        parts = name.removesuffix(".txt").split(".")
        purpose, lang = parts[0], parts[-1]
        prompt = load_prompt(purpose, lang, variant=parts[1] if len(parts) == 3 else "default")
        assert prompt.system and prompt.user, name
        assert f"{{{sorted(REQUIRED[purpose])[0]}}}" in prompt.user, name
    # the judges' demonstrations sit in the cached prefix: a yes/no answer each
    for purpose in ("verify", "answers"):
        assert {a for _, a in load_prompt(purpose, "en").examples} == {"Yes", "No"}


def test_a_prompt_without_its_variables_is_refused_naming_the_file():
    with pytest.raises(ConfigError, match=r"^verify.en.txt: required variables: claim, evidence; the file has: claim$"):
        parse_prompt("[system]\nS.\n\n[user]\nClaim: {claim}\n", name="verify.en", purpose="verify", where="verify.en.txt")


def test_examples_come_in_pairs_and_the_user_section_last():
    with pytest.raises(ConfigError, match="examples must come as"):
        parse_prompt("[system]\nS.\n\n[example.user]\nA\n\n[user]\n{context} {question}\n", name="a",
                     purpose="answer", where="a.txt")
    with pytest.raises(ConfigError, match="one \\[user\\] section last"):
        parse_prompt("[system]\nS.\n\n[user]\n{context} {question}\n\n[example.user]\nA\n", name="a",
                     purpose="answer", where="a.txt")
