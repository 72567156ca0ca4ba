"""Files the studio can always make again (pictures, example audio), kept under the data folder."""

import os
import uuid
from pathlib import Path


def read_cached(path: Path) -> bytes | None:
    """The cached file's bytes, or None when it is not there (yet)."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def write_cached(path: Path, data: bytes) -> None:
    """Store `data` at `path` through a uniquely named temporary file, so two writers never collide."""
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(f"{path.name}.{uuid.uuid4().hex[:8]}.part")
    try:
        part.write_bytes(data)
        os.replace(part, path)
    finally:
        part.unlink(missing_ok=True)
