"""Checkpoints on disk: atomic saves, reading their step back, and fetching a base checkpoint by sha256."""

import hashlib
import os
import re
import shutil
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from voicestudio.files import part_path
from voicestudio.neural.errors import BaseCheckpointError
from voicestudio.neural.model import hyperparameters_of, load_checkpoint_dict, step_of
from voicestudio.neural.values import BaseCheckpoint, Checkpoint

_SHA256 = re.compile(r"[0-9a-f]{64}")
_CHUNK_BYTES = 1 << 20
_TIMEOUT_S = 60.0


def read_checkpoint(path: Path) -> Checkpoint:
    """The step and epoch a checkpoint file holds."""
    contents = load_checkpoint_dict(path)
    return Checkpoint(path, step_of(contents), int(contents.get("epoch", 0)), path.stat().st_size)


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB pieces."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def fetch_base_checkpoint(base: BaseCheckpoint, cache_dir: Path) -> Path:
    """A local file with the base checkpoint's exact bytes: the path itself, or a download kept by sha256.

    A download is streamed to a `.part` file and renamed into `cache_dir` only when its sha256
    matches; a mismatch keeps nothing and raises BaseCheckpointError.
    """
    expected = base.sha256.strip().lower()
    if not _SHA256.fullmatch(expected):
        raise BaseCheckpointError.bad_sha256(base.sha256)
    if not base.is_url:
        path = Path(base.location).expanduser()
        if not path.is_file():
            raise BaseCheckpointError.missing(path)
        actual = sha256_of(path)
        if actual != expected:
            raise BaseCheckpointError.mismatch(base.location, expected, actual)
        return path

    cached = Path(cache_dir) / f"{expected}.ckpt"
    if cached.is_file():
        return cached
    cached.parent.mkdir(parents=True, exist_ok=True)
    part = part_path(cached)
    try:
        actual = _download(base.location, part)
        if actual != expected:
            raise BaseCheckpointError.mismatch(base.location, expected, actual)
        os.replace(part, cached)
    finally:
        part.unlink(missing_ok=True)
    return cached


def _download(url: str, part: Path) -> str:
    """Stream `url` into `part`, returning the sha256 of what arrived."""
    digest = hashlib.sha256()
    try:
        with urllib.request.urlopen(url, timeout=_TIMEOUT_S) as response, part.open("wb") as out:
            while chunk := response.read(_CHUNK_BYTES):
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
    except urllib.error.HTTPError as exc:
        raise BaseCheckpointError.unreachable(url, f"the server answered {exc.code} {exc.reason}") from exc
    except urllib.error.URLError as exc:
        raise BaseCheckpointError.unreachable(url, str(exc.reason)) from exc
    except (OSError, ValueError) as exc:
        raise BaseCheckpointError.unreachable(url, str(exc)) from exc
    return digest.hexdigest()


def load_base_checkpoint(base: BaseCheckpoint, cache_dir: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """Fetch and read a base checkpoint: its hyper-parameters and its weights (no optimizer state)."""
    path = fetch_base_checkpoint(base, cache_dir)
    try:
        contents = load_checkpoint_dict(path)
        hyperparameters = hyperparameters_of(contents)
    except Exception as exc:  # torch and pickle raise many kinds for a file that is no checkpoint
        raise BaseCheckpointError.unreadable(base.location, _first_line(exc)) from exc
    state_dict = contents["state_dict"]
    if not isinstance(state_dict, dict):
        raise BaseCheckpointError.unreadable(base.location, "its weights are not a state dict")
    return hyperparameters, state_dict


def save_atomic(save: Any, path: Path) -> None:
    """Call `save(part_path)` (a checkpoint, an ONNX graph), flush it to disk, then rename over `path`."""
    part = part_path(path)
    try:
        save(part)
        with part.open("rb+") as f:
            os.fsync(f.fileno())
        os.replace(part, path)
    finally:
        if part.is_dir():
            shutil.rmtree(part, ignore_errors=True)
        part.unlink(missing_ok=True)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__
