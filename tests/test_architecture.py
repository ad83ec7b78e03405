"""The design holds: imports point one way, nothing edits sys.path, and the built wheel works on its
own, outside the checkout (prompts, templates and the eval/bench commands ship inside it)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from tests.conftest import MODEL_CACHE, REPO, SEEDS

BIN = Path(sys.executable).parent
SOURCE_DIRS = ["assistant", "vectorstore", "evals", "benchmarks", "tests", "prompts"]


def test_import_contract_layers():
    """evals/benchmarks -> assistant -> vectorstore, and inside assistant/ the CLI -> serving -> the
    facade -> stages -> verify/backends -> settings/types/errors, never upward (pyproject.toml
    [tool.importlinter])."""
    out = subprocess.run([str(BIN / "lint-imports"), "--no-cache"], cwd=REPO, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "2 kept, 0 broken" in out.stdout


def test_no_sys_path_tricks():
    offenders = [
        f"{p.relative_to(REPO)}:{i}"
        for d in SOURCE_DIRS
        for p in (REPO / d).rglob("*.py")
        for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"sys\.path\.(insert|append|extend)|sys\.path\s*[+]?=", line) and "re.search" not in line
    ]
    assert offenders == []


@pytest.fixture(scope="module")
def fresh_venv(tmp_path_factory):
    """The wheel built from this checkout, installed without its dependencies into a new venv that
    borrows the test environment's site-packages for them (read-only, via a .pth file; the editable
    install's own hook is not loaded there). So what runs is the wheel, not the source tree."""
    root = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(root / "dist"), str(REPO)],
                   check=True, capture_output=True, text=True)
    wheel = next((root / "dist").glob("newsqa-*.whl"))
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    purelib = Path(subprocess.run([str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                  check=True, capture_output=True, text=True).stdout.strip())
    (purelib / "borrowed-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)],
                   check=True, capture_output=True, text=True)
    return venv, wheel


def _run(venv: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSQA_")}
    return subprocess.run([str(venv / "bin" / args[0]), *args[1:]], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


@pytest.mark.e2e
def test_wheel_carries_prompts_templates_and_commands(fresh_venv, tmp_path):
    venv, wheel = fresh_venv
    import zipfile

    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"assistant/prompt_files/answer.default.de.txt", "assistant/prompt_files/condense.en.txt", "evals/seed.jsonl"} <= names
    assert any(n.startswith("assistant/serving/ui/templates/") for n in names)
    probe = _run(venv, "python", "-c",
                 "import assistant, evals; from assistant.stages.prompts import load_prompt; "
                 "print(assistant.__file__); print(evals.__file__); print(load_prompt('answer', 'de').id)", cwd=tmp_path)
    assert probe.returncode == 0, probe.stderr
    lines = probe.stdout.split()
    assert all(str(venv) in line for line in lines[:2]), lines  # imported from the wheel, not the checkout
    assert lines[2].startswith("answer.default.de@")
    for command in ("eval", "bench"):
        help_run = _run(venv, "assistant", command, "--help", cwd=tmp_path)
        assert help_run.returncode == 0, help_run.stderr
        assert "usage" in help_run.stdout.lower()


@pytest.mark.e2e
@pytest.mark.models
def test_wheel_ingests_and_searches_outside_the_checkout(fresh_venv, tmp_path):
    venv, _ = fresh_venv
    opts = ["--index-dir", str(tmp_path / "index"), "--cache-dir", str(MODEL_CACHE)]
    ingest = _run(venv, "assistant", "ingest", str(SEEDS), "--quiet", *opts, cwd=tmp_path)
    assert ingest.returncode == 0, ingest.stderr
    assert re.search(r"added 1, .*failed 0", ingest.stdout), ingest.stdout
    search = _run(venv, "assistant", "search", "Wo traf Trump Putin?", "--json", "-k", "3", *opts, cwd=tmp_path)
    assert search.returncode == 0, search.stderr
    import json

    hits = json.loads(search.stdout)
    assert len(hits) == 3 and any("Anchorage" in h["text"] for h in hits)
