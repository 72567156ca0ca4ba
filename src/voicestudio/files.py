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


# A voicebank travels to Windows (UTAU), so every name we create must be a valid Windows file name.
WINDOWS_FORBIDDEN_CHARS = frozenset('<>:"/\\|?*') | frozenset(chr(code) for code in range(32))
WINDOWS_DEVICE_NAMES = frozenset(
    ["CON", "PRN", "AUX", "NUL"] + [f"COM{n}" for n in range(1, 10)] + [f"LPT{n}" for n in range(1, 10)]
)


def windows_forbidden_chars(name: str) -> list[str]:
    """The characters of one file-name part that Windows refuses, sorted, each once."""
    return sorted({char for char in name if char in WINDOWS_FORBIDDEN_CHARS})


def is_windows_device_name(name: str) -> bool:
    """Whether Windows reserves `name` for a device (CON, COM1.wav, …), whatever its extension."""
    return name.split(".")[0].rstrip(" ").upper() in WINDOWS_DEVICE_NAMES
