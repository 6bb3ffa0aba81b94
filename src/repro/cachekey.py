"""One cache-key scheme for every stage, and the reasons a cached result is stale.

A key is a flat mapping of named parts, each a short hash (``str -> str``):

- ``code``: the stage's modules and library versions (:func:`repro.fingerprint.code_hash`),
  in every key;
- then what the stage reads: ``config`` (a run's configuration), ``eval`` (the evaluation
  settings), ``model`` / ``snapshots`` (a run's weights), ``context`` (an evaluation
  context), ``settings`` (a stage's arguments), and ``file:<name>`` for each input file
  (its name relative to the results folder).

A result records the key it was made under (``run.json``, ``metrics.json``, a baselines
entry, a study's evaluation, ``cache/stages.json``). It is reused when the recorded key
equals the current one, and :func:`changes` says which parts differ, so ``reproduce
--dry-run`` can say why a stage would run.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from repro.fingerprint import code_hash
from repro.io import has_valid_content_hash, read_json

Key = dict[str, str]

# What a changed part means, for the reasons a stale result is redone.
_MEANING = {
    "code": "code or library versions changed",
    "config": "configuration changed",
    "eval": "evaluation settings changed",
    "model": "model changed",
    "snapshots": "weight snapshots changed",
    "context": "evaluation context changed",
    "settings": "settings changed",
}


def make(stage: str, modules: tuple[str, ...] = (), **parts: str) -> Key:
    """The key of a result of ``stage``: its code's hash (with the ``modules`` it reaches by
    name, such as a run's method module) and ``parts``."""
    return {
        "code": code_hash(stage, extra=tuple(modules)) if modules else code_hash(stage),
        **parts,
    }


def of_value(value: Any) -> str:
    """sha256 (16 hex digits) of ``value``'s canonical JSON (a dict, list, str or number)."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def of_file(path: Path) -> str:
    """sha256 (16 hex digits) of the file's bytes."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]


def of_files(paths: Iterable[Path], root: Path) -> Key:
    """``file:<name>`` parts, one per existing file, named relative to ``root`` (so a key
    does not depend on where the results folder lies; a file outside it by its name)."""
    out = {}
    for p in paths:
        name = str(p.relative_to(root)) if p.is_relative_to(root) else p.name
        out[f"file:{name}"] = of_file(p)
    return dict(sorted(out.items()))


def digest(key: Mapping[str, str]) -> str:
    """One hash (16 hex digits) for a whole key (a checkpoint records only this)."""
    return of_value(dict(key))


def changes(stored: Any, current: Mapping[str, str]) -> list[str]:
    """Why a result made under ``stored`` is not valid under ``current``, one reason per
    differing part, in ``current``'s order (files last); [] when they are equal."""
    if not isinstance(stored, Mapping):
        return ["never made (or its record is unreadable)"]
    reasons, files = [], []
    for name in dict.fromkeys([*current, *stored]):
        if stored.get(name) == current.get(name):
            continue
        if not name.startswith("file:"):
            reasons.append(_MEANING.get(name, f"{name} changed"))
        elif name not in stored:
            files.append(f"{name[5:]} is new")
        elif name not in current:
            files.append(f"{name[5:]} is gone")
        else:
            files.append(f"{name[5:]} changed")
    return reasons + files


def stale_result(path: Path, key: Callable[[], Key]) -> list[str]:
    """Why the JSON result at ``path`` (a content hash and the ``key`` it was made under)
    must be (re)made: [] when it is intact and ``key()`` is unchanged. ``key()`` raising
    ValueError or KeyError means what it is made from (a finished run) is not there."""
    try:
        current = key()
    except (ValueError, KeyError):
        return ["its run is not trained"]
    if not path.exists():
        return ["not evaluated"]
    try:
        old = read_json(path)
    except ValueError:
        return [f"{path.name} is unreadable"]
    if not has_valid_content_hash(old):
        return [f"{path.name} is damaged (content hash)"]
    return changes(old.get("key"), current)
