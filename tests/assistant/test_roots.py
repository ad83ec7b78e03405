"""Server paths for the UI's ingest: only inside ``ui.ingest_roots``, symlinks followed, and never
the index, the accounts or the audit log."""

from __future__ import annotations

import os

import pytest

from assistant.errors import AccessDeniedError
from assistant.serving.roots import OFF, allowed_path


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / "allowed"
    (root / "news").mkdir(parents=True)
    (root / "news" / "a.md").write_text("---\ntitle: A\n---\nText.\n")
    private = tmp_path / "private"
    private.mkdir()
    (private / "passwort.md").write_text("Das Passwort lautet Zebra-Lampe-4711.\n")
    return root, private


def test_without_roots_server_paths_are_off(tree):
    root, _ = tree
    with pytest.raises(AccessDeniedError) as e:
        allowed_path(root / "news", [])
    assert str(e.value) == OFF and "ui.ingest_roots (NEWSQA_UI__INGEST_ROOTS)" in OFF


def test_inside_a_root_is_accepted_resolved(tree):
    root, _ = tree
    assert allowed_path(str(root / "news" / ".." / "news"), [root]) == (root / "news").resolve()
    assert allowed_path(root, [root]) == root.resolve()


@pytest.mark.parametrize("how", ["outside", "dotdot", "relative", "missing-outside"])
def test_paths_outside_the_roots_are_refused(tree, how, monkeypatch):
    root, private = tree
    monkeypatch.chdir(root)
    path = {
        "outside": private,
        "dotdot": root / ".." / "private",
        "relative": "news",
        "missing-outside": private / "nothing-here",
    }[how]
    with pytest.raises(AccessDeniedError, match="ui.ingest_roots"):
        allowed_path(path, [root])


def test_a_missing_path_inside_a_root_is_named_as_missing(tree):
    root, _ = tree
    with pytest.raises(AccessDeniedError, match="no such file or folder inside ui.ingest_roots"):
        allowed_path(root / "nothing-here", [root])


def test_symlinks_escaping_a_root_are_refused(tree):
    root, private = tree
    (root / "link-to-private").symlink_to(private, target_is_directory=True)
    with pytest.raises(AccessDeniedError, match="not inside ui.ingest_roots"):
        allowed_path(root / "link-to-private", [root])
    # a link to a file outside, inside an allowed folder: the folder is refused, naming the link
    os.unlink(root / "link-to-private")
    (root / "news" / "notiz.md").symlink_to(private / "passwort.md")
    with pytest.raises(AccessDeniedError, match="notiz.md points outside ui.ingest_roots"):
        allowed_path(root / "news", [root])
    with pytest.raises(AccessDeniedError, match="not inside"):
        allowed_path(root / "news" / "notiz.md", [root])


def test_a_root_given_through_a_symlink_counts_by_its_target(tree, tmp_path):
    root, _ = tree
    (tmp_path / "alias").symlink_to(root, target_is_directory=True)
    assert allowed_path(tmp_path / "alias" / "news", [tmp_path / "alias"]) == (root / "news").resolve()


def test_the_index_accounts_and_audit_log_are_never_ingested(tree):
    root, _ = tree
    index = root / "index"
    index.mkdir()
    (index / "users.json").write_text('{"users": {}}')
    never = [index, index / "users.json", index / "audit.jsonl"]
    for path in (index, index / "users.json", root):
        with pytest.raises(AccessDeniedError, match="never ingested"):
            allowed_path(path, [root], never)
    assert allowed_path(root / "news", [root], never) == (root / "news").resolve()
