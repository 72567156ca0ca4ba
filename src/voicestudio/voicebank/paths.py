"""File names inside a voicebank: which are safe to write on every system, and which would escape a folder.

A voicebank travels from Linux servers to Windows (UTAU) and macOS (OpenUTAU), so a name we write
must be a valid Windows file name too. OpenUTAU's installer skips any zip entry whose name contains
"..", so no name we write contains it.
"""

import re
from typing import Final

from voicestudio.files import WINDOWS_FORBIDDEN_CHARS, is_windows_device_name, windows_forbidden_chars

_DRIVE: Final = re.compile(r"^[A-Za-z]:")
FALLBACK_FOLDER_NAME: Final = "voicebank"


def bank_folder_name(name: str) -> str:
    """The folder a bank unpacks into: its name with what Windows forbids replaced by "_"."""
    chars = ["_" if c in WINDOWS_FORBIDDEN_CHARS else c for c in name.strip()]
    folder = "".join(chars)
    while ".." in folder:
        folder = folder.replace("..", ".")
    folder = folder.rstrip(". ").lstrip(" ")
    if not folder or folder == ".":
        return FALLBACK_FOLDER_NAME
    stem, dot, rest = folder.partition(".")
    if is_windows_device_name(stem):
        folder = f"{stem}_{dot}{rest}"
    return folder


def bank_file_problem(relative_name: str) -> str | None:
    """Why a file name an oto entry refers to cannot go into a voicebank, or None when it can.

    Names are relative, "/" separates folders, and every part must be a valid Windows file name.
    """
    if not relative_name:
        return "is empty"
    if "\\" in relative_name:
        return "uses '\\'; separate folders with '/'"
    if relative_name.startswith("/") or _DRIVE.match(relative_name):
        return "is an absolute path; name the file relative to the recordings folder"
    if ".." in relative_name:
        return "contains '..', which voicebank installers refuse"
    for part in relative_name.split("/"):
        if not part or part == ".":
            return "has an empty folder name"
        bad = windows_forbidden_chars(part)
        if bad:
            shown = " ".join(repr(c) for c in bad)
            return f"contains {shown}, which Windows does not allow in file names"
        if part != part.rstrip(". "):
            return "has a name ending in '.' or ' ', which Windows drops"
        if is_windows_device_name(part):
            return f"uses {part.split('.')[0]!r}, a name Windows reserves for devices"
    return None


def archive_member_problem(name: str) -> str | None:
    """Why a zip entry name would write outside the folder it is extracted into, or None when it is safe.

    `name` is the decoded entry name; "\\" counts as a separator, as Windows tools and OpenUTAU read it.
    """
    if "\x00" in name:
        return "contains a NUL character"
    path = name.replace("\\", "/")
    if path.startswith("/"):
        return "is an absolute path"
    if _DRIVE.match(path):
        return "starts with a drive letter"
    if any(part == ".." for part in path.split("/")):
        return "climbs out of its folder with '..'"
    return None


def normalize_member_name(name: str) -> str:
    """A safe entry name as a relative POSIX path: "\\" → "/", empty and "." parts dropped."""
    parts = [part for part in name.replace("\\", "/").split("/") if part not in ("", ".")]
    return "/".join(parts)
