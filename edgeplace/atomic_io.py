"""Atomic file writes: a temporary file in the target's directory, then ``os.replace``.

Readers see the old file or the new one, never a partial write; a failed write leaves no
temporary file behind.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

FILE_MODE = 0o644  # mkstemp creates files 0o600; results and checkpoints are meant to be shared
DIR_MODE = 0o755  # likewise mkdtemp's 0o700


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (creating the parent directory if needed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(handle, FILE_MODE)
        with os.fdopen(handle, "wb") as tmp:
            tmp.write(data)
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def write_text_atomic(path: Path, text: str) -> None:
    """Write UTF-8 ``text`` to ``path`` atomically."""
    write_bytes_atomic(path, text.encode("utf-8"))


def write_directory_atomic(path: Path, fill: Callable[[Path], None]) -> Path:
    """Create the directory ``path`` atomically: ``fill`` writes its contents into a hidden temporary
    sibling, which then replaces ``path`` (an existing one is removed first). A failure leaves no
    temporary directory behind and ``path`` as it was. Returns ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}."))
    try:
        staging.chmod(DIR_MODE)
        fill(staging)
        if path.exists():
            shutil.rmtree(path)
        os.replace(staging, path)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return path
