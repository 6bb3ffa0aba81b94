"""Atomic writes: a writer that dies mid-way leaves the old file intact and no litter."""

import json
import os

import pytest

from repro.io import (
    atomic_write_bytes,
    has_valid_content_hash,
    read_json,
    with_content_hash,
    write_json,
)


def test_crash_during_write_keeps_old_file(tmp_path, monkeypatch):
    path = tmp_path / "metrics.json"
    atomic_write_bytes(path, b"old complete content")

    def crash(fd):
        raise OSError("disk died")

    monkeypatch.setattr(os, "fsync", crash)
    with pytest.raises(OSError, match="disk died"):
        atomic_write_bytes(path, b"new content that never lands")
    assert path.read_bytes() == b"old complete content"
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.json"]  # no temporary left


def test_json_refuses_nan_and_reports_bad_files(tmp_path):
    with pytest.raises(ValueError):
        write_json(tmp_path / "x.json", {"a": float("nan")})
    assert not (tmp_path / "x.json").exists()
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ValueError, match="bad.json"):
        read_json(tmp_path / "bad.json")
    with pytest.raises(ValueError, match="missing.json"):
        read_json(tmp_path / "missing.json")


def test_content_hash_catches_an_edited_number():
    doc = with_content_hash({"spearman": 0.81, "n": 10})
    assert has_valid_content_hash(doc)
    edited = json.loads(json.dumps(doc).replace("0.81", "0.91"))
    assert not has_valid_content_hash(edited)
    assert not has_valid_content_hash({"spearman": 0.81})
