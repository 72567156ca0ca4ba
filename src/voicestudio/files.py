"""Writing files so that no reader ever sees half of one."""

import os
from pathlib import Path


def part_path(path: Path) -> Path:
    """The temporary name a file is written under before it is renamed into place."""
    return path.with_name(path.name + ".part")


def write_bytes_atomic(path: str | os.PathLike[str], data: bytes) -> None:
    """Write `path.part`, flush it to disk, then rename it over `path`; a failure leaves no `.part` behind.

    Raises OSError as the system reports it; callers turn it into a message for the user.
    """
    target = Path(path)
    part = part_path(target)
    try:
        with part.open("wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(part, target)
    finally:
        part.unlink(missing_ok=True)
