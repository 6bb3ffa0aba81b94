"""Atomic file writes and JSON helpers: a reader never sees a half-written file."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from repro.errors import BadInput


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path``, fsync it, then rename over ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; results are meant to be shared
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def dump_json(obj: Any) -> str:
    """Stable JSON: sorted keys, 2-space indent, NaN/inf refused."""
    return json.dumps(obj, indent=2, sort_keys=True, allow_nan=False) + "\n"


def write_json(path: Path, obj: Any) -> None:
    atomic_write_text(path, dump_json(obj))


def read_json(path: Path) -> Any:
    """Read JSON; ValueError naming the file if it is missing or not valid JSON."""
    path = Path(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BadInput(f"{path} does not exist") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise BadInput(f"{path} is not valid JSON ({e})") from None
    except RecursionError:
        raise BadInput(f"{path} nests too deeply to be read") from None
    except ValueError as e:  # an integer of more than 4,300 digits
        raise BadInput(f"{path} holds a value Python will not read ({str(e)[:80]})") from None


def with_content_hash(obj: dict) -> dict:
    """``obj`` plus a ``sha256`` of its canonical JSON (the ``sha256`` key itself left out)."""
    body = {k: v for k, v in obj.items() if k != "sha256"}
    return {**body, "sha256": hashlib.sha256(dump_json(body).encode()).hexdigest()}


def has_valid_content_hash(obj: Any) -> bool:
    """True when ``obj`` is a dict whose ``sha256`` matches its content (nothing edited)."""
    return isinstance(obj, dict) and "sha256" in obj and with_content_hash(obj) == obj
